"""Finding and redeeming coupons; a redemption writes its event for the log.

A redemption and its ``Coupon Redeemed`` event are written in one transaction
(see :mod:`sen.messaging.events`); the event's messageId is
``coupon-redeemed:<code>``, so a coupon has at most one whatever is retried.

Who a ``Coupon Redeemed`` event belongs to: the coupon's recipient (the record
its message went to) when it was issued to someone, else the buyer's record.
The recipient is the person the campaign reached, and a till order is often
anonymous (``a:pos:order:…``); the order, with its buyer, is linked through
``order_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa

from sen.errors import ConflictError, NotFoundError, ValidationError
from sen.messaging import events
from sen.messaging.coupons import codes
from sen.messaging.coupons.pools import GENERATED
from sen.messaging.model import COUPON_REDEEMED
from sen.store.operational import coupon_pools, coupons, messages


class CouponNotFoundError(NotFoundError):
    """No coupon has this code (and it does not look like a mistyped one of Sen's)."""


class CouponMistypedError(ValidationError):
    """The code cannot be one of Sen's: a character is wrong (the check character says)."""


class CouponExpiredError(ConflictError):
    """The coupon expired before the order."""


class CouponAlreadyRedeemedError(ConflictError):
    """Another order already used the coupon; ``details`` say when and where."""


@dataclass(frozen=True, slots=True)
class Redemption:
    code: str
    pool: str
    order_id: str
    store: str | None
    channel: str | None
    source: str | None
    redeemed_at: datetime
    message_id: int | None
    campaign: str | None
    journey: str | None
    offer: str
    repeated: bool  # the same order redeemed it before: nothing changed


def _joined() -> sa.Select:
    m = messages.c
    return (sa.select(coupons, coupon_pools.c.offer, m.journey,
                      m.channel.label("message_channel"))
            .select_from(coupons.join(coupon_pools, coupon_pools.c.name == coupons.c.pool)
                         .outerjoin(messages, m.id == coupons.c.message_id)))


def find(con: sa.Connection, typed: str, *, lock: bool = False) -> Any | None:
    """The stored coupon ``typed`` names (with its message's journey and channel)."""
    keys = codes.lookup_keys(typed)
    if not keys:
        return None
    query = _joined().where(coupons.c.code.in_(keys))
    if lock:
        query = query.with_for_update(of=coupons)
    rows = {r.code: r for r in con.execute(query)}
    return next((rows[k] for k in keys if k in rows), None)


def not_found(con: sa.Connection, typed: str) -> CouponNotFoundError | CouponMistypedError:
    """The error for a code nothing matches: mistyped when it has the shape of a
    generated pool's codes but cannot be one (see :func:`codes.looks_mistyped`)."""
    code = codes.normalise(typed)
    p = coupon_pools.c
    shapes = [(r.prefix, len(r.prefix) + r.length + 1) for r in con.execute(
        sa.select(p.prefix, p.length).where(p.kind == GENERATED))]
    why = codes.looks_mistyped(code, shapes)
    if why:
        return CouponMistypedError(why, field="code", rule="check_character")
    return CouponNotFoundError(f"No coupon has the code {code or typed!r}.",
                               hint="Check the code with the customer; codes of the shop's own "
                               "system must be uploaded to an imported pool first.")


def _local(at: datetime, tz: tzinfo) -> str:
    return at.replace(tzinfo=UTC).astimezone(tz).strftime("%d/%m/%Y %H:%M")


def already_redeemed(row: Any, tz: tzinfo) -> CouponAlreadyRedeemedError:
    where = f"store {row.redeemed_store}" if row.redeemed_store else \
        f"{row.redeemed_source or 'an unknown source'}"
    return CouponAlreadyRedeemedError(
        f"Coupon {row.code} was already used on {_local(row.redeemed_at, tz)} at {where}, "
        f"order {row.redeemed_order}.",
        hint="A coupon is good for one order; ask the customer for another code.",
        details={"code": row.code, "redeemed_at": row.redeemed_at.isoformat() + "Z",
                 "store": row.redeemed_store, "order_id": row.redeemed_order,
                 "channel": row.redeemed_channel, "source": row.redeemed_source})


def _redemption(row: Any, repeated: bool) -> Redemption:
    return Redemption(row.code, row.pool, row.redeemed_order, row.redeemed_store,
                      row.redeemed_channel, row.redeemed_source, row.redeemed_at,
                      row.message_id, row.campaign, row.journey, row.offer, repeated)


def _redeemed_props(row: Any, order_id: str, store: str | None, channel: str | None,
                    source: str | None) -> dict[str, Any]:
    return {"coupon": row.code, "pool": row.pool, "message_id": row.message_id,
            "campaign_id": row.campaign, "journey_id": row.journey,
            "channel": row.message_channel, "order_id": order_id, "store": store,
            "source": source, "redeemed_channel": channel}


def redeem(ops: sa.Engine, code: str, *, order_id: str, store: str | None,
           channel: str | None, source: str | None, at: datetime,
           record: str | None = None, tz: tzinfo = UTC) -> Redemption:
    """Use a coupon for an order and write its one ``Coupon Redeemed`` event.

    The same order again changes nothing (``repeated``); another order gets
    :class:`CouponAlreadyRedeemedError` saying when and where (times in ``tz``).
    An unknown code raises :class:`CouponNotFoundError`, a mistyped one
    :class:`CouponMistypedError`, an expired one :class:`CouponExpiredError`.
    """
    _check_lengths(order_id, store, channel, source)
    marked = False
    with ops.begin() as con:
        row = find(con, code, lock=True)
        if row is None:
            raise not_found(con, code)
        if row.redeemed_at is None:
            if row.expires_at is not None and at > row.expires_at:
                raise CouponExpiredError(
                    f"Coupon {row.code} expired on {_local(row.expires_at, tz)}.",
                    hint="An expired coupon cannot be used; the offer may have a newer code.",
                    details={"code": row.code, "expires_at": row.expires_at.isoformat() + "Z"})
            marked = _mark(con, row.code, order_id, store, channel, source, at)
            if marked:
                events.add(con, [events.LogEvent(
                    f"coupon-redeemed:{row.code}", COUPON_REDEEMED, row.record or record, at,
                    _redeemed_props(row, order_id, store, channel, source))])
            row = find(con, row.code)  # as marked, or as a concurrent redemption left it
        if row.redeemed_order != order_id:
            raise already_redeemed(row, tz)
    return _redemption(row, repeated=not marked)


def _check_lengths(order_id: str, store: str | None, channel: str | None,
                   source: str | None) -> None:
    for name, value in (("order_id", order_id), ("store", store), ("channel", channel),
                        ("source", source)):
        limit = coupons.c[f"redeemed_{'order' if name == 'order_id' else name}"].type.length
        if value is not None and len(value) > limit:
            raise ValidationError(f"{name} is longer than {limit} characters.",
                                  field=name, rule="max_length")
    if not order_id.strip():
        raise ValidationError("order_id is empty: a redemption needs the order it paid for.",
                              field="order_id", rule="required")


def _mark(con: sa.Connection, code: str, order_id: str, store: str | None,
          channel: str | None, source: str | None, at: datetime) -> bool:
    """Mark the coupon used unless someone did first; whether this call did."""
    c = coupons.c
    return con.execute(sa.update(coupons).where(c.code == code, c.redeemed_at.is_(None)).values(
        redeemed_at=at, redeemed_order=order_id, redeemed_store=store,
        redeemed_channel=channel, redeemed_source=source)).rowcount == 1


@dataclass(frozen=True, slots=True)
class CouponStatus:
    """What the till sees before redeeming: the offer and whether the code is good."""

    code: str
    pool: str
    offer: str
    status: str  # valid | redeemed | expired
    issued_at: datetime | None
    expires_at: datetime | None
    message_id: int | None
    campaign: str | None
    journey: str | None
    redeemed_at: datetime | None
    redeemed_order: str | None
    redeemed_store: str | None


def status_of(ops: sa.Engine, typed: str, *, now: datetime) -> CouponStatus:
    """A coupon's state, without redeeming it; the errors of :func:`redeem` for an
    unknown or mistyped code."""
    with ops.connect() as con:
        row = find(con, typed)
        if row is None:
            raise not_found(con, typed)
    status = ("redeemed" if row.redeemed_at is not None else
              "expired" if row.expires_at is not None and now > row.expires_at else "valid")
    return CouponStatus(row.code, row.pool, row.offer, status, row.issued_at, row.expires_at,
                        row.message_id, row.campaign, row.journey, row.redeemed_at,
                        row.redeemed_order, row.redeemed_store)
