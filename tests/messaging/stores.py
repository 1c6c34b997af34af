"""A small messaging store for tests: the operational store (each backend), an
analytical DuckDB file with its event writer, outbox rows, the relay and the log.

A test module makes its fixture with ``with MessagingStore(tmp_path, ops) as store``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from sen.ingest.writer import EventWriter
from sen.messaging import events
from sen.store.analytics import DuckDBEngine
from sen.store.operational import messages


class MessagingStore:
    """Both stores, wired as ``sen serve`` wires them."""

    def __init__(self, tmp: Path, ops: sa.Engine) -> None:
        self.tmp = tmp
        self.ops = ops
        self.engine = DuckDBEngine(tmp / "sen.duckdb")
        self.writer = EventWriter(self.engine, flush_interval_ms=2).start()

    def message(self, *, links: list[str] = (), record: str | None = "u:KH01",  # type: ignore[assignment]
                profile_id: str = "p-1", campaign: str | None = "tet", journey: str | None = None,
                channel: str = "sms", template: str | None = "tet-sms",
                variant: str | None = "A", step: str | None = None,
                sent_at: datetime | None = None) -> int:
        """An outbox row (as the dispatcher leaves a sent message); its id."""
        now = events.utc_now()
        with self.ops.begin() as con:
            n = con.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
            return con.execute(messages.insert().values(
                key=f"test:{n + 1}", campaign=campaign, journey=journey, step=step,
                variant=variant, template=template, channel=channel, purpose="advertising",
                profile_id=profile_id, record=record, address="+84912345678", due_at=now,
                status="sent", links=orjson.dumps(list(links)).decode(),
                created_at=now - timedelta(minutes=5), updated_at=now,
                sent_at=sent_at if sent_at is not None else now - timedelta(minutes=1),
            ).returning(messages.c.id)).scalar_one()

    def relay(self) -> int:
        return events.relay(self.ops, self.writer)

    def on_writer(self, fn: Any) -> Any:
        """Run ``fn`` on the writer's thread, as the server runs imports and jobs."""
        return self.writer.run_exclusive(fn)

    def log(self, event: str) -> list[dict[str, Any]]:
        """The log's events of one name: ids, time and parsed properties."""
        rows = self.engine.execute(
            "SELECT message_id, user_id, anonymous_id, timestamp, properties, source "
            "FROM events WHERE event = ? ORDER BY timestamp, message_id", [event]).fetchall()
        return [{"message_id": r[0], "user_id": r[1], "anonymous_id": r[2], "timestamp": r[3],
                 "properties": orjson.loads(r[4]), "source": r[5]} for r in rows]

    def close(self) -> None:
        self.writer.stop()
        self.engine.close()

    def __enter__(self) -> MessagingStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

