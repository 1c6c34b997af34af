"""A small demo retailer, loaded once through the import path, and two of its customers.

The retailer (600 people) is generated, imported, resolved, given traits, events
by profile and the example segments once per session; each test works on a copy
of its analytical store and a fresh operational store (the ``ops`` fixture: SQLite
and PostgreSQL), where :func:`tests.privacy.seed.seed` writes consents, messages,
coupons, clicks, push subscriptions and audiences through messaging's own paths
where it has them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sen.demo import generate
from sen.demo.load import load
from sen.identity import resolver
from sen.segments import events, saved
from sen.segments.examples import save_examples
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.traits import runner

from .seed import Customer, choose, seed


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analytical store of a resolved demo retailer (a file to copy)."""
    out = tmp_path_factory.mktemp("retailer")
    generate(out, customers=600, seed=7)
    work = tmp_path_factory.mktemp("store")
    engine = DuckDBEngine(work / "sen.duckdb")
    ops = operational.connect(f"sqlite:///{work / 'ops.sqlite'}")
    try:
        load(out, engine, ops, quarantine_dir=work / "quarantine", timezone="Asia/Ho_Chi_Minh")
        resolver.rebuild(engine)
        runner.refresh(engine)
        events.rebuild(engine)
        save_examples(ops)
        saved.run_all(engine, ops)
        engine.execute("CHECKPOINT")
    finally:
        engine.close()
        ops.dispose()
    return work / "sen.duckdb"


@pytest.fixture
def store(demo_store: Path, tmp_path: Path) -> Iterator[DuckDBEngine]:
    """A copy of the demo store for one test."""
    path = tmp_path / "sen.duckdb"
    shutil.copy(demo_store, path)
    engine = DuckDBEngine(path)
    yield engine
    engine.close()


@pytest.fixture
def people(store: DuckDBEngine, ops: sa.Engine) -> tuple[Customer, Customer]:
    """Her (the customer who asks) and another customer, both with consents, messages,
    coupons, clicks, a browser subscribed to push and a campaign audience."""
    her, other = choose(store)
    seed(store, ops, her, other)
    return her.refresh(store), other.refresh(store)
