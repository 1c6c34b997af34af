"""One small retailer per test session: generating it takes a few seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from sen.demo import Manifest, generate

CUSTOMERS = 10_000


@pytest.fixture(scope="session")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("retailer")
    return out, generate(out, customers=CUSTOMERS, seed=11)
