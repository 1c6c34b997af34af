"""Ingestion speed: the Segment-compatible HTTP API and bulk file import.

    python benchmarks/ingest.py --scale small|full

HTTP: wrk (C, one thread) posts `/v1/batch` bodies of 100 distinct events to a
real `sen serve` process on loopback, answered only after the group commit;
the same payloads go to a no-op FastAPI endpoint on the same server settings,
and the ratio of the two is what Sen's checks and durable storage cost.
Then a fixed, exact round (good events, bad events, retried batches) checks
that every event sent is either stored once or rejected with a reason.

Bulk: an NDJSON file of Segment events (with broken lines and repeats)
imported by `sen import`'s code path vs DuckDB's own load of the same file.
Ends with one line of JSON (figure names fixed in shared/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from _wrk import batch_body, run_wrk  # noqa: E402
from bulk_import import measure_bulk  # noqa: E402

SCALES = {
    "small": {"http_seconds": 5, "bulk_events": 200_000, "exact_batches": 40},
    "full": {"http_seconds": 20, "bulk_events": 5_000_000, "exact_batches": 400},
}
CONNECTIONS = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url + path, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _sen_server(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    """A `sen serve` process on a fresh data dir, and a write key for it."""
    from sen.ingest.sources import create_source
    from sen.store import operational

    ops = operational.connect(f"sqlite:///{(data_dir / 'sen.sqlite').resolve()}")
    key = create_source(ops, "bench", "server").write_key
    ops.dispose()
    port = _free_port()
    env = {**os.environ, "SEN_DATA_DIR": str(data_dir), "SEN_PORT": str(port)}
    sen = shutil.which("sen", path=str(Path(sys.executable).parent)) or "sen"
    proc = subprocess.Popen([sen, "serve"], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_up(url, proc)
    return proc, url, key


def _noop_server() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "_servers.py"), str(port)],
                            stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_up(url, proc, "/docs")
    return proc, url


def _exact_round(url: str, key: str, batches: int) -> dict[str, int]:
    """Fixed traffic with bad events and retries; the client counts what it sent."""
    template = json.loads(batch_body(10).replace("@MID@", "x"))["batch"][0]
    sent = rejected_by_api = 0
    with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as client:
        for b in range(batches):
            events = [{**template, "messageId": f"exact-{b}-{i}"} for i in range(100)]
            for bad in range(b % 4):  # some batches carry bad events
                events[bad * 7] = {"type": "track", "messageId": f"bad-{b}-{bad}"}
            body = {"batch": events}
            r = client.post("/v1/batch", json=body)
            r.raise_for_status()
            sent += len(events)
            rejected_by_api += len(r.json().get("rejected", []))
            if b % 10 == 0:  # a client retry of the same batch: must change nothing
                client.post("/v1/batch", json=body).raise_for_status()
    return {"sent": sent, "rejected_by_api": rejected_by_api}


def _counts(data_dir: Path, prefix: str) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(data_dir / "sen.duckdb"), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM events WHERE message_id LIKE ?",
                             [f"{prefix}%"]).fetchone()[0]
        # A retried batch quarantines its bad events again; each counts once.
        rejected = con.execute("SELECT count(DISTINCT payload) FROM quarantine "
                               "WHERE payload LIKE ?", ['%"bad-%']).fetchone()[0]
    finally:
        con.close()
    return stored, rejected


def measure_http(seconds: float, exact_batches: int, workdir: Path) -> dict[str, float]:
    data_dir = workdir / "http"
    data_dir.mkdir(parents=True)
    proc, url, key = _sen_server(data_dir)
    try:
        run_wrk(url, key, seconds=2, connections=CONNECTIONS)  # warm-up
        sen = run_wrk(url, key, seconds=seconds, connections=CONNECTIONS)
        exact = _exact_round(url, key, exact_batches)
    finally:
        _stop(proc)
    stored, rejected = _counts(data_dir, "exact-")
    noop_proc, noop_url = _noop_server()
    try:
        run_wrk(noop_url, key, seconds=2, connections=CONNECTIONS)
        noop = run_wrk(noop_url, key, seconds=seconds, connections=CONNECTIONS)
    finally:
        _stop(noop_proc)
    if sen["non_2xx"]:
        raise SystemExit(f"Sen answered {sen['non_2xx']} requests with an error")
    http = sen["requests"] * 100 / seconds
    noop_rate = noop["requests"] * 100 / seconds
    return {"http_events_per_s": round(http, 1), "http_noop_events_per_s": round(noop_rate, 1),
            "http_ratio_to_noop": round(http / noop_rate, 4), "http_p99_ms": sen["p99_ms"],
            "events_sent": exact["sent"], "events_stored": stored, "events_rejected": rejected,
            "events_rejected_reported": exact["rejected_by_api"]}


def _table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v:>16}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    with tempfile.TemporaryDirectory(prefix="sen-bench-ingest-") as tmp:
        work = Path(tmp)
        figures = measure_http(scale["http_seconds"], scale["exact_batches"], work)
        bulk = measure_bulk(scale["bulk_events"], work / "bulk")
        figures.update({k if k.startswith("bulk_") else f"bulk_{k}": v for k, v in bulk.items()})
    targets = {"http_events_per_s": 50_000, "bulk_ratio_to_native": 0.5}
    print(f"\nIngestion ({args.scale}, {os.cpu_count()} cores, load generator on the same cores)")
    print(_table([(k, f"{v:,.2f}" if isinstance(v, float) else f"{v:,}")
                  for k, v in figures.items()]))
    ok = figures["events_stored"] + figures["events_rejected"] == figures["events_sent"]
    print(f"  stored + rejected == sent: {'yes' if ok else 'NO'}")
    print(json.dumps({"benchmark": "ingest", "scale": args.scale,
                      "machine": {"cores": os.cpu_count()}, "figures": figures,
                      "targets": targets}))


if __name__ == "__main__":
    main()
