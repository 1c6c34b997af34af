"""Who a request is about: a profile, its records, and every value that names her.

Read from the analytical store, on the caller's cursor (inside its transaction).
An export reads what these name; an erasure removes it. A merged-away profile id
is followed to the profile that holds its records now, unless that id was
erased before: then it names nobody any more, and following the merge log from
it could lead to someone else.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sen.identity import profiles
from sen.identity.extract import record_key
from sen.privacy.scrub import Matcher

# Identifier types whose values are a way to reach or name her; device ids and
# push tokens are hers too, but only identity and messaging hold them.
_CONTACT_TYPES = ("phone", "email", "zalo_id", "loyalty_card", "marketplace_buyer")
# Whole names and addresses name her; a first or last name alone ("Nguyễn") names
# millions, so it is never searched for.
_TEXT_FIELDS = ("name", "address")


@dataclass(frozen=True)
class Subject:
    """One customer as identity knows her, at the moment of the request."""

    requested: str
    profile_id: str
    records: tuple[str, ...]
    identifiers: tuple[tuple[str, str, str | None], ...]  # (id_type, raw, value)
    fields: tuple[tuple[str, str], ...]  # (field, value as typed)
    names: tuple[str, ...]  # her whole names as shown and folded
    devices: tuple[tuple[str, str | None], ...]  # (device_id, push_token)
    endpoints: tuple[str, ...] = ()  # Web Push endpoints of her browsers (messaging's)

    @property
    def user_ids(self) -> list[str]:
        return [r[2:] for r in self.records if r.startswith("u:")]

    @property
    def anonymous_ids(self) -> list[str]:
        return [r[2:] for r in self.records if r.startswith("a:")]

    @property
    def profile_ids(self) -> list[str]:
        """Her profile id now, the one asked for, and each record's own id (which a
        record carries before it joins others): the ids messaging may have kept."""
        ids = {self.requested, self.profile_id, *(record_profile_id(r) for r in self.records)}
        return sorted(ids)

    def values(self, *types: str) -> set[str]:
        return {v for t, _, v in self.identifiers if v is not None and t in types}

    @property
    def addresses(self) -> set[str]:
        """Her addresses as messaging keys them: phones in E.164, emails lower-case,
        Zalo ids, and the push tokens of her devices."""
        return (self.values("phone", "email", "zalo_id")
                | {token for _, token in self.devices if token} | set(self.endpoints))

    def tokens(self) -> set[str]:
        """Every string whose presence in a text names her."""
        found = {raw for t, raw, _ in self.identifiers if t in _CONTACT_TYPES}
        found |= self.values(*_CONTACT_TYPES, "user_id", "anonymous_id", "device_id")
        for phone in self.values("phone"):
            if phone.startswith("+84"):  # as people write it: 0912…, 84912…
                found |= {"0" + phone[3:], phone[1:]}
        for value in self.values("marketplace_buyer"):
            found.add(value.partition(":")[2])
        found |= {v for f, v in self.fields if f in _TEXT_FIELDS}
        found |= set(self.names)
        found |= {d for d, _ in self.devices} | {t for _, t in self.devices if t}
        found |= set(self.records) | set(self.profile_ids) | set(self.endpoints)
        return found

    def matcher(self) -> Matcher:
        return Matcher(self.tokens())


def record_profile_id(record: str) -> str:
    """The id a profile made of this record alone would have (``sen.identity.resolver``)."""
    return "p_" + hashlib.md5(record.encode()).hexdigest()[:16]


def _rows(cur: Any, sql: str, params: list[Any]) -> list[tuple]:
    return cur.execute(sql, params).fetchall()


_BELONGS = ("(list_contains(?::VARCHAR[], trim(user_id)) "
            "OR list_contains(?::VARCHAR[], trim(anonymous_id))) "
            f"AND list_contains(?::VARCHAR[], {record_key()})")


def belongs(subject: Subject) -> tuple[str, list[Any]]:
    """A filter for event and order rows of her records, and its parameters. Raw ids
    are compared first (cheap, and most rows fail it); only rows that pass pay for the
    exact record key."""
    return _BELONGS, [subject.user_ids, subject.anonymous_ids, list(subject.records)]


# Rows of identity's evidence tables of some records, found by their integer key;
# parameters: the records, twice.
OF_RECORDS = ("rkey IN (SELECT md5_number_upper(unnest(?::VARCHAR[]))) "
              "AND list_contains(?::VARCHAR[], record)")


def resolve(cur: Any, profile_id: str, *, follow: bool = True) -> str | None:
    """The live profile ``profile_id`` names: itself, or (``follow``) the profile it
    was merged into; None when there is none."""
    if cur.execute("SELECT 1 FROM profiles WHERE profile_id = ?", [profile_id]).fetchall():
        return profile_id
    return profiles.current_id(cur, profile_id) if follow else None


def find(cur: Any, profile_id: str, *, follow: bool = True) -> Subject | None:
    """Her profile, records and values, or None when no live profile is named."""
    current = resolve(cur, profile_id, follow=follow)
    if current is None:
        return None
    records = profiles.records(cur, current)
    params = [records, records]
    identifiers = _rows(cur, f"""
        SELECT DISTINCT id_type, raw, value FROM identity_observations WHERE {OF_RECORDS}
        ORDER BY ALL""", params)
    fields = _rows(cur, f"""
        SELECT DISTINCT field, value FROM identity_fields WHERE {OF_RECORDS}
        ORDER BY ALL""", params)
    raw_names = sorted({v for f, v in fields if f == "name"})
    names = _rows(cur, """
        SELECT DISTINCT unnest([name, folded]) FROM identity_names
        WHERE list_contains(?::VARCHAR[], raw)""", [raw_names])
    devices = _rows(cur, f"""
        SELECT DISTINCT device_id, push_token FROM identity_devices WHERE {OF_RECORDS}
        ORDER BY ALL""", params)
    return Subject(
        requested=profile_id, profile_id=current, records=tuple(records),
        identifiers=tuple(identifiers), fields=tuple(fields),
        names=tuple(sorted(n for (n,) in names if n)), devices=tuple(devices))


def with_endpoints(cur: Any, subject: Subject, endpoints: Iterable[str]) -> Subject:
    """``subject`` with her Web Push endpoints, and the records their consent events
    made (``a:push:<endpoint>``: such an event names only the browser, so identity
    keeps it apart from her), which are hers as well."""
    endpoints = tuple(sorted(set(endpoints)))
    wanted = [f"a:push:{e}" for e in endpoints]
    found = [r for (r,) in cur.execute(
        "SELECT DISTINCT record FROM identity_profiles WHERE list_contains(?::VARCHAR[], record)",
        [wanted]).fetchall()]
    records = tuple(sorted(set(subject.records) | set(found)))
    return dataclasses.replace(subject, endpoints=endpoints, records=records)
