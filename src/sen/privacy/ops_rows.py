"""Which rows of the operational store are hers.

Messaging keys its rows three ways: by profile id (the outbox, audiences,
coupons), by identity record (push subscriptions, consent events) and by
address (consents, unreachable addresses). A :class:`Scope` holds all three,
from identity's view of her (:class:`~sen.privacy.subject.Subject`); when
identity knows nobody by that id any more (an erasure whose operational half
failed, asked again), the scope is widened from what the operational store
itself says about the profile id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from sen.messaging.model import CONSENT_CHANNELS
from sen.privacy.scrub import Matcher
from sen.privacy.subject import Subject
from sen.store.operational import (
    audience_members,
    consents,
    coupons,
    messages,
    pending_events,
    push_subscriptions,
)


@dataclass
class Scope:
    """Her profile ids, records and addresses, as the operational store keys them."""

    profile_ids: set[str]
    records: set[str]
    addresses: set[str]
    tokens: set[str] = field(default_factory=set)  # what names her in text
    endpoints: set[str] = field(default_factory=set)  # her Web Push endpoints

    @classmethod
    def of(cls, subject: Subject) -> Scope:
        return cls(set(subject.profile_ids), set(subject.records), set(subject.addresses),
                   subject.tokens(), set(subject.endpoints))

    @property
    def user_ids(self) -> set[str]:
        return {r[2:] for r in self.records if r.startswith("u:")}

    @property
    def anonymous_ids(self) -> set[str]:
        """Her anonymous ids, and those a consent event takes when it knows only the
        address (``sms:+8491…``)."""
        return ({r[2:] for r in self.records if r.startswith("a:")}
                | {f"{ch}:{a}" for ch in CONSENT_CHANNELS for a in self.addresses})

    def matcher(self) -> Matcher:
        return Matcher(self.tokens | self.addresses | self.endpoints | self.records
                       | self.profile_ids)

    def is_empty(self) -> bool:
        return not (self.records or self.addresses or self.endpoints)


def endpoints_of(con: sa.Connection, records: Iterable[str]) -> set[str]:
    """The Web Push endpoints of these records' browsers (a push channel's addresses)."""
    t = push_subscriptions
    found = con.execute(sa.select(t.c.endpoint).where(t.c.record.in_(sorted(records))))
    return {r.endpoint for r in found}


def widen(con: sa.Connection, scope: Scope) -> None:
    """Records and addresses the operational store ties to her profile ids."""
    ids = sorted(scope.profile_ids)
    for t in (messages, consents, audience_members, coupons):
        cols = [t.c.record] + ([t.c.address] if "address" in t.c else [])
        for row in con.execute(sa.select(*cols).where(t.c.profile_id.in_(ids))):
            scope.records |= {row.record} if row.record else set()
            if "address" in t.c and row.address:  # an outbox row's or a consent's
                scope.addresses.add(row.address)


def her_messages(scope: Scope) -> sa.ColumnElement[bool]:
    t = messages
    return sa.or_(t.c.profile_id.in_(sorted(scope.profile_ids)),
                  t.c.record.in_(sorted(scope.records)))


def her_consents(scope: Scope) -> sa.ColumnElement[bool]:
    t = consents
    return sa.or_(t.c.address.in_(sorted(scope.addresses | scope.endpoints)),
                  t.c.record.in_(sorted(scope.records)),
                  t.c.profile_id.in_(sorted(scope.profile_ids)))


def her_coupons(scope: Scope, message_ids: list[int]) -> sa.ColumnElement[bool]:
    t = coupons
    return sa.or_(t.c.profile_id.in_(sorted(scope.profile_ids)),
                  t.c.record.in_(sorted(scope.records)), t.c.message_id.in_(message_ids))


def her_audiences(scope: Scope) -> sa.ColumnElement[bool]:
    t = audience_members
    return sa.or_(t.c.profile_id.in_(sorted(scope.profile_ids)),
                  t.c.record.in_(sorted(scope.records)))


def her_pending(scope: Scope) -> sa.ColumnElement[bool]:
    """Events waiting for (or already through) the relay that are about her: by her
    ids, or by a messageId naming her profile or an address of hers."""
    t = pending_events
    named = [t.c.message_id.contains(v, autoescape=True)
             for v in sorted(scope.profile_ids | scope.addresses) if v]
    return sa.or_(t.c.user_id.in_(sorted(scope.user_ids)),
                  t.c.anonymous_id.in_(sorted(scope.anonymous_ids)), *named)
