"""Fixtures and helpers of messaging tests.

* Outbox helpers on a real operational store: candidates, consents, reads of
  the outbox and of the events waiting for the log.
* ``store``: a small analytical store of known customers for context and
  preview tests, built on the traits tests' shop
  (:func:`tests.traits.test_runner.build_shop`): its four customers with their
  orders, traits computed as of its ``AS_OF``; then names, genders and home
  stores as identity would have written them, a customer added after the trait
  run (so she has no traits), one whose name is blank, two user-defined traits
  with values, and a profile id that was merged into Lan's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.messaging.outbox import Candidate, Route
from sen.store.operational import messages, pending_events
from sen.traits import custom, runner
from tests.traits.test_runner import AS_OF, build_shop

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


PEOPLE = {  # profile: (name, gender, home store)
    "p_lan": ("Nguyễn Thị Lan", "female", "HN01"),
    "p_minh": ("Trần Minh", "male", "HCM01"),
    "p_hoa": ("Hoa", None, None),
    "p_tuan": (None, "male", "ZZ99"),  # a home store missing from the stores table
}


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    shop = build_shop(tmp_path_factory.mktemp("context"))
    runner.refresh(shop.engine, as_of=AS_OF)
    cur = shop.cur
    for pid, (name, gender, home) in PEOPLE.items():
        cur.execute("UPDATE profiles SET name = ?, gender = ?, store_code = ? "
                    "WHERE profile_id = ?", [name, gender, home, pid])
    shop.customer("p_tam", "u:pos:9", birth_date=date(1995, 11, 23), phone="+842838234567",
                  email="")
    cur.execute("UPDATE profiles SET name = ' Lê  Văn Tám ', gender = 'female' "
                "WHERE profile_id = 'p_tam'")
    shop.customer("p_blank", "u:pos:10")
    cur.execute("UPDATE profiles SET name = '   ', gender = 'other' WHERE profile_id = 'p_blank'")
    for definition in ({"name": "visits", "label": "Số lần ghé", "source": "orders",
                        "aggregate": "count"},
                       {"name": "colour", "source": "order_lines", "aggregate": "most_frequent",
                        "property": "colour"}):
        custom.save(shop.engine, custom.parse(definition), "test")
    cur.executemany("INSERT INTO custom_trait_values VALUES (?, ?, ?, ?)", [
        ("p_lan", "visits", 3.0, None), ("p_minh", "visits", 12.0, None),
        ("p_lan", "colour", None, "Đỏ")])
    cur.execute("INSERT INTO identity_merge_log VALUES (?, 'merged', 'p_lan', ['p_old'], 2, "
                "'phone', 'test')", [datetime(2026, 6, 1)])
    yield shop.engine
    shop.engine.close()
