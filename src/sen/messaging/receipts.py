"""What comes back from providers: delivery receipts, bounces, keyword replies,
complaints; and a marketer's word on messages whose fate is unknown.

A receipt finds its message by the provider's id, or by Sen's key where the
provider echoes it (eSMS's RequestId, Zalo's tracking_id), so a receipt that
arrives before the send's own answer was recorded still lands. Each message
gets at most one event per outcome (deterministic messageIds), however often a
provider repeats its callback. A hard bounce or a failed delivery about the
recipient marks the address unreachable; a failed Zalo delivery falls back to
the next channel as a refused send does.

Inbound opt-outs (``TC`` by SMS, an email complaint) revoke consent at once
through :mod:`sen.messaging.consent`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sen.errors import NotFoundError, ValidationError
from sen.messaging import consent, events
from sen.messaging.consent import ConsentChange
from sen.messaging.dispatch import (
    fall_back,
    fallback_routes,
    mark_unreachable,
    message_properties,
)
from sen.messaging.model import (
    MESSAGE_BOUNCED,
    MESSAGE_DELIVERED,
    MESSAGE_FAILED,
    MESSAGE_SENT,
    Channel,
    ConsentStatus,
    Inbound,
    Purpose,
    Receipt,
    Status,
)
from sen.messaging.policy import MessagingPolicy
from sen.store.operational import messages

_EVENT = {Status.DELIVERED: MESSAGE_DELIVERED, Status.FAILED: MESSAGE_FAILED,
          Status.BOUNCED: MESSAGE_BOUNCED, Status.SENT: MESSAGE_SENT}
_PREFIX = {Status.DELIVERED: "delivered", Status.FAILED: "failed", Status.BOUNCED: "bounced",
           Status.SENT: "sent"}
# A receipt may move a message forward, never back (a late "sent" after "delivered").
_RANK = {Status.QUEUED: 0, Status.HELD: 0, Status.SENDING: 1, Status.UNKNOWN: 1,
         Status.SENT: 2, Status.DELIVERED: 3, Status.FAILED: 3, Status.BOUNCED: 4}


@dataclass
class Applied:
    matched: int = 0
    unmatched: int = 0
    fallbacks: int = 0


def _find(con: sa.Connection, r: Receipt) -> list[Any]:
    """The messages a receipt is about: by Sen's key, else by the provider's id (and
    the address when it names one). A bulk request's receipt (eSMS advertising: one
    SMSID for every number, no number named) is about all of them."""
    t = messages
    if r.key:
        row = con.execute(sa.select(t).where(t.c.key == r.key)).first()
        if row is None and r.key.startswith("sen") and r.key[3:].isdigit():
            row = con.execute(sa.select(t).where(t.c.id == int(r.key[3:]))).first()
        if row is not None:
            return [row]
    if not r.provider_id:
        return []
    q = sa.select(t).where(t.c.provider_id == r.provider_id)
    if r.address:
        q = q.where(t.c.address == r.address)
    return list(con.execute(q.order_by(t.c.id)).all())


def _apply_one(con: sa.Connection, r: Receipt, row: Any, now: datetime) -> bool:
    """Apply one receipt to one message; whether it says the address failed."""
    current = Status(row.status)
    if _RANK.get(r.status, 0) <= _RANK.get(current, 0) and current != Status.UNKNOWN:
        return False
    values: dict[str, Any] = {"status": str(r.status), "updated_at": now}
    if r.provider_id and not row.provider_id:
        values["provider_id"] = r.provider_id
    if r.status == Status.DELIVERED:
        values["delivered_at"] = r.at or now
    if r.cost is not None:
        values["cost"] = r.cost
    if r.reason:
        values["error"] = r.reason[:2000]
    con.execute(sa.update(messages).where(messages.c.id == row.id).values(**values))
    events.add(con, [events.LogEvent(
        message_id=f"{_PREFIX[r.status]}:{row.id}", event=_EVENT[r.status], record=row.record,
        timestamp=r.at or now, properties=message_properties(
            row, provider=r.provider, reason=r.reason, cost=r.cost))])
    bad_address = r.status in (Status.BOUNCED, Status.FAILED)
    if r.status == Status.BOUNCED:
        mark_unreachable(con, row.channel, row.address, "bounced", r.reason or "", now)
    return bad_address


def apply_receipts(ops: sa.Engine, receipts: Sequence[Receipt], *, now: datetime,
                   policy: MessagingPolicy, zone: ZoneInfo) -> Applied:
    """Apply delivery receipts; a failed Zalo delivery falls back to the next channel."""
    done = Applied()
    retry: list[Any] = []
    with ops.begin() as con:
        for r in receipts:
            rows = _find(con, r)
            if not rows:
                done.unmatched += 1
            for row in rows:
                failed = _apply_one(con, r, row, now)
                done.matched += 1
                if failed and r.status == Status.FAILED and row.channel == Channel.ZALO:
                    retry.append(row)
    for row in retry:
        remaining = fallback_routes(row.fallback)
        if remaining:
            done.fallbacks += fall_back(ops, row, remaining, policy, zone, now)
    return done


def apply_inbound(ops: sa.Engine, inbound: Sequence[Inbound], *, now: datetime
                  ) -> consent.Applied:
    """Act on what customers sent back: opt-out keywords and complaints revoke
    advertising consent for that address at once (other texts are kept as events
    only by the provider's hook)."""
    changes = []
    for msg in inbound:
        if not msg.opt_out:
            continue
        source = "email_complaint" if msg.channel == Channel.EMAIL else "sms_keyword"
        channels = [msg.channel]
        if msg.channel == Channel.SMS:
            channels.append(Channel.ZALO)  # one phone: a refusal by SMS covers ZNS ads too
        for channel in channels:
            changes.append(ConsentChange(
                channel=channel, address=msg.address, purpose=Purpose.ADVERTISING,
                status=ConsentStatus.REVOKED, source=source, at=msg.at or now,
                proof={"provider": msg.provider, "text": msg.text[:500]}))
    return consent.apply(ops, changes, now=now)


def resolve_unknown(ops: sa.Engine, ids: Sequence[int], outcome: str, *, now: datetime,
                    actor: str | None = None) -> int:
    """A marketer's decision on messages whose fate is unknown after a crash:
    ``sent`` (it arrived), ``failed`` (it did not; nothing more is done) or
    ``resend`` (queue it again, accepting that she may get it twice)."""
    if outcome not in ("sent", "failed", "resend"):
        raise ValidationError("Choose sent, failed or resend.", field="outcome",
                              rule="one_of")
    t = messages
    with ops.begin() as con:
        rows = con.execute(sa.select(t).where(t.c.id.in_(list(ids)),
                                              t.c.status == Status.UNKNOWN)).all()
        if not rows:
            raise NotFoundError("None of these messages is waiting for a decision.")
        for row in rows:
            note = f"decided {outcome} by {actor or 'someone'}"
            if outcome == "resend":
                con.execute(sa.update(t).where(t.c.id == row.id).values(
                    status=Status.QUEUED, claimed_by=None, error=note, updated_at=now))
                continue
            status = Status.SENT if outcome == "sent" else Status.FAILED
            con.execute(sa.update(t).where(t.c.id == row.id).values(
                status=status, error=note, updated_at=now,
                sent_at=now if outcome == "sent" else None))
            events.add(con, [events.LogEvent(
                message_id=f"{_PREFIX[status]}:{row.id}", event=_EVENT[status],
                record=row.record, timestamp=now,
                properties=message_properties(row, provider=row.provider, reason=note))])
    return len(rows)
