"""Consent per contact point, channel and purpose (decrees 91/2020 and 13/2023).

The ``consents`` table holds the current state the gate reads; every change is
also a ``Consent Granted`` / ``Consent Revoked`` event in the log, with its
source and proof (the text shown, IP and user agent, who entered it), written
in the same transaction. A change that says what is already recorded is not a
change: no event, no confirmation, so an opt-out is confirmed once however
often it arrives.

A refusal takes effect at once: in the transaction that records it, every
message to that address for that purpose not yet handed to a provider is
suppressed (``opted_out``), and the dispatcher checks consent again right
before each provider call.

Changes carry their time: an older statement never overrides a newer one (an
identify event replayed from last month does not undo today's opt-out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.errors import ValidationError
from sen.messaging import events
from sen.messaging.model import (
    CONSENT_CHANNELS,
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    MESSAGE_SUPPRESSED,
    Channel,
    ConsentStatus,
    Purpose,
    Reason,
    Status,
)
from sen.store.operational import consents, messages, select_in

SOURCES = ("import", "web_form", "identify", "api", "ui", "unsubscribe_link", "sms_keyword",
           "email_complaint", "list_unsubscribe", "push_permission", "erasure")


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One statement of consent for a contact point.

    ``address`` must already be normalised for its channel (E.164 phone,
    lower-case email, push endpoint). ``proof`` keeps what makes it evidence:
    the text shown, IP, user agent, the user who entered it, the event it came
    from. ``record`` ties the change's event to the person (an identity record)
    when known; otherwise the event carries the address so identity can.
    """

    channel: Channel
    address: str
    purpose: Purpose
    status: ConsentStatus
    source: str
    at: datetime
    proof: dict[str, Any] = field(default_factory=dict)
    profile_id: str | None = None
    record: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CONSENT_CHANNELS:
            raise ValidationError(f"Consent is not kept for channel '{self.channel}'.",
                                  field="channel", rule="consent_channel")
        if self.source not in SOURCES:
            raise ValidationError(f"Unknown consent source '{self.source}'; use one of "
                                  f"{', '.join(SOURCES)}.", field="source", rule="consent_source")
        if not self.address:
            raise ValidationError("A consent needs the address it is for.", field="address",
                                  rule="required")


@dataclass(frozen=True, slots=True)
class Applied:
    """What recording some changes did: those that changed the state, and how many
    waiting messages the refusals among them stopped."""

    changed: tuple[ConsentChange, ...]
    stopped: int


def _event_record(change: ConsentChange) -> str:
    return change.record or f"a:{change.channel}:{change.address}"


def _event(change: ConsentChange) -> events.LogEvent:
    granted = change.status == ConsentStatus.GRANTED
    stamp = change.at.strftime("%Y%m%dT%H%M%S.%f")
    context = None
    if change.record is None and change.channel in (Channel.SMS, Channel.ZALO):
        context = {"traits": {"phone": change.address}}
    elif change.record is None and change.channel == Channel.EMAIL:
        context = {"traits": {"email": change.address}}
    return events.LogEvent(
        message_id=f"consent:{change.channel}:{change.purpose}:{change.address}:{stamp}",
        event=CONSENT_GRANTED if granted else CONSENT_REVOKED,
        record=_event_record(change), timestamp=change.at,
        properties={"channel": str(change.channel), "purpose": str(change.purpose),
                    "address": change.address, "status": str(change.status),
                    "source": change.source, "proof": change.proof,
                    "profile_id": change.profile_id},
        context=context)


SLICE = 5000  # addresses per query (SQLite takes up to 32,766 parameters)


def _current(con: sa.Connection, keys: set[tuple[str, str, str]]) -> dict[tuple, Any]:
    """Stored rows for (channel, address, purpose) keys: per channel and purpose, the
    addresses in slices, so each lookup seeks the primary key (channel, address, …)."""
    found: dict[tuple, Any] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for channel, address, purpose in keys:
        groups.setdefault((channel, purpose), []).append(address)
    names = [c.name for c in consents.c]
    sql = (f"SELECT {', '.join(names)} FROM consents WHERE channel = {{p}} AND purpose = {{p}} "
           "AND address IN ({in})")
    for (channel, purpose), addresses in groups.items():
        addresses.sort()
        for values in select_in(con, sql, addresses, (channel, purpose), size=SLICE):
            row = _Row(names, values)
            found[(row.channel, row.address, row.purpose)] = row
    return found


def _with_waiting(con: sa.Connection, addresses: set[str]) -> set[str]:
    """Which of these addresses have messages not yet handed to a provider (read in
    slices, so an import's thousands of refusals cost a few queries, not one each)."""
    found: set[str] = set()
    listed = sorted(addresses)
    for start in range(0, len(listed), 500):
        found.update(con.execute(sa.select(messages.c.address).distinct().where(
            messages.c.address.in_(listed[start:start + 500]),
            messages.c.status.in_([Status.QUEUED, Status.HELD]))).scalars())
    return found


class _Row:
    """A consents row read by the driver, with the attribute names of a SQLAlchemy row."""

    def __init__(self, names: list[str], values: tuple) -> None:
        self.__dict__.update(zip(names, values, strict=True))
        if isinstance(self.updated_at, str):  # SQLite hands back text
            self.updated_at = datetime.fromisoformat(self.updated_at)


