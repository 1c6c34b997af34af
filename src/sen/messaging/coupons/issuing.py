"""Issuing coupons: a code per message, inside the dispatcher's transaction.

A generated pool inserts a fresh random code (another one on the rare
collision); an imported pool takes its next free code atomically: on
PostgreSQL other issuers skip the row this one locked (``FOR UPDATE SKIP
LOCKED``), and SQLite runs one writer at a time. Issuing again for the same
message returns the code it holds. Each new code writes ``Coupon Issued``
(messageId ``coupon-issued:<code>``) in the same transaction.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from sen.errors import ConflictError
from sen.messaging import events
from sen.messaging.coupons import codes
from sen.messaging.coupons.pools import GENERATED, Pool, get_pool
from sen.messaging.model import COUPON_ISSUED
from sen.store.operational import coupons, insert_ignore, messages

_SYSTEM_RNG = secrets.SystemRandom()
_COLLISION_TRIES = 20


class PoolEmptyError(ConflictError):
    """An imported pool has no unissued code left."""


@dataclass(frozen=True, slots=True)
class IssuedCoupon:
    code: str
    pool: str
    message_id: int
    expires_at: datetime | None
    offer: str
    new: bool  # False when the message already held a code of this pool


def _issued_props(code: str, pool: Pool, message_id: int, message: Any,
                  campaign: str | None, expires_at: datetime | None) -> dict[str, Any]:
    return {"coupon": code, "pool": pool.name, "offer": pool.offer, "message_id": message_id,
            "campaign_id": campaign, "journey_id": message.journey if message else None,
            "channel": message.channel if message else None,
            "expires_at": expires_at.isoformat() + "Z" if expires_at else None}


def _insert_generated(con: sa.Connection, pool: Pool, values: dict[str, Any],
                      rng: random.Random) -> str:
    for _ in range(_COLLISION_TRIES):
        code = codes.new_code(rng, pool.length, pool.prefix)
        if insert_ignore(con, coupons, [{"code": code, "pool": pool.name, **values}]):
            return code
    raise ConflictError(f"Pool {pool.name!r} keeps making codes that exist already.",
                        hint="Its codes are too short for how many were issued: create a pool "
                        "with a longer length.")


def _draw_imported(con: sa.Connection, pool: Pool, values: dict[str, Any]) -> str:
    """The next unissued code, taken atomically: other transactions skip the row this
    one locked (PostgreSQL), and SQLite runs one writer at a time."""
    c = coupons.c
    free = sa.and_(c.pool == pool.name, c.issued_at.is_(None), c.redeemed_at.is_(None))
    for attempt in range(50):
        pick = (sa.select(c.code).where(free).order_by(c.code).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
        code = con.execute(sa.update(coupons).where(c.code == pick, c.issued_at.is_(None))
                           .values(**values).returning(c.code)).scalar()
        if code is not None:
            return code
        if con.execute(sa.select(c.code).where(free).limit(1)).first() is None:
            break
        time.sleep(0.01 * (attempt + 1))  # every free code is locked by another issuer
    raise PoolEmptyError(f"The coupon pool {pool.name!r} has no codes left to give.",
                         hint=f"Upload more codes (POST /api/coupon-pools/{pool.name}/codes) "
                         "or point the template at another pool.")


def issue(con: sa.Connection, pool: str, *, message_id: int, profile_id: str | None,
          record: str | None, campaign: str | None, now: datetime,
          rng: random.Random | None = None, known_pool: Pool | None = None,
          message: Any = None) -> IssuedCoupon:
    """Give the message a code of ``pool``, inside the caller's transaction.

    Issuing again for the same message returns the code it already holds.
    Raises :class:`PoolEmptyError` when an imported pool has run out. A caller
    that already holds the pool's row (``known_pool``) and the message's outbox
    row (``message``) saves reading them again: the dispatcher issues a code per
    message it renders.
    """
    found = known_pool if known_pool is not None and known_pool.name == pool \
        else get_pool(con, pool)
    c = coupons.c
    held = con.execute(sa.select(c.code, c.expires_at).where(
        c.message_id == message_id, c.pool == pool)).first()
    if held is not None:
        return IssuedCoupon(held.code, pool, message_id, held.expires_at, found.offer, False)
    expires_at = now + timedelta(days=found.valid_days) if found.valid_days else None
    values = {"campaign": campaign, "message_id": message_id, "profile_id": profile_id,
              "record": record, "issued_at": now, "expires_at": expires_at}
    if found.kind == GENERATED:
        code = _insert_generated(con, found, values, rng or _SYSTEM_RNG)
    else:
        code = _draw_imported(con, found, values)
    if message is None:
        message = con.execute(sa.select(messages.c.journey, messages.c.channel)
                              .where(messages.c.id == message_id)).first()
    events.add(con, [events.LogEvent(
        f"coupon-issued:{code}", COUPON_ISSUED, record, now,
        _issued_props(code, found, message_id, message, campaign, expires_at))])
    return IssuedCoupon(code, pool, message_id, expires_at, found.offer, True)
