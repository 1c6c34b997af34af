"""``/api/messaging``, ``/api/providers`` and a profile's consent and messages.

Who may do what: admins set providers and the policy; marketers and admins
read them; support agents (who take "stop sending me SMS" on the hotline)
and admins change a customer's consent; everyone who reads profiles sees her
consent and messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sen.messaging import consent, provider_store, receipts
from sen.messaging import settings as msettings
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.messaging.policy import MessagingPolicy
from sen.store.operational import messages
from sen.web import customer_messaging
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.users import User

router = APIRouter(tags=["messaging"])
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Admin = Annotated[User, Depends(require_role("admin"))]
Marketer = Annotated[User, Depends(require_role("admin", "marketer"))]
ConsentEditor = Annotated[User, Depends(require_role("admin", "support"))]


def _m(request: Request) -> Any:
    return request.app.state.messaging


# -- policy -------------------------------------------------------------------------------
class PolicyOut(BaseModel):
    policy: MessagingPolicy
    warnings: list[str]


def _warnings(p: MessagingPolicy) -> list[str]:
    if p.require_advertising_consent:
        return []
    return ["Advertising goes to everyone who has not refused, not only to those who agreed. "
            "Decree 91/2020 requires the recipient's prior agreement for advertising SMS, "
            "email and calls: keep this off unless every contact you import has agreed."]


@router.get("/api/messaging/policy", response_model=PolicyOut)
def get_policy(request: Request, user: Marketer) -> PolicyOut:
    """The rules every message passes: consent, quiet hours, caps, duplicates."""
    p = msettings.policy(request.app.state.ops)
    return PolicyOut(policy=p, warnings=_warnings(p))


@router.put("/api/messaging/policy", response_model=PolicyOut)
def put_policy(body: MessagingPolicy, request: Request, user: Admin) -> PolicyOut:
    """Change the rules (caps cannot be loosened past decree 91)."""
    m = _m(request)
    p = msettings.save_policy(m.ops, body.model_dump(mode="json"), now=m.now(),
                              actor=user.username)
    return PolicyOut(policy=p, warnings=_warnings(p))


# -- providers ----------------------------------------------------------------------------
class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict,
                                    description="Empty values keep what is stored.")
    enabled: bool = True
    priority: int = Field(100, ge=0, le=1000)


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    kind: str
    channel: str
    config: dict[str, Any]
    secrets_set: list[str]
    enabled: bool
    priority: int
    updated_at: datetime
    webhook_url: str


class ProviderTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=3, max_length=320)
    text: str = Field("Sen: tin nhắn thử / test message", min_length=1, max_length=500)


class ProviderTestOut(BaseModel):
    ok: bool
    provider_id: str | None = None
    error: str | None = None
    hint: str | None = None


def _provider_out(m: Any, a: provider_store.ProviderAccount) -> ProviderOut:
    return ProviderOut(name=a.name, kind=a.kind, channel=a.channel, config=a.config,
                       secrets_set=list(a.secrets_set), enabled=a.enabled, priority=a.priority,
                       updated_at=a.updated_at, webhook_url=m.webhook_url(a.name))


@router.get("/api/providers", response_model=list[ProviderOut])
def get_providers(request: Request, user: Marketer) -> list[ProviderOut]:
    """Provider accounts; secrets are never shown, only which are set."""
    m = _m(request)
    return [_provider_out(m, a) for a in provider_store.accounts(m.ops, m.box)]


@router.put("/api/providers/{name}", response_model=ProviderOut)
def put_provider(name: str, body: ProviderIn, request: Request, user: Admin) -> ProviderOut:
    """Create or change a provider account; settings are checked before saving."""
    m = _m(request)
    a = provider_store.save(m.ops, m.box, name=name, kind=body.kind, config=body.config,
                            secrets=body.secrets, enabled=body.enabled, priority=body.priority,
                            now=m.now())
    return _provider_out(m, a)


@router.delete("/api/providers/{name}", status_code=204)
def delete_provider(name: str, request: Request, user: Admin) -> None:
    provider_store.delete(request.app.state.ops, name)


@router.post("/api/providers/{name}/test", response_model=ProviderTestOut)
def post_provider_test(name: str, body: ProviderTestIn, request: Request,
                       user: Admin) -> ProviderTestOut:
    """Send one message straight through this provider (checks its settings)."""
    return ProviderTestOut(**_m(request).provider_test(name, body.address, body.text))


# -- consent ------------------------------------------------------------------------------
class ConsentOut(BaseModel):
    channel: str
    address: str
    purpose: str
    status: str
    source: str
    updated_at: datetime
    proof: dict[str, Any]


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    purpose: Purpose = Purpose.ADVERTISING
    status: ConsentStatus
    address: str | None = Field(None, description="Empty: the profile's own address")
    note: str = Field("", max_length=500, description="What the customer said, and how")


@router.get("/api/profiles/{profile_id}/consents", response_model=list[ConsentOut])
def get_consents(profile_id: str, request: Request, user: Reader) -> list[ConsentOut]:
    """Her consent on each of her addresses."""
    m = _m(request)
    with m.ops.connect() as con:
        rows = consent.for_addresses(con, m.addresses_of(profile_id))
    return [ConsentOut(channel=r.channel, address=r.address, purpose=r.purpose,
                       status=r.status, source=r.source, updated_at=r.updated_at,
                       proof=orjson.loads(r.proof or "{}")) for r in rows]


@router.post("/api/profiles/{profile_id}/consents", response_model=list[ConsentOut])
def post_consent(profile_id: str, body: ConsentIn, request: Request,
                 user: ConsentEditor) -> list[ConsentOut]:
    """Record what she said (on the hotline, at the till): effective at once."""
    m = _m(request)
    address = body.address or m.address_of(profile_id, body.channel)
    consent.apply(m.ops, [ConsentChange(
        body.channel, address, body.purpose, body.status, "ui", m.now(),
        {"entered_by": user.username, "note": body.note}, profile_id=profile_id,
        record=m.record_of(profile_id))], now=m.now())
    return get_consents(profile_id, request, user)


# -- messages -----------------------------------------------------------------------------
class MessageOut(BaseModel):
    id: int
    channel: str
    purpose: str
    status: str
    campaign: str | None
    journey: str | None
    template: str | None
    address: str
    due_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    cost: int | None
    error: str | None
    body: str | None


def _message_out(r: Any) -> MessageOut:
    return MessageOut(id=r.id, channel=r.channel, purpose=r.purpose, status=r.status,
                      campaign=r.campaign, journey=r.journey, template=r.template,
                      address=r.address, due_at=r.due_at, sent_at=r.sent_at,
                      delivered_at=r.delivered_at, cost=r.cost, error=r.error, body=r.body)


@router.get("/api/profiles/{profile_id}/messages", response_model=list[MessageOut])
def get_profile_messages(profile_id: str, request: Request, user: Reader,
                         limit: int = Query(50, ge=1, le=500)) -> list[MessageOut]:
    """Messages to her, newest first."""
    state = request.app.state
    return [_message_out(r) for r in customer_messaging.recent_messages(
        state.analytics, state.ops, profile_id, limit)]


@router.get("/api/messages", response_model=list[MessageOut])
def get_messages(request: Request, user: Marketer,
                 status: str | None = Query(None), campaign: str | None = Query(None),
                 limit: int = Query(100, ge=1, le=1000)) -> list[MessageOut]:
    """Outbox rows by status or campaign (e.g. ``status=unknown`` after a crash)."""
    t = messages
    q = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if status:
        q = q.where(t.c.status == status)
    if campaign:
        q = q.where(t.c.campaign == campaign)
    with request.app.state.ops.connect() as con:
        return [_message_out(r) for r in con.execute(q).all()]


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(min_length=1, max_length=10_000)
    outcome: Literal["sent", "failed", "resend"]


class ResolveOut(BaseModel):
    resolved: int


@router.post("/api/messages/resolve", response_model=ResolveOut,
             responses={404: {"description": "None of them waits for a decision"}})
def post_resolve(body: ResolveIn, request: Request, user: Marketer) -> ResolveOut:
    """Decide what happened to messages a crash left ``unknown``."""
    m = _m(request)
    return ResolveOut(resolved=receipts.resolve_unknown(m.ops, body.ids, body.outcome,
                                                        now=m.now(), actor=user.username))
