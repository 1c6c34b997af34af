"""Local Meta and Google Ads servers, one per test, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.segments.audiences.servers import GoogleAds, GoogleOAuth, MetaGraph
from tests.support import serve_in_thread


@pytest.fixture
def meta_server() -> Iterator[tuple[MetaGraph, str]]:
    graph = MetaGraph()
    with serve_in_thread(graph.app(), lifespan="off") as url:
        yield graph, url


@pytest.fixture
def google_server() -> Iterator[tuple[GoogleAds, str]]:
    ads = GoogleAds()
    with serve_in_thread(ads.app(), lifespan="off") as url:
        yield ads, url


@pytest.fixture
def google_oauth(google_server) -> Iterator[tuple[GoogleOAuth, str]]:  # noqa: ANN001
    """Google's token endpoint; the tokens it issues are valid on ``google_server``."""
    oauth = GoogleOAuth(ads=google_server[0])
    with serve_in_thread(oauth.app(), lifespan="off") as url:
        yield oauth, url + "/token"
