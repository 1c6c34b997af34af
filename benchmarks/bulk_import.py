"""Bulk import of Segment NDJSON: Sen's import vs DuckDB's own load of the same file.

Run: ``python benchmarks/bulk_import.py [EVENTS]``. ``measure_bulk`` returns the
figures for ``benchmarks/ingest.py``. The native load reads the same file with
``ignore_errors`` (the file has broken lines, which a plain load refuses).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import orjson

from sen.ingest.importer import events_mapping, import_file
from sen.store.analytics import DuckDBEngine

_EVENTS = ("Product Viewed", "Product Added", "Cart Viewed", "Checkout Started",
           "Order Completed")


def _event(j: int, base: datetime) -> bytes:
    ts = base + timedelta(seconds=j * 7)
    kind = "page" if j % 5 == 0 else "track"
    ev = {
        "type": kind, "messageId": f"m-{j:09d}", "anonymousId": f"a-{j % 300_000}",
        "userId": f"KH{j % 100_000:06d}" if j % 3 == 0 else None,
        "timestamp": ts.isoformat() + "Z", "sentAt": (ts + timedelta(seconds=2)).isoformat() + "Z",
        "receivedAt": (ts + timedelta(seconds=3)).isoformat() + "Z",
        "properties": {"product_id": f"SP{j % 5000:05d}", "price": 150_000 + (j % 40) * 10_000,
                       "currency": "VND", "category": "Áo thun", "variant": "Trắng / M"},
        "context": {"ip": "10.0.0.1", "locale": "vi-VN",
                    "library": {"name": "analytics.js", "version": "5.2.0"},
                    "page": {"path": "/san-pham", "url": "https://shop.example.vn/san-pham"},
                    "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
    }
    if kind == "track":
        ev["event"] = _EVENTS[j % 5]
    return orjson.dumps(ev)


def generate(events: int, path: Path) -> None:
    """``events`` lines: ~1% broken JSON, ~1% repeats of the previous messageId."""
    base = datetime(2024, 1, 1)
    with path.open("wb") as f:
        buf: list[bytes] = []
        for i in range(events):
            if i % 100 == 37:
                buf.append(b'{"type": "track", "messageId": "broken-%d", "event": ' % i)
            else:
                buf.append(_event(i - 1 if i % 100 == 53 else i, base))
            if len(buf) >= 50_000:
                f.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            f.write(b"\n".join(buf) + b"\n")


def native_seconds(path: Path, db: Path) -> float:
    con = duckdb.connect(str(db))
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{path}', "
                "format = 'newline_delimited', ignore_errors = true)")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t
    con.close()
    return seconds


def measure_bulk(events: int, workdir: Path) -> dict:
    """Figures of one run over a fresh store and a fresh DuckDB file."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"events-{events}.ndjson"
    if not path.exists():
        generate(events, path)
    for f in workdir.glob("*.duckdb*"):
        f.unlink()
    native = native_seconds(path, workdir / "native.duckdb")
    engine = DuckDBEngine(workdir / "sen.duckdb")
    t = time.perf_counter()
    summary = import_file(engine, path, events_mapping("bench"),
                          quarantine_dir=workdir / "quarantine")
    engine.execute("CHECKPOINT")
    sen = time.perf_counter() - t
    stored = engine.scalar("SELECT count(*) FROM events")
    engine.close()
    return {
        "bulk_events_per_s": round(events / sen),
        "bulk_duckdb_native_events_per_s": round(events / native),
        "bulk_ratio_to_native": round(native / sen, 3),
        "events_sent": events,
        "events_stored": stored,
        "events_rejected": summary.rejected,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(json.dumps(measure_bulk(n, Path(sys.argv[2]) if len(sys.argv) > 2 else
                                  Path("/tmp/sen-bulk")), indent=2))
