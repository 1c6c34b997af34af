"""Coupons redeemed by orders, whichever way the orders came in.

Every ingest path (``POST /v1`` ``Order Completed``, bulk event files, POS and
e-commerce order files) ends in the analytical store's ``orders`` and
``order_items`` projections, each with a ``coupon`` column. This job reads
the orders added since its watermark (the ``rowid`` of ``orders``, kept in
``sen_meta``), keeps the coupons that are Sen's (codes of other systems are
ignored) and redeems them with the order's buyer, store, channel and source.

A coupon already used by another order is not an error here: the order
happened. It becomes a ``Coupon Redemption Refused`` event (messageId
``coupon-refused:<code>:<order id>``, so a rerun adds nothing) with when and
where the coupon was first used, and is logged; the job never raises for it.

The watermark is idempotent to lose: redeeming the same order again is a
no-op and refused events dedupe on their messageId. DuckDB renumbers rowids
after a projection rebuild deletes rows, so the watermark also remembers the
order id at that rowid; when the two no longer agree the job starts over from
the first order (slower, never wrong).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.errors import ValidationError
from sen.identity.extract import record_key
from sen.jobs import WriterJob
from sen.messaging import events
from sen.messaging.coupons import codes
from sen.messaging.coupons.ledger import (
    CouponAlreadyRedeemedError,
    CouponExpiredError,
    find,
    redeem,
)
from sen.store.analytics import DuckDBEngine
from sen.store.operational import coupons
from sen.store.settings import read_meta, write_meta

log = logging.getLogger(__name__)

MARK = "coupons_orders_mark"
COUPON_REDEMPTION_REFUSED = "Coupon Redemption Refused"


@dataclass(frozen=True, slots=True)
class OrderCoupon:
    rowid: int
    order_id: str
    store: str | None
    channel: str | None
    source: str | None
    at: datetime
    record: str | None
    coupon: str


def _start(cur: Any) -> int:
    """The rowid after which orders are new (-1: from the first order)."""
    raw = read_meta(cur, MARK)
    if raw is None:
        return -1
    mark = orjson.loads(raw)
    row = cur.execute("SELECT order_id FROM orders WHERE rowid = ?", [mark["rowid"]]).fetchone()
    if row is None or row[0] != mark["order_id"]:
        log.info("orders were rebuilt since coupons last read them; reading them all again")
        return -1
    return int(mark["rowid"])


def _order_coupons(cur: Any, after: int, upto: int) -> list[OrderCoupon]:
    """Coupons of the orders with ``after < rowid <= upto``, order-level and line-level,
    oldest order first."""
    rows = cur.execute(f"""
        WITH new AS (SELECT rowid AS rid, * FROM orders WHERE rowid > ? AND rowid <= ?),
        used AS (
            SELECT order_id, trim(coupon) AS coupon FROM new WHERE coupon IS NOT NULL
            UNION
            SELECT i.order_id, trim(i.coupon) FROM order_items i
            WHERE i.coupon IS NOT NULL AND i.order_id IN (SELECT order_id FROM new)
        )
        SELECT n.rid, n.order_id, n.store_code, n.channel, n.source, n.ordered_at,
               {record_key('n.user_id', 'n.anonymous_id')} AS record, u.coupon
        FROM new n JOIN used u USING (order_id)
        WHERE u.coupon <> ''
        ORDER BY n.ordered_at, n.rid, u.coupon
    """, [after, upto]).fetchall()
    return [OrderCoupon(*r) for r in rows]


def _sen_codes(ops: sa.Engine, typed: Iterable[str]) -> dict[str, str]:
    """Typed coupon → the stored code it names, for those that are Sen's."""
    keys = {t: codes.lookup_keys(t) for t in set(typed)}
    wanted = sorted({k for ks in keys.values() for k in ks})
    stored: set[str] = set()
    with ops.connect() as con:
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start:start + 1000]
            stored.update(con.execute(sa.select(coupons.c.code)
                                      .where(coupons.c.code.in_(chunk))).scalars())
    return {t: next(k for k in ks if k in stored)
            for t, ks in keys.items() if any(k in stored for k in ks)}


def _refuse(ops: sa.Engine, code: str, order: OrderCoupon, reason: str,
            details: dict[str, Any]) -> None:
    """Record that ``order`` used a coupon it could not have (an event, and the log)."""
    log.warning("coupon %s on order %s refused: %s", code, order.order_id, reason)
    with ops.begin() as con:
        row = find(con, code)
        props = {"coupon": code, "pool": row.pool, "message_id": row.message_id,
                 "campaign_id": row.campaign, "journey_id": row.journey,
                 "order_id": order.order_id, "store": order.store, "source": order.source,
                 "redeemed_channel": order.channel, "reason": reason,
                 **{f"first_{k}" if k in ("order_id", "store", "channel", "source",
                                          "redeemed_at") else k: v
                    for k, v in details.items() if k != "code"}}
        events.add(con, [events.LogEvent(f"coupon-refused:{code}:{order.order_id}"[:200],
                                         COUPON_REDEMPTION_REFUSED, order.record, order.at,
                                         props)])


def _redeem_one(ops: sa.Engine, code: str, order: OrderCoupon) -> bool:
    try:
        done = redeem(ops, code, order_id=order.order_id, store=order.store,
                      channel=order.channel, source=order.source, at=order.at,
                      record=order.record)
    except CouponAlreadyRedeemedError as exc:
        _refuse(ops, code, order, "already_redeemed", exc.details)
        return False
    except CouponExpiredError as exc:
        _refuse(ops, code, order, "expired", exc.details)
        return False
    except ValidationError as exc:  # an order id too long to store: the order stays as it is
        log.warning("coupon %s on order %s not redeemed: %s", code, order.order_id, exc)
        return False
    return not done.repeated


def redeem_from_orders(engine: DuckDBEngine, ops: sa.Engine) -> int:
    """Redeem the Sen coupons of orders added since the last run; how many were redeemed.

    Run it on the event writer's thread (it writes the watermark to the
    analytical store): :class:`CouponRedeemer` does.
    """
    cur = engine.cursor()
    after = _start(cur)
    upto = cur.execute("SELECT max(rowid) FROM orders").fetchone()[0]
    if upto is None or upto <= after:
        return 0
    found = _order_coupons(cur, after, upto)
    ours = _sen_codes(ops, (f.coupon for f in found))
    redeemed = sum(_redeem_one(ops, ours[f.coupon], f) for f in found if f.coupon in ours)
    last = cur.execute("SELECT order_id FROM orders WHERE rowid = ?", [upto]).fetchone()[0]
    write_meta(cur, MARK, orjson.dumps({"rowid": upto, "order_id": last}).decode())
    return redeemed


class CouponRedeemer(WriterJob):
    """Runs :func:`redeem_from_orders` every ``interval_s`` on the writer's thread."""

    name = "coupons"

    def __init__(self, writer: Any, engine: DuckDBEngine, ops: sa.Engine,
                 interval_s: float) -> None:
        super().__init__(writer, engine, interval_s)
        self.ops = ops

    def work(self) -> int:
        return redeem_from_orders(self.engine, self.ops)
