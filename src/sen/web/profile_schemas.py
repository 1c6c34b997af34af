"""Pydantic models of the profile and identity API (``/api/profiles``, ``/api/identity``).

Times are UTC; money is integer VND. Inputs forbid unknown fields, as in
:mod:`sen.web.schemas`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sen.identity.resolver import RunStats
from sen.web.customer360 import Customer360
from sen.web.schemas import _In

IdType = Literal["phone", "email", "user_id", "anonymous_id", "zalo_id", "loyalty_card",
                 "marketplace_buyer", "device_id"]


class ProfileSummary(BaseModel):
    """One line of a look-up or search result."""

    profile_id: str
    name: str | None
    phone: str | None = Field(description="E.164, e.g. +84912345678.")
    email: str | None
    province: str | None
    identified: bool
    records: int = Field(description="How many records (user ids, anonymous ids) it joins.")
    last_seen: datetime | None


class GoldenRecord(BaseModel):
    """The profile's best value of each field, with what identity knows about it."""

    profile_id: str
    record: str = Field(description="The representative record the id is derived from.")
    name: str | None
    gender: str | None
    birth_date: date | None
    province: str | None
    address: str | None
    store_code: str | None
    phone: str | None
    email: str | None
    zalo_id: str | None
    loyalty_card: str | None
    identified: bool
    records: int
    user_ids: list[str] | None
    sources: list[str] | None
    first_seen: datetime | None
    last_seen: datetime | None
    anonymous_since: datetime | None
    identified_at: datetime | None
    devices: int | None
    browsers: int | None
    web_push_tokens: int | None
    app_push_tokens: int | None


class IdentifierOut(BaseModel):
    id_type: str
    value: str | None = Field(description="Normalised; null when the normaliser rejected it.")
    raw: str = Field(description="As typed.")
    record: str
    source: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    n: int
    status: Literal["linking", "shared", "blocked", "rejected"]
    reason: str | None = Field(description="Why the normaliser rejected it.")


class FieldValueOut(BaseModel):
    field: str
    value: str
    record: str
    source: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    n: int


class MergeLogOut(BaseModel):
    logged_at: datetime
    action: Literal["merged", "split"]
    profile_id: str
    other_profiles: list[str]
    records: int | None
    cause: str | None
    actor: str | None


class PersonLinkOut(BaseModel):
    decided_at: datetime
    record_a: str
    record_b: str
    actor: str | None
    note: str | None


class JoiningValue(BaseModel):
    """A linking value carried by several of the profile's records: an unmerge point."""

    id_type: str
    value: str
    records: int


class Profile360Out(BaseModel):
    """The customer 360 without the activity (see ``/events`` and ``/orders``)."""

    profile: GoldenRecord
    identifiers: list[IdentifierOut]
    joining: list[JoiningValue]
    field_history: list[FieldValueOut]
    merge_history: list[MergeLogOut]
    person_links: list[PersonLinkOut]

    @classmethod
    def of(cls, view: Customer360) -> Profile360Out:
        return cls(profile=GoldenRecord(**view.profile),
                   identifiers=[IdentifierOut(**i) for i in view.identifiers],
                   joining=[JoiningValue(**j) for j in view.joining],
                   field_history=[FieldValueOut(**f) for f in view.field_history],
                   merge_history=[MergeLogOut(**m) for m in view.merge_history],
                   person_links=[PersonLinkOut(**p) for p in view.person_links])


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


class EventOut(BaseModel):
    timestamp: datetime
    type: str
    event: str | None = Field(description="The track event's or the page's name.")
    source: str
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    properties: dict[str, Any] | None
    traits: dict[str, Any] | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> EventOut:
        return cls(**{**row, "properties": _json(row["properties"]),
                      "traits": _json(row["traits"])})


class OrderOut(BaseModel):
    order_id: str
    ordered_at: datetime
    channel: str | None
    source: str
    store_code: str | None
    status: str
    total: int | None = Field(description="Integer VND.")
    item_count: int | None
    coupon: str | None


class IdentifierIn(_In):
    """An identifier value as normalised (``+84912345678``), e.g. from the 360's list."""

    id_type: IdType
    value: str = Field(min_length=1, max_length=500)


class UnmergeIn(IdentifierIn):
    note: str | None = Field(default=None, max_length=500)


class LinkIn(_In):
    """Two records (``u:<userId>`` or ``a:<anonymousId>``) a person says are one customer."""

    record_a: str = Field(min_length=3, max_length=500, examples=["u:KH1"])
    record_b: str = Field(min_length=3, max_length=500, examples=["u:U1"])
    note: str | None = Field(default=None, max_length=500)


class UnlinkIn(_In):
    record_a: str = Field(min_length=3, max_length=500)
    record_b: str = Field(min_length=3, max_length=500)


class ReviewDecisionIn(_In):
    record_a: str = Field(min_length=3, max_length=500)
    record_b: str = Field(min_length=3, max_length=500)
    approve: bool = Field(description="True: one customer, link them. False: keep apart.")


class RunStatsOut(BaseModel):
    """What an identity run or decision did."""

    events: int
    observations: int
    records: int
    identifiers: int
    profiles_touched: int
    merges: int
    splits: int
    seconds: dict[str, float]

    @classmethod
    def of(cls, stats: RunStats) -> RunStatsOut:
        return cls(**asdict(stats))


class ReviewDecisionOut(BaseModel):
    approved: bool
    stats: RunStatsOut | None = Field(description="The re-link an approval caused.")


class ReviewPairOut(BaseModel):
    """A probable duplicate pair, side by side."""

    profile_a: str
    profile_b: str
    record_a: str
    record_b: str
    probability: float
    evidence: str | None
    name_a: str | None
    name_b: str | None
    phone_a: str | None
    phone_b: str | None
    email_a: str | None
    email_b: str | None
    birth_date_a: date | None
    birth_date_b: date | None
    address_a: str | None
    address_b: str | None


class ScoreOut(BaseModel):
    pending: int = Field(description="Pairs waiting for review after scoring.")


class MergedInto(BaseModel):
    """The answer for a merged-away profile id (with a 307 to the current one)."""

    merged_into: str
