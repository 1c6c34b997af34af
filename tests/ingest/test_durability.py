"""A 200 means the events survive the server dying at once (kill -9, no shutdown)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from tests.support import free_port

from sen.ingest.sources import create_source
from sen.store import operational

pytestmark = pytest.mark.slow


def test_acknowledged_events_survive_a_kill_9(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    ops = operational.connect(f"sqlite:///{(data / 'sen.sqlite').resolve()}")
    key = create_source(ops, "web", "web").write_key
    ops.dispose()
    port = free_port()
    sen = shutil.which("sen", path=str(Path(sys.executable).parent))
    assert sen, "the sen console script is not installed next to this Python"
    proc = subprocess.Popen([sen, "serve"], env={**os.environ, "SEN_DATA_DIR": str(data),
                                                 "SEN_PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.1)
        acknowledged = []
        with httpx.Client(base_url=url, auth=(key, "")) as client:
            for b in range(20):
                batch = [{"type": "track", "event": "Product Viewed", "userId": f"kh-{i}",
                          "messageId": f"durable-{b}-{i}"} for i in range(50)]
                assert client.post("/v1/batch", json={"batch": batch}).status_code == 200
                acknowledged += [e["messageId"] for e in batch]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    con = duckdb.connect(str(data / "sen.duckdb"))  # replays the write-ahead log
    stored = {r[0] for r in con.execute("SELECT message_id FROM events").fetchall()}
    con.close()
    assert stored == set(acknowledged)
