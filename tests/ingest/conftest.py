"""An ingestion app on real stores: a DuckDB analytical file and the operational
store on each backend (SQLite always, PostgreSQL when CI provides one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sen.ingest.http import router
from sen.ingest.sources import WriteKeys, create_source
from sen.ingest.writer import EventWriter
from sen.store import operational
from sen.store.analytics import DuckDBEngine


class IngestStack:
    """The parts the /v1 routes need, wired the way `sen serve` wires them."""

    def __init__(self, tmp: Path, ops_url: str) -> None:
        self.ops = operational.connect(ops_url)
        self.web = create_source(self.ops, "web", "web")
        self.app_source = create_source(self.ops, "app", "app")
        self.engine = DuckDBEngine(tmp / "sen.duckdb")
        self.writer = EventWriter(self.engine, flush_interval_ms=2).start()
        self.app = FastAPI()
        self.app.include_router(router)
        self.app.state.write_keys = WriteKeys(self.ops)
        self.app.state.writer = self.writer
        self.app.state.analytics = self.engine

    def client(self, write_key: str | None = None) -> httpx.AsyncClient:
        auth = (write_key, "") if write_key else None
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://sen.test", auth=auth)

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.engine.execute(sql, params).fetchall()

    def close(self) -> None:
        self.writer.stop()
        self.engine.close()
        self.ops.dispose()


@pytest.fixture
def stack(tmp_path: Path, ops_url: str) -> Iterator[IngestStack]:
    s = IngestStack(tmp_path, ops_url)
    yield s
    s.close()
