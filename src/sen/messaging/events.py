"""Events messaging writes, on their way into the log.

Messaging runs against the operational store, often in another process than the
one that owns the event log. So its events (``Message Sent``, ``Consent
Revoked``, ``Coupon Redeemed``…) are first written to ``pending_events`` in the
same transaction as the state change they describe: a message is marked sent
and its ``Message Sent`` row exists, or neither. :func:`relay`, run by
``sen serve``, then appends them to the log through the event writer (so
dedupe, projections, subscribers and metrics see them) and marks them relayed.

Every event has a deterministic messageId (``sent:<message id>``…): written
twice to ``pending_events`` it is kept once, and relayed twice (a crash
between the log's commit and the mark) it is stored once by the writer's
dedupe. So the outbox, the pending events and the log always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.store.operational import bulk_insert_ignore, insert_ignore, pending_events

SOURCE = "sen"


def utc_now() -> datetime:
    """Now, as the naive UTC datetime both stores keep."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One of Sen's own track events, about the person behind ``record``.

    ``record`` is an identity record (``u:<userId>`` or ``a:<anonymousId>``),
    which is stable: whatever merges happen later, identity maps the event to
    the profile that holds the record then.
    """

    message_id: str
    event: str
    record: str | None
    timestamp: datetime
    properties: dict[str, Any]
    context: dict[str, Any] | None = None

    def ids(self) -> tuple[str | None, str | None]:
        """(userId, anonymousId) of the record."""
        if self.record is None:
            return None, None
        kind, _, value = self.record.partition(":")
        return (value, None) if kind == "u" else (None, value)


def pending_row(ev: LogEvent) -> dict[str, Any]:
    user_id, anonymous_id = ev.ids()
    return {"message_id": ev.message_id, "event": ev.event, "user_id": user_id,
            "anonymous_id": anonymous_id, "timestamp": ev.timestamp,
            "properties": orjson.dumps(ev.properties).decode(),
            "context": orjson.dumps(ev.context).decode() if ev.context else None,
            "relayed_at": None}


def add(con: sa.Connection, events: Iterable[LogEvent]) -> int:
    """Queue events for the log inside the caller's transaction (repeats are dropped)."""
    return insert_ignore(con, pending_events, [pending_row(ev) for ev in events])


def add_many(con: sa.Connection, events: Iterable[LogEvent]) -> None:
    """:func:`add` for large batches (a broadcast's refusals), through the driver."""
    bulk_insert_ignore(con, pending_events, [pending_row(ev) for ev in events])


def log_rows(rows: Sequence[Any], received_at: datetime) -> list[tuple]:
    """``pending_events`` rows as event-log rows (``EVENT_COLUMNS`` order)."""
    return [(r.message_id, None, "track", r.event, None, r.user_id, r.anonymous_id, None, None,
             SOURCE, r.timestamp, r.timestamp, None, received_at, r.properties.encode(), None,
             r.context.encode() if r.context else None, None, None) for r in rows]


def relay(ops: sa.Engine, writer: Any, *, limit: int = 10_000) -> int:
    """Append up to ``limit`` waiting events to the log and mark them; how many moved."""
    t = pending_events
    with ops.connect() as con:
        rows = con.execute(sa.select(t).where(t.c.relayed_at.is_(None))
                           .order_by(t.c.id).limit(limit)).all()
    if not rows:
        return 0
    writer.write_sync(log_rows(rows, utc_now()))
    with ops.begin() as con:
        ids = [r.id for r in rows]
        for start in range(0, len(ids), 5000):
            con.execute(sa.update(t).where(t.c.id.in_(ids[start:start + 5000]))
                        .values(relayed_at=utc_now()))
    return len(rows)
