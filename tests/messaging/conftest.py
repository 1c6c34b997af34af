"""Helpers for messaging tests: candidates, consents and outbox reads on a real store."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.messaging.outbox import Candidate, Route
from sen.store.operational import messages, pending_events

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 12, 1, 5, 0)  # 12:00 in Hanoi


def phone(i: int) -> str:
    return f"+8491{i:07d}"


def candidate(i: int, key: str = "c1", *, at: datetime = NOON,
              channels: tuple[Channel, ...] = (Channel.SMS,), template: str = "t",
              **kw: object) -> Candidate:
    routes = tuple(Route(ch, template, phone(i)) for ch in channels)
    return Candidate(key=f"{key}:p{i}", profile_id=f"p{i}", record=f"u:user{i}",
                     routes=routes, at=at, context={"name": f"Khách {i}"}, **kw)  # type: ignore[arg-type]


def grant(ops: sa.Engine, *indices: int, channel: Channel = Channel.SMS,
          status: ConsentStatus = ConsentStatus.GRANTED, at: datetime = NOON,
          source: str = "import") -> consent.Applied:
    return consent.apply(ops, [ConsentChange(channel, phone(i), Purpose.ADVERTISING, status,
                                             source, at, {"column": "agrees_to_promotions"},
                                             record=f"u:user{i}") for i in indices], now=at)


def rows(ops: sa.Engine, **where: object) -> list:
    t = messages
    q = sa.select(t).order_by(t.c.id)
    for name, value in where.items():
        q = q.where(t.c[name] == value)
    with ops.connect() as con:
        return list(con.execute(q).all())


def pending(ops: sa.Engine, event: str | None = None) -> list:
    t = pending_events
    q = sa.select(t).order_by(t.c.id)
    if event:
        q = q.where(t.c.event == event)
    with ops.connect() as con:
        return list(con.execute(q).all())


@pytest.fixture
def zone() -> ZoneInfo:
    return VN
