"""Keep an ad platform's audience equal to a segment's members.

A run compares what was last sent (``previous``) with the segment's members
now (``current``) and pushes the difference through an
:class:`AudienceDestination`: customers who left the segment (they just bought,
so stop paying to show them ads) are removed first, then newcomers are added.
A member whose email or phone changed is removed under the old identifiers
and added under the new ones.

The diff (:func:`plan_sync`) is pure; :class:`AudienceSync` does the I/O.

Retrying is safe. Both platforms treat an audience as a set of hashed
identifiers: adding one that is already there, or removing one that is not,
changes nothing. So when a run fails half-way, keep the old ``previous`` and
run again: the removals and additions that already went through are sent a
second time, harmlessly, and the rest follow. Only after a run returns should
the caller store :attr:`SyncReport.state` as the next ``previous``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sen.segments.audiences.normalise import google_email, google_phone

Contact = tuple[str | None, str | None]
"""A member's raw ``(email, phone)`` as stored on the profile; either may be None."""


@dataclass(frozen=True, slots=True)
class Member:
    """A member with identifiers normalised by Sen: email lower-cased, phone in E.164.

    Destinations turn these into their own format (Meta drops the ``+``).
    """

    profile_id: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A member that cannot be uploaded: neither email nor phone is usable."""

    profile_id: str
    email_reason: str | None
    phone_reason: str | None


class AudienceDestination(Protocol):
    """Where members go: Meta Custom Audiences, Google Customer Match, or a test double."""

    name: str

    def add(self, members: Sequence[Member]) -> None:
        """Add ``members`` to the audience (adding one already there is harmless)."""

    def remove(self, members: Sequence[Member]) -> None:
        """Remove ``members`` from the audience (removing one not there is harmless)."""


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a run has to send: removals first, then additions."""

    removes: tuple[Member, ...]
    adds: tuple[Member, ...]
    unchanged: int
    skipped: tuple[Skipped, ...]
    state: dict[str, Member] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """Counts for one run, and the state to keep as the next run's ``previous``."""

    destination: str
    added: int
    removed: int
    unchanged: int
    skipped_without_identifiers: int
    state: dict[str, Member]


def member_of(profile_id: str, contact: Contact) -> Member | Skipped:
    """Normalise one member's contact, or say why it has nothing to upload.

    >>> member_of("p1", (" Lan@Gmail.com", "0912 345 678"))
    Member(profile_id='p1', email='lan@gmail.com', phone='+84912345678')
    """
    email, phone = google_email(contact[0]), google_phone(contact[1])
    if not email.ok and not phone.ok:
        return Skipped(profile_id, email.reason, phone.reason)
    return Member(profile_id, email.value, phone.value)


def plan_sync(previous: Mapping[str, Member], current: Mapping[str, Contact]) -> SyncPlan:
    """The removals and additions that turn ``previous`` into ``current``.

    ``previous`` is the :attr:`SyncReport.state` of the last run (empty the
    first time); ``current`` maps each member's profile id to its raw contact.
    """
    state: dict[str, Member] = {}
    skipped: list[Skipped] = []
    for profile_id in sorted(current):
        member = member_of(profile_id, current[profile_id])
        if isinstance(member, Skipped):
            skipped.append(member)
        else:
            state[profile_id] = member
    removes = [m for pid, m in sorted(previous.items()) if state.get(pid) != m]
    adds = [m for pid, m in state.items() if previous.get(pid) != m]
    unchanged = len(state) - len(adds)
    return SyncPlan(tuple(removes), tuple(adds), unchanged, tuple(skipped), state)


class AudienceSync:
    """Push a segment's membership changes to one destination::

        report = AudienceSync(MetaCustomAudience(audience_id, token)).run(last_state, members)
        save(report.state)  # the next run's ``previous``
    """

    def __init__(self, destination: AudienceDestination) -> None:
        self.destination = destination

    def run(self, previous: Mapping[str, Member], current: Mapping[str, Contact]) -> SyncReport:
        """Send removals then additions; raises the destination's error if one fails."""
        plan = plan_sync(previous, current)
        if plan.removes:
            self.destination.remove(plan.removes)
        if plan.adds:
            self.destination.add(plan.adds)
        return SyncReport(
            destination=self.destination.name,
            added=len(plan.adds),
            removed=len(plan.removes),
            unchanged=plan.unchanged,
            skipped_without_identifiers=len(plan.skipped),
            state=plan.state,
        )
