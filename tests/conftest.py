"""Fixtures shared by every test package. Keep this small: package fixtures belong
in the package's own conftest.

``ops_url`` runs a test once per operational-store backend: SQLite always, and
PostgreSQL when ``SEN_TEST_POSTGRES_URL`` points at a server (CI sets it; locally
``export SEN_TEST_POSTGRES_URL="$(bash scripts/pg-test-server.sh)"``). Each
PostgreSQL test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ENV = "SEN_TEST_POSTGRES_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``postgres`` when no server is configured."""
    if os.environ.get(PG_ENV):
        return
    skip = pytest.mark.skip(reason=f"{PG_ENV} is not set (see scripts/pg-test-server.sh)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _fresh_pg_database(base_url: str) -> tuple[str, sa.Engine, str]:
    name = f"sen_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    return url, admin, name


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ops_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty operational store, on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ops.sqlite'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url, admin, name = _fresh_pg_database(base)
    try:
        yield url
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def ops(ops_url: str) -> Iterator[sa.Engine]:
    """A migrated operational store on each backend."""
    from sen.store import operational

    engine = operational.connect(ops_url)
    yield engine
    engine.dispose()