def _stop_waiting(con: sa.Connection, change: ConsentChange, now: datetime) -> int:
    """Suppress messages to this address and purpose not yet handed to a provider."""
    t = messages
    waiting = con.execute(sa.select(t.c.id, t.c.key, t.c.record, t.c.campaign, t.c.journey,
                                    t.c.step, t.c.variant, t.c.template, t.c.channel)
                          .where(t.c.address == change.address,
                                 t.c.channel == str(change.channel),
                                 t.c.purpose == str(change.purpose),
                                 t.c.status.in_([Status.QUEUED, Status.HELD]))).all()
    if not waiting:
        return 0
    ids = [w.id for w in waiting]
    con.execute(sa.update(t).where(t.c.id.in_(ids),
                                   t.c.status.in_([Status.QUEUED, Status.HELD]))
                .values(status=Status.SUPPRESSED, error=Reason.OPTED_OUT, updated_at=now))
    events.add(con, [events.LogEvent(
        message_id=f"suppressed:{w.key}", event=MESSAGE_SUPPRESSED, record=w.record,
        timestamp=now,
        properties={"message_id": w.id, "channel": w.channel, "campaign_id": w.campaign,
                    "journey_id": w.journey, "step": w.step, "variant": w.variant,
                    "template": w.template, "reason": str(Reason.OPTED_OUT),
                    "stage": "consent"}) for w in waiting])
    return len(waiting)


def record(con: sa.Connection, changes: Iterable[ConsentChange], *, now: datetime
           ) -> Applied:
    """Apply consent statements inside the caller's transaction, in the order given.

    A statement that matches the status in force, or is older than the change in
    force, is ignored; so several statements about one contact point (a sign-up
    and its later withdrawal read in one batch) are each applied in turn. Each
    real change updates ``consents``, queues its event and, for a refusal, stops
    waiting messages.
    """
    sequences: dict[tuple, list[ConsentChange]] = {}
    for ch in changes:
        sequences.setdefault((str(ch.channel), ch.address, str(ch.purpose)), []).append(ch)
    stored = _current(con, set(sequences))
    changed: list[ConsentChange] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, sequence in sequences.items():
        row = stored.get(key)
        status, since = (row.status, row.updated_at) if row is not None else (None, None)
        last = None
        for ch in sequence:
            if status is not None and (status == ch.status or since > ch.at):
                continue
            status, since, last = str(ch.status), ch.at, ch
            changed.append(ch)
        if last is None:
            continue
        values = {"status": str(last.status), "source": last.source,
                  "proof": orjson.dumps(last.proof).decode(), "profile_id": last.profile_id,
                  "record": last.record, "updated_at": last.at}
        if row is None:
            inserts.append({"channel": key[0], "address": key[1], "purpose": key[2], **values})
        else:
            updates.append({"k_channel": key[0], "k_address": key[1], "k_purpose": key[2],
                            **values})
    # One statement each, executed for many rows: an import states thousands at once.
    if inserts:
        con.execute(sa.insert(consents), inserts)
    if updates:
        c = consents.c
        con.execute(sa.update(consents).where(c.channel == sa.bindparam("k_channel"),
                                              c.address == sa.bindparam("k_address"),
                                              c.purpose == sa.bindparam("k_purpose")), updates)
    revoked = [ch for ch in changed if ch.status == ConsentStatus.REVOKED]
    waiting = _with_waiting(con, {ch.address for ch in revoked})
    stopped = sum(_stop_waiting(con, ch, now) for ch in revoked if ch.address in waiting)
    events.add(con, [_event(ch) for ch in changed])
    return Applied(tuple(changed), stopped)


def apply(ops: sa.Engine, changes: Iterable[ConsentChange], *, now: datetime) -> Applied:
    """:func:`record` in a transaction of its own."""
    with ops.begin() as con:
        return record(con, list(changes), now=now)


def statuses(con: sa.Connection, pairs: Iterable[tuple[Channel | str, str]],
             purpose: Purpose | str) -> dict[tuple[str, str], ConsentStatus]:
    """Current status per (channel, address) for one purpose; absent pairs have none."""
    by_channel: dict[str, set[str]] = {}
    for c, a in pairs:
        if a:
            by_channel.setdefault(str(c), set()).add(a)
    sql = ("SELECT channel, address, status FROM consents WHERE channel = {p} "
           "AND purpose = {p} AND address IN ({in})")
    known = {s.value: s for s in ConsentStatus}
    return {(r[0], r[1]): known[r[2]]
            for channel, addresses in by_channel.items()
            for r in select_in(con, sql, sorted(addresses), (channel, str(purpose)), size=SLICE)}


def every_status(con: sa.Connection, channels: Iterable[Channel | str],
                 purpose: Purpose | str) -> dict[tuple[str, str], ConsentStatus]:
    """Every stored status for one purpose on these channels, in one pass (a launch
    to a large audience reads them all rather than look each up)."""
    known = {s.value: s for s in ConsentStatus}
    out: dict[tuple[str, str], ConsentStatus] = {}
    for channel in {str(c) for c in channels}:
        rows = con.exec_driver_sql(
            "SELECT address, status FROM consents WHERE channel = {p} AND purpose = {p}"
            .replace("{p}", "%s" if con.dialect.name == "postgresql" else "?"),
            (channel, str(purpose))).fetchall()
        for address, status in rows:
            out[(channel, address)] = known[status]
    return out


def for_addresses(con: sa.Connection, addresses: Sequence[str]) -> list[Any]:
    """Every stored consent of these addresses (the 360's consent card)."""
    if not addresses:
        return []
    return list(con.execute(sa.select(consents).where(consents.c.address.in_(list(addresses)))
                            .order_by(consents.c.channel, consents.c.purpose)).all())
