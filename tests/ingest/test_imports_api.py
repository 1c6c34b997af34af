"""POST /api/imports and `sen import`, end to end on a real store."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from sen.ingest.commands import import_app
from sen.ingest.imports_api import router
from sen.store.analytics import DuckDBEngine

EVENTS = "\n".join(json.dumps(e) for e in [
    {"type": "track", "event": "Product Viewed", "messageId": "a1", "anonymousId": "x"},
    {"type": "track", "messageId": "a2", "anonymousId": "x"},
]) + "\n"
MAPPING = """kind: products
source: erp
columns: {sku: "Mã", name: "Tên"}
"""


class InlineWriter:
    """Stands in for the event writer: runs the job at once, remembers imports."""

    def __init__(self) -> None:
        self.imported: list[str] = []

    def run_exclusive(self, fn):  # noqa: ANN001, ANN201
        return fn()

    def note_imported(self, load_id: str) -> None:
        self.imported.append(load_id)


@pytest.fixture
def app(tmp_path: Path):
    app = FastAPI()
    app.include_router(router)
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    app.state.analytics = engine
    app.state.writer = InlineWriter()
    app.state.settings = SimpleNamespace(quarantine_dir=tmp_path / "q",
                                         timezone="Asia/Ho_Chi_Minh")
    yield app
    engine.close()


async def post(app: FastAPI, **kw) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/api/imports", **kw)


@pytest.mark.anyio
async def test_events_upload(app):
    r = await post(app, files={"file": ("ev.ndjson", EVENTS.encode())},
                   data={"kind": "events", "source": "web"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows_in"], body["inserted"], body["rejected"]) == (2, 1, 1)
    assert app.state.writer.imported == [body["load_id"]]
    assert Path(body["quarantine_path"]).is_file()


@pytest.mark.anyio
async def test_mapping_upload_and_bad_mapping(app):
    csv = "Mã,Tên\nAT-01,Áo thun\n".encode()
    r = await post(app, files={"file": ("sp.csv", csv)}, data={"mapping": MAPPING})
    assert r.status_code == 200 and r.json()["inserted"] == 1
    bad = await post(app, files={"file": ("sp.csv", csv)},
                     data={"mapping": MAPPING.replace("sku:", "ma_hang:")})
    assert bad.status_code == 422 and "columns.ma_hang" in bad.json()["detail"]
    none = await post(app, files={"file": ("sp.csv", csv)})
    assert none.status_code == 422


@pytest.fixture
def anyio_backend():
    return "asyncio"


def cli() -> typer.Typer:
    return import_app


def test_cli_imports_and_warns_about_rejects(tmp_path):
    path = tmp_path / "ev.ndjson"
    path.write_text(EVENTS, encoding="utf-8")
    res = CliRunner().invoke(cli(), [str(path), "--kind", "events", "--source", "web",
                                     "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 0, res.output
    assert "inserted" in res.output and "1 rows were rejected" in res.output


def test_cli_exit_2_when_the_file_cannot_be_imported(tmp_path):
    res = CliRunner().invoke(cli(), [str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "--mapping" in res.output
    bad = tmp_path / "m.yaml"
    bad.write_text("kind: orders\nsource: pos\ncolumns: {order_id: A}\n", encoding="utf-8")
    res = CliRunner().invoke(cli(), [str(tmp_path / "x.csv"), "--mapping", str(bad),
                                     "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "columns.ordered_at" in res.output
