"""Who a sender reaches, and at which addresses: read from the analytical store.

A saved segment's members come with their golden record's phone, email and Zalo
id and their representative record; web push subscriptions are looked up by
the records of each profile (a browser subscribes as a visitor, who may have
become a known customer since). Holdouts are drawn here too: a stable,
recorded random share of the audience that is never messaged, so measurement
can compare like with like.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from sen.messaging.model import Channel
from sen.store.operational import push_subscriptions


@dataclass(frozen=True, slots=True)
class Member:
    """One profile of an audience and the addresses it can be reached at."""

    profile_id: str
    record: str | None
    phone: str | None
    email: str | None
    zalo_id: str | None
    push: str | None = None  # the newest live Web Push endpoint of her browsers

    def address(self, channel: Channel) -> str | None:
        if channel in (Channel.SMS, Channel.ZALO):
            return self.phone
        if channel == Channel.EMAIL:
            return self.email
        if channel == Channel.PUSH:
            return self.push
        return None


_MEMBER_SQL = """
    SELECT p.profile_id, p.record, p.phone, lower(trim(p.email)) AS email, p.zalo_id
    FROM {source} JOIN profiles p USING (profile_id)
    ORDER BY p.profile_id
"""


def _members(engine: object, source: str, params: list) -> list[Member]:
    rows = engine.execute(_MEMBER_SQL.format(source=source), params).fetchall()  # type: ignore[attr-defined]
    return [Member(*r) for r in rows]


def segment_members(engine: object, segment: str) -> list[Member]:
    """The current members of a saved segment, with their addresses."""
    return _members(engine, "(SELECT profile_id FROM segment_members WHERE segment = ?) m",
                    [segment])


def profiles(engine: object, profile_ids: Sequence[str]) -> list[Member]:
    """Chosen profiles (a test send), with their addresses."""
    return _members(engine, "(SELECT unnest(?::VARCHAR[]) AS profile_id) m", [list(profile_ids)])


def records_of(engine: object, profile_ids: Sequence[str]) -> dict[str, str]:
    """record → profile id, for every record of these profiles."""
    rows = engine.execute(  # type: ignore[attr-defined]
        "SELECT record, profile_id FROM identity_profiles "
        "WHERE profile_id IN (SELECT unnest(?::VARCHAR[]))", [list(profile_ids)]).fetchall()
    return dict(rows)


def with_push(engine: object, ops: sa.Engine, members: list[Member]) -> list[Member]:
    """Members with the endpoint of their newest live push subscription, if any."""
    owner = records_of(engine, [m.profile_id for m in members])
    if not owner:
        return members
    t = push_subscriptions
    newest: dict[str, tuple] = {}
    records = sorted(owner)
    with ops.connect() as con:
        for start in range(0, len(records), 900):
            for r in con.execute(sa.select(t.c.record, t.c.endpoint, t.c.last_seen_at).where(
                    t.c.record.in_(records[start:start + 900]), t.c.removed_at.is_(None))):
                pid = owner[r.record]
                if pid not in newest or r.last_seen_at > newest[pid][1]:
                    newest[pid] = (r.endpoint, r.last_seen_at)
    if not newest:
        return members
    return [Member(m.profile_id, m.record, m.phone, m.email, m.zalo_id,
                   newest.get(m.profile_id, (None,))[0]) for m in members]


def in_holdout(owner: str, profile_id: str, percent: float) -> bool:
    """Whether a profile falls in ``owner``'s holdout of ``percent``: a hash of both,
    so the draw is random across profiles, stable across runs and recorded."""
    if percent <= 0:
        return False
    digest = hashlib.blake2b(f"{owner}\x00{profile_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < percent / 100


def split(owner: str, members: Iterable[Member], percent: float
          ) -> tuple[list[Member], list[Member]]:
    """(treatment, holdout)."""
    treatment, holdout = [], []
    for m in members:
        (holdout if in_holdout(owner, m.profile_id, percent) else treatment).append(m)
    return treatment, holdout
