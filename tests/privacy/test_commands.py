"""``sen privacy export|erase``: on the stores directly, or through a running server."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sen.cli import app
from sen.config import Settings
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.web import create_app
from sen.web.api import privacy as privacy_api
from sen.web.tokens import create_token
from sen.web.users import create_user
from tests.support import serve_in_thread

from .support import digest


@pytest.fixture
def folder(demo_store: Path, tmp_path: Path) -> tuple[Path, str]:
    """A data folder holding a copy of the demo store, and a customer in it."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_store, data / "sen.duckdb")
    engine = DuckDBEngine(data / "sen.duckdb")
    try:
        pid = engine.scalar("SELECT profile_id FROM profiles WHERE records >= 2 AND phone IS "
                            "NOT NULL ORDER BY profile_id LIMIT 1")
    finally:
        engine.close()
    return data, pid


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["privacy", *args])
    return result.exit_code, result.output


def test_export_writes_a_zip_or_a_json_file(folder, tmp_path: Path) -> None:
    data, pid = folder
    code, out = _run("export", pid, "--out", str(tmp_path / "her.zip"), "--data-dir", str(data))
    assert code == 0, out
    with zipfile.ZipFile(tmp_path / "her.zip") as z:
        assert json.loads(z.read("personal-data.json"))["profile_id"] == pid
    code, _ = _run("export", pid, "-o", str(tmp_path / "her.json"), "--data-dir", str(data))
    assert code == 0 and json.loads((tmp_path / "her.json").read_bytes())["profile_id"] == pid
    code, out = _run("export", pid, "--out", str(tmp_path / "her.pdf"), "--data-dir", str(data))
    assert code == 2 and ".zip or .json" in out
    code, out = _run("export", "p_0000000000000000", "--out", str(tmp_path / "x.json"),
                     "--data-dir", str(data))
    assert code == 2 and "no profile" in out


def test_erase_needs_yes(folder) -> None:
    data, pid = folder
    engine = DuckDBEngine(data / "sen.duckdb")
    before = digest(engine)
    engine.close()
    code, out = _run("erase", pid, "--data-dir", str(data))
    assert code == 2 and "Nothing erased" in out and "--yes" in out
    engine = DuckDBEngine(data / "sen.duckdb")
    assert digest(engine) == before
    engine.close()
    code, out = _run("erase", pid, "--yes", "--data-dir", str(data))
    assert code == 0, out
    assert f"Erased {pid}" in out and "identity_observations" in out
    code, out = _run("erase", pid, "--yes", "--data-dir", str(data))
    assert code == 0 and "erased before" in out


def test_a_server_holding_the_store_is_named_with_what_to_do(folder, tmp_path: Path) -> None:
    data, pid = folder
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(data / "sen.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        code, out = _run("export", pid, "--out", str(tmp_path / "x.zip"), "--data-dir", str(data))
        assert code == 2 and "--server" in out and "--token" in out
        code, out = _run("erase", pid, "--yes", "--data-dir", str(data))
        assert code == 2 and "--server" in out
    finally:
        holder.kill()
        holder.wait()


def test_through_a_running_server(folder, tmp_path: Path) -> None:
    data, pid = folder
    settings = Settings(data_dir=data, secret_key="test-secret", identity_interval_s=0,
                        traits_interval_s=0, profile_events_interval_s=0,
                        segments_interval_s=0)
    ops = operational.connect(settings.operational_url)
    _, token = create_token(ops, create_user(ops, "hotline", "mật-khẩu-đủ-dài", "support"), "cli")
    _, weak = create_token(ops, create_user(ops, "mkt", "mật-khẩu-đủ-dài", "marketer"), "cli")
    ops.dispose()
    web = create_app(settings)
    if not any(getattr(r, "path", "").endswith("/erase") for r in web.routes):
        web.include_router(privacy_api.router)
    with serve_in_thread(web) as url:
        code, out = _run("export", pid, "--out", str(tmp_path / "her.zip"), "--server", url,
                         "--token", token)
        assert code == 0, out
        with zipfile.ZipFile(io.BytesIO((tmp_path / "her.zip").read_bytes())) as z:
            assert json.loads(z.read("personal-data.json"))["profile_id"] == pid
        code, out = _run("erase", pid, "--yes", "--server", url, "--token", weak)
        assert code == 2 and "admin or support" in out
        code, out = _run("erase", pid, "--yes", "--server", url)
        assert code == 2 and "SEN_TOKEN" in out
        code, out = _run("erase", pid, "--yes", "--server", url, "--token", token)
        assert code == 0 and f"Erased {pid}" in out, out
