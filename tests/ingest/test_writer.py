"""The event writer's own duties: checkpoints at pauses, counts per request."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from sen.ingest.spec import validate_event
from sen.ingest.writer import IDLE_CHECKPOINT_S, EventWriter
from sen.store.analytics import DuckDBEngine

NOW = datetime(2026, 11, 24, 3, 0)


def _rows(n: int, prefix: str) -> list[tuple]:
    return [validate_event({"type": "track", "event": "Product Viewed", "userId": f"u{i}",
                            "messageId": f"{prefix}-{i}"}, source="web", received_at=NOW)
            for i in range(n)]


def _wal(path: Path) -> int:
    wal = Path(str(path) + ".wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_pause_in_traffic_folds_the_log_into_the_file(tmp_path: Path):
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    writer = EventWriter(engine).start()
    try:
        writer.write_sync(_rows(2000, "a"))
        assert _wal(tmp_path / "sen.duckdb") > 0
        deadline = time.monotonic() + 10 * IDLE_CHECKPOINT_S
        while _wal(tmp_path / "sen.duckdb") > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _wal(tmp_path / "sen.duckdb") == 0
        assert writer.write_sync(_rows(10, "a")).duplicates == 10  # still deduplicating
    finally:
        writer.stop()
        engine.close()


def test_each_request_gets_its_own_counts_in_a_shared_commit(tmp_path: Path):
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    writer = EventWriter(engine, flush_interval_ms=200).start()
    try:
        first = writer.submit(_rows(5, "x"))
        second = writer.submit(_rows(3, "x") + _rows(2, "y"))  # 3 repeat the first request
        assert (first.result().inserted, first.result().duplicates) == (5, 0)
        assert (second.result().inserted, second.result().duplicates) == (2, 3)
        assert writer.commits == 1
    finally:
        writer.stop()
        engine.close()
