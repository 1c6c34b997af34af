"""A catcher server per test (receipts, replies), started on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sen.demo.sandbox import serve_in_thread
from tests.messaging.providers.support import Catcher


@pytest.fixture
def catcher() -> Iterator[tuple[Catcher, str]]:
    catcher = Catcher()
    with serve_in_thread(catcher.app()) as url:
        yield catcher, url
