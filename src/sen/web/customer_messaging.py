"""A customer's consent and messages, as the customer 360 and its API show them.

Consent is kept per contact point (channel, address, purpose), so a profile's
consent is that of her addresses; a channel she has an address on but no
record for shows as "not recorded". Messages are the outbox rows of her
records (a message keeps the record it was sent to, so it follows merges and
splits) and of her profile id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.messaging import audience, consent
from sen.messaging.model import CONSENT_CHANNELS, Purpose
from sen.store.operational import messages

MESSAGES_SHOWN = 20
PROOF_KEYS = ("note", "entered_by", "message_id", "page", "ip", "keyword", "text")


@dataclass(frozen=True)
class ConsentRow:
    channel: str
    address: str
    purpose: str
    status: str  # granted, revoked, none (nothing recorded)
    source: str | None
    updated_at: datetime | None
    proof: dict[str, Any]

    def proof_summary(self) -> list[tuple[str, str]]:
        """The few facts that make the record evidence, in a fixed order."""
        return [(k, str(self.proof[k])) for k in PROOF_KEYS if self.proof.get(k)]


def member(engine: Any, ops: sa.Engine, profile_id: str) -> audience.Member | None:
    found = audience.with_push(engine, ops, audience.profiles(engine, [profile_id]))
    return found[0] if found else None


def consent_rows(engine: Any, ops: sa.Engine, profile_id: str) -> list[ConsentRow]:
    """Every (channel, purpose) she can be reached on, with what is recorded."""
    m = member(engine, ops, profile_id)
    if m is None:
        return []
    points = [(str(ch), m.address(ch)) for ch in CONSENT_CHANNELS if m.address(ch)]
    with ops.connect() as con:
        rows = consent.for_addresses(con, sorted({a for _, a in points}))
    known = {(r.channel, r.address, r.purpose): r for r in rows}
    out = []
    for channel, address in points:
        for purpose in (str(Purpose.ADVERTISING), str(Purpose.CARE)):
            r = known.get((channel, address, purpose))
            out.append(ConsentRow(channel, address, purpose, r.status if r else "none",
                                  r.source if r else None, r.updated_at if r else None,
                                  orjson.loads(r.proof or "{}") if r else {}))
    return out


def recent_messages(engine: Any, ops: sa.Engine, profile_id: str,
                    limit: int = MESSAGES_SHOWN) -> list[Any]:
    """Outbox rows to her, newest first."""
    records = list(audience.records_of(engine, [profile_id]))
    t = messages
    who = t.c.profile_id == profile_id
    if records:
        who = sa.or_(who, t.c.record.in_(records))
    with ops.connect() as con:
        return con.execute(sa.select(t).where(who).order_by(t.c.due_at.desc(), t.c.id.desc())
                           .limit(limit)).all()
