"""Pydantic models of the coupon routes: what the till and the marketer send and get."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sen.messaging.coupons import CouponStatus, Pool, PoolStats, Redemption


def _utc(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


class RedeemIn(BaseModel):
    """A coupon used at a till or on a website, for one order."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=64, examples=["K7MP-Q4XR-9"])
    order_id: str = Field(min_length=1, max_length=120, examples=["HD001"])
    store: str | None = Field(default=None, max_length=60, examples=["Q1"])
    channel: str | None = Field(default="store", max_length=30,
                                description="Where the order was placed: store, web, app…")
    timestamp: datetime | None = Field(
        default=None, description="When the order was paid (ISO 8601). A time without a zone "
        "is read in the retailer's time zone; none means now.")


class RedemptionOut(BaseModel):
    coupon: str
    pool: str
    offer: str
    order_id: str
    store: str | None
    channel: str | None
    source: str | None
    redeemed_at: str
    repeated: bool = Field(description="The same order had already redeemed this coupon.")
    message_id: int | None
    campaign: str | None
    journey: str | None

    @classmethod
    def of(cls, r: Redemption) -> RedemptionOut:
        return cls(coupon=r.code, pool=r.pool, offer=r.offer, order_id=r.order_id,
                   store=r.store, channel=r.channel, source=r.source,
                   redeemed_at=_utc(r.redeemed_at) or "", repeated=r.repeated,
                   message_id=r.message_id, campaign=r.campaign, journey=r.journey)


class FirstUse(BaseModel):
    redeemed_at: str | None
    order_id: str | None
    store: str | None


class CouponOut(BaseModel):
    """A coupon as the till checks it before redeeming."""

    coupon: str
    pool: str
    offer: str
    status: Literal["valid", "redeemed", "expired"]
    expires_at: str | None
    message_id: int | None
    campaign: str | None
    journey: str | None
    redeemed: FirstUse | None

    @classmethod
    def of(cls, s: CouponStatus) -> CouponOut:
        used = FirstUse(redeemed_at=_utc(s.redeemed_at), order_id=s.redeemed_order,
                        store=s.redeemed_store) if s.redeemed_at else None
        return cls(coupon=s.code, pool=s.pool, offer=s.offer, status=s.status,  # type: ignore[arg-type]
                   expires_at=_utc(s.expires_at), message_id=s.message_id,
                   campaign=s.campaign, journey=s.journey, redeemed=used)


class PoolIn(BaseModel):
    """A new coupon pool."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, examples=["tet-2025"])
    title: str = Field(default="", max_length=200, examples=["Tết 2025: giảm 50.000đ"])
    kind: Literal["generated", "imported"] = "generated"
    prefix: str = Field(default="", max_length=8, examples=["TET"])
    length: int = Field(default=8, ge=6, le=16)
    offer: str = Field(default="", max_length=2000,
                       examples=["Giảm 50.000đ cho đơn từ 300.000đ"])
    valid_days: int | None = Field(default=None, ge=1, le=3650)


class PoolOut(BaseModel):
    name: str
    title: str
    kind: str
    prefix: str
    length: int
    offer: str
    valid_days: int | None
    created_at: datetime
    codes: int
    issued: int
    redeemed: int
    expired: int
    available: int | None

    @classmethod
    def of(cls, pool: Pool, stats: PoolStats) -> PoolOut:
        return cls(name=pool.name, title=pool.title, kind=pool.kind, prefix=pool.prefix,
                   length=pool.length, offer=pool.offer, valid_days=pool.valid_days,
                   created_at=pool.created_at, codes=stats.codes, issued=stats.issued,
                   redeemed=stats.redeemed, expired=stats.expired, available=stats.available)


class UploadOut(BaseModel):
    added: int
    duplicates: int
    invalid: int
