"""Pydantic models of the management API: what it accepts and what it answers.

Inputs forbid unknown fields, so a misspelt field is an error rather than
silently ignored. Outputs never carry a password hash or a token's hash.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sen.ingest.sources import SOURCE_KINDS, Source
from sen.store.operational import ROLES
from sen.web.overview import Counts, IdentityCounts, Overview
from sen.web.tokens import Token
from sen.web.users import MIN_PASSWORD_LENGTH, User

Role = Literal["admin", "marketer", "analyst", "support"]
SourceKind = Literal["web", "app", "pos", "marketplace", "hotline", "zalo", "server", "import"]
assert set(Role.__args__) == set(ROLES) and set(SourceKind.__args__) == set(SOURCE_KINDS)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserIn(_In):
    """A new account."""

    username: str = Field(min_length=2, max_length=120, examples=["lan.nguyen"])
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    role: Role
    display_name: str | None = Field(default=None, max_length=200,
                                     examples=["Nguyễn Thị Lan"])
    locale: Literal["vi", "en"] = "vi"


class UserPatch(_In):
    """Changes to an account; fields left out stay as they are."""

    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH,
                                 max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    locale: str
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(**user.__dict__)


class TokenIn(_In):
    """A new API token; the name says what it is for."""

    name: str = Field(min_length=1, max_length=200, examples=["POS nightly sync"])


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls(id=token.id, name=token.name, prefix=token.prefix,
                   created_at=token.created_at, last_used_at=token.last_used_at,
                   revoked_at=token.revoked_at, active=token.active)


class TokenCreated(BaseModel):
    """The new token's record and its secret, which is never shown again."""

    token: TokenOut
    secret: str


class SourceIn(_In):
    """A new source; its write key is generated."""

    name: str = Field(min_length=1, max_length=100, examples=["pos-hcm"])
    kind: SourceKind


class SourceOut(BaseModel):
    id: int
    name: str
    kind: str
    write_key: str
    enabled: bool

    @classmethod
    def of(cls, source: Source) -> SourceOut:
        return cls(**source.__dict__)


class CountsOut(BaseModel):
    events: int
    customers: int = Field(description="Customers first seen in the period.")
    orders: int
    revenue: int = Field(description="Integer VND, cancelled and refunded orders left out.")

    @classmethod
    def of(cls, counts: Counts) -> CountsOut:
        return cls(**counts.__dict__)


class SourceCounts(CountsOut):
    source: str


class DayCounts(CountsOut):
    date: date


class DayConversions(BaseModel):
    date: date
    converted: int


class IdentityOut(BaseModel):
    """Profiles now, and anonymous profiles identified on each day of the period."""

    identified: int = Field(description="Profiles holding an identifying value.")
    anonymous: int = Field(description="Profiles known only by anonymous or device ids.")
    converted: int = Field(description="Profiles first identified in the period after being "
                           "seen anonymously first.")
    converted_by_day: list[DayConversions]
    avg_devices: float = Field(description="Devices per identified profile.")
    avg_browsers: float = Field(description="Browsers per identified profile.")
    web_push_tokens: int
    app_push_tokens: int

    @classmethod
    def of(cls, ids: IdentityCounts) -> IdentityOut:
        return cls(identified=ids.identified, anonymous=ids.anonymous, converted=ids.converted,
                   converted_by_day=[DayConversions(date=d, converted=n)
                                     for d, n in ids.converted_by_day.items()],
                   avg_devices=round(ids.avg_devices, 3), avg_browsers=round(ids.avg_browsers, 3),
                   web_push_tokens=ids.web_push_tokens, app_push_tokens=ids.app_push_tokens)


class OverviewOut(BaseModel):
    """The overview page's numbers; days are local days in ``timezone``."""

    start: date
    end: date
    timezone: str
    totals: CountsOut
    by_source: list[SourceCounts]
    by_day: list[DayCounts]
    identity: IdentityOut

    @classmethod
    def of(cls, ov: Overview) -> OverviewOut:
        return cls(start=ov.start, end=ov.end, timezone=ov.timezone,
                   totals=CountsOut.of(ov.totals),
                   by_source=[SourceCounts(source=s, **c.__dict__)
                              for s, c in ov.by_source.items()],
                   by_day=[DayCounts(date=d, **c.__dict__) for d, c in ov.by_day.items()],
                   identity=IdentityOut.of(ov.identity))
