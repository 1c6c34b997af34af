"""Consent that arrives with customer data: import columns, web sign-up boxes,
Segment's consent object.

Customer files map a column such as "Đồng ý nhận khuyến mãi" to
``consent_advertising`` (or ``consent_sms`` / ``consent_zalo`` /
``consent_email`` for one channel); a shop's sign-up form sends the ticked
boxes as identify traits (``consent: {"sms": true, "email": false}`` or the
same flat keys), and Segment's consent management sends
``context.consent.categoryPreferences`` (a category named Advertising or
Marketing covers every channel). All of them end up as identify events in the
log; :func:`extract` reads the new ones, keeps its place in the log, and
records the consent they state for the addresses in the same event (or, when
the event names none, the golden record's).

A "yes" is a grant. A "no" is a refusal only where consent was granted before
(she changed her mind): a POS column that says "no" for everyone who was
never asked must not read as a wave of opt-outs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.identity.emails import normalise_email
from sen.identity.phones import normalise_phone
from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.messaging.settings import read_value, write_value

MARK = "consent.events_rowid"
YES = frozenset({"1", "y", "yes", "true", "x", "co", "có", "dong y", "đồng ý", "ok", "granted"})
NO = frozenset({"0", "n", "no", "false", "khong", "không", "tu choi", "từ chối", "revoked"})
_CHANNELS = {"sms": (Channel.SMS,), "zalo": (Channel.ZALO,), "email": (Channel.EMAIL,),
             "push": (Channel.PUSH,),
             "advertising": (Channel.SMS, Channel.ZALO, Channel.EMAIL),
             "marketing": (Channel.SMS, Channel.ZALO, Channel.EMAIL)}


def truth(value: Any) -> bool | None:
    """True / False for the ways people write yes and no, None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
    return None


def stated(traits: dict[str, Any], context: dict[str, Any]) -> dict[Channel, bool]:
    """Channel → yes/no stated by one event's traits and context (later keys win
    over broader ones: ``consent_sms`` beats ``consent_advertising``)."""
    said: dict[Channel, bool] = {}
    prefs = (context.get("consent") or {}).get("categoryPreferences") or {}
    nested = traits.get("consent") if isinstance(traits.get("consent"), dict) else {}
    sources = [{k.lower(): v for k, v in prefs.items()} if isinstance(prefs, dict) else {},
               {k.lower(): v for k, v in nested.items()},
               {k.removeprefix("consent_"): v for k, v in traits.items()
                if k.startswith("consent_")}]
    for source in sources:
        for broad in (True, False):
            for key, value in source.items():
                channels = _CHANNELS.get(key)
                if channels is None or (len(channels) > 1) != broad:
                    continue
                answer = truth(value)
                if answer is not None:
                    for ch in channels:
                        said[ch] = answer
    return said


@dataclass(frozen=True, slots=True)
class Statement:
    """What one event said, with where it came from."""

    record: str
    at: datetime
    source: str
    said: dict[Channel, bool]
    phone: str | None
    email: str | None
    proof: dict[str, Any]


def _address(channel: Channel, s: Statement) -> str | None:
    return s.email if channel == Channel.EMAIL else s.phone if channel != Channel.PUSH else None


def changes(statements: Iterable[Statement],
            current: dict[tuple[str, str], ConsentStatus]) -> list[ConsentChange]:
    """Consent changes for statements in log order, given the advertising consent
    before the first: a "no" counts when a "yes" came before it, stored or in an
    earlier statement (a sign-up and its withdrawal can be read in one batch)."""
    state = dict(current)
    out = []
    for s in statements:
        for channel, yes in s.said.items():
            address = _address(channel, s)
            if not address:
                continue
            key = (str(channel), address)
            if not yes and state.get(key) != ConsentStatus.GRANTED:
                continue
            status = ConsentStatus.GRANTED if yes else ConsentStatus.REVOKED
            state[key] = status
            out.append(ConsentChange(channel, address, Purpose.ADVERTISING, status,
                                     s.source, s.at, s.proof, record=s.record))
    return out


_EVENTS_SQL = """
    SELECT e.rowid, e.message_id, e.user_id, e.anonymous_id, e.timestamp, e.load_id, e.source,
           e.traits, e.context, p.phone, p.email
    FROM events e
    LEFT JOIN identity_profiles ip ON ip.record = CASE WHEN e.user_id IS NOT NULL
        THEN 'u:' || e.user_id ELSE 'a:' || e.anonymous_id END
    LEFT JOIN profiles p ON p.profile_id = ip.profile_id
    WHERE e.rowid > ? AND e.type = 'identify'
      AND (contains(CAST(e.traits AS VARCHAR), '"consent')
           OR contains(CAST(e.context AS VARCHAR), '"categoryPreferences"'))
    ORDER BY e.rowid LIMIT ?
"""


def _statement(row: Any) -> Statement | None:
    traits = orjson.loads(row.traits) if row.traits else {}
    context = orjson.loads(row.context) if row.context else {}
    said = stated(traits, context)
    if not said:
        return None
    phone = normalise_phone(str(traits["phone"])).e164 if traits.get("phone") else None
    email = normalise_email(str(traits["email"])).email if traits.get("email") else None
    record = f"u:{row.user_id}" if row.user_id else f"a:{row.anonymous_id}"
    proof = {"event": row.message_id, "ip": context.get("ip"),
             "user_agent": context.get("userAgent"),
             "page": (context.get("page") or {}).get("url"), "said": {
                 str(k): v for k, v in said.items()}}
    return Statement(record, row.timestamp, "import" if row.load_id else "identify", said,
                     phone or row.phone, email or (row.email or "").strip().lower() or None,
                     {k: v for k, v in proof.items() if v is not None})


def extract(engine: Any, ops: sa.Engine, *, now: datetime, limit: int = 50_000) -> int:
    """Record the consent stated by identify events since the last run; how many
    events were read. Safe to run again (the same statement is not a change)."""
    start = int(read_value(ops, MARK, "-1"))
    cur = engine.cursor()
    rel = cur.execute(_EVENTS_SQL, [start, limit])
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r, strict=True)) for r in rel.fetchall()]
    if not rows:
        return 0
    statements = [s for s in (_statement(_Row(r)) for r in rows) if s is not None]
    with ops.begin() as con:
        pairs = [(str(ch), _address(ch, s)) for s in statements for ch in s.said]
        current = consent.statuses(con, [(c, a) for c, a in pairs if a], Purpose.ADVERTISING)
        consent.record(con, changes(statements, current), now=now)
        write_value(con, MARK, str(rows[-1]["rowid"]), now=now)
    return len(rows)


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
