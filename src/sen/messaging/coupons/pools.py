"""Coupon pools: where codes come from, and how many are left.

A **generated** pool makes a fresh random code (:mod:`.codes`) for each
message. An **imported** pool holds codes a retailer's own system made (its
POS or e-commerce platform must accept them), uploaded ahead and handed out
one per message. Imported codes are kept as given, only trimmed and upper
cased (coupon codes are case-insensitive at every till Sen has met); they carry
no check character of Sen's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from sen.errors import NotFoundError, ValidationError
from sen.messaging.coupons import codes
from sen.messaging.events import utc_now
from sen.store.operational import coupon_pools, coupons, insert_ignore

GENERATED, IMPORTED = "generated", "imported"
KINDS = (GENERATED, IMPORTED)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_PRINTABLE = re.compile(r"^[!-~]+$")  # visible ASCII, no spaces: what a till keyboard types
MAX_VALID_DAYS = 3650


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    title: str
    kind: str
    prefix: str
    length: int
    offer: str
    valid_days: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Codes of a pool by state. ``available`` is what an imported pool can still
    hand out (a generated pool never runs out: ``None``)."""

    pool: str
    kind: str
    codes: int
    issued: int
    redeemed: int
    expired: int
    available: int | None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    added: int
    duplicates: int
    invalid: int


def _pool(row: sa.Row) -> Pool:
    return Pool(row.name, row.title, row.kind, row.prefix, row.length, row.offer,
                row.valid_days, row.created_at)


def _check_pool(name: str, kind: str, prefix: str, length: int,
                valid_days: int | None) -> None:
    if not _NAME.match(name):
        raise ValidationError(f"Pool name {name!r} is not allowed: use lower-case letters, "
                              "digits, - and _.", field="name", rule="pool_name")
    if kind not in KINDS:
        raise ValidationError(f"Pool kind {kind!r} is unknown: use generated or imported.",
                              field="kind", rule="pool_kind")
    if kind == IMPORTED and prefix:
        raise ValidationError("A prefix applies to generated codes only; imported codes are "
                              "used as the retailer's system made them.",
                              field="prefix", rule="prefix_imported")
    problem = codes.check_prefix(prefix)
    if problem:
        raise ValidationError(problem, field="prefix", rule="prefix")
    if not codes.MIN_LENGTH <= length <= codes.MAX_LENGTH:
        raise ValidationError(f"Codes have {codes.MIN_LENGTH}–{codes.MAX_LENGTH} random "
                              "characters (8 is plenty).", field="length", rule="length")
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationError(f"valid_days must be 1–{MAX_VALID_DAYS}, or empty for codes "
                              "that never expire.", field="valid_days", rule="valid_days")


def create_pool(ops: sa.Engine, name: str, title: str, kind: str = GENERATED, *,
                prefix: str = "", length: int = codes.DEFAULT_LENGTH, offer: str = "",
                valid_days: int | None = None) -> Pool:
    """Register a pool. ``offer`` is the text shown at the till ("Giảm 50.000đ cho đơn
    từ 300.000đ"); ``valid_days`` counts from when a code is issued."""
    prefix = codes.normalise(prefix)
    _check_pool(name, kind, prefix, length, valid_days)
    row = {"name": name, "title": title.strip() or name, "kind": kind, "prefix": prefix,
           "length": length, "offer": offer.strip(), "valid_days": valid_days,
           "created_at": utc_now()}
    with ops.begin() as con:
        if not insert_ignore(con, coupon_pools, [row]):
            raise ValidationError(f"A coupon pool named {name!r} already exists.",
                                  field="name", rule="unique")
    return Pool(**row)


def get_pool(con: sa.Connection, name: str) -> Pool:
    row = con.execute(sa.select(coupon_pools).where(coupon_pools.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no coupon pool named {name!r}.",
                            hint="Create it first (POST /api/coupon-pools) or check the name.")
    return _pool(row)


def list_pools(ops: sa.Engine) -> list[Pool]:
    with ops.connect() as con:
        rows = con.execute(sa.select(coupon_pools).order_by(coupon_pools.c.name)).all()
    return [_pool(r) for r in rows]


def clean_imported(raw: str) -> str | None:
    """A retailer's code as stored (trimmed, upper case), or ``None`` when no till
    could take it (empty, too long, spaces or characters outside visible ASCII)."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not code or len(code) > codes.MAX_CODE or not _PRINTABLE.match(code):
        return None
    return code


def import_codes(ops: sa.Engine, pool: str, raw_codes: Iterable[str]) -> ImportCounts:
    """Add a retailer's codes to an imported pool.

    ``duplicates`` are codes already stored (in any pool) or repeated in the
    upload; ``invalid`` ones could not be typed at a till (see
    :func:`clean_imported`). One transaction: an upload is added whole.
    """
    seen: set[str] = set()
    fresh: list[str] = []
    invalid = repeated = 0
    for raw in raw_codes:
        code = clean_imported(raw)
        if code is None:
            invalid += 1
        elif code in seen:
            repeated += 1
        else:
            seen.add(code)
            fresh.append(code)
    added = 0
    with ops.begin() as con:
        found = get_pool(con, pool)
        if found.kind != IMPORTED:
            raise ValidationError(f"Pool {pool!r} generates its own codes; upload codes to an "
                                  "imported pool.", field="pool", rule="pool_kind")
        for start in range(0, len(fresh), 5000):
            chunk = fresh[start:start + 5000]
            added += insert_ignore(con, coupons, [{"code": c, "pool": pool} for c in chunk])
    return ImportCounts(added, repeated + len(fresh) - added, invalid)


def pool_stats(ops: sa.Engine, pool: str, *, now: datetime | None = None) -> PoolStats:
    """How many codes the pool holds, has issued, saw redeemed, let expire unused."""
    now = now or utc_now()
    c = coupons.c
    with ops.connect() as con:
        found = get_pool(con, pool)
        row = con.execute(sa.select(
            sa.func.count(),
            sa.func.count(c.issued_at),
            sa.func.count(c.redeemed_at),
            sa.func.count(sa.case((sa.and_(c.redeemed_at.is_(None), c.expires_at < now), 1))),
            sa.func.count(sa.case((sa.and_(c.issued_at.is_(None), c.redeemed_at.is_(None)), 1))),
        ).where(c.pool == pool)).one()
    available = int(row[4]) if found.kind == IMPORTED else None
    return PoolStats(pool, found.kind, int(row[0]), int(row[1]), int(row[2]), int(row[3]),
                     available)
