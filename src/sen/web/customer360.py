"""The customer 360 for the web layer: reads in one snapshot, decisions on the writer thread.

Reads (look-up, search, a profile with everything about it, the review queue)
run on the calling thread's DuckDB cursor inside one read transaction, so the
parts of a page agree with each other while the identity updater writes.
Decisions write, and DuckDB has one writer: they run on the event writer's
thread (``writer.run_exclusive``), between commits and identity updates.

Every function here blocks; async endpoints call them through the threadpool.
The identity rules themselves live in :mod:`sen.identity`; this module only
gathers and shapes what a page or an API answer needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sen.errors import NotFoundError, ValidationError
from sen.identity import decisions, normalise, profiles
from sen.identity.ids import IdentifierType, Rejected
from sen.store.analytics import DuckDBEngine
from sen.traits.fields import ProfileTraits, read_profile

T = TypeVar("T")

# The identifier types one can look a customer up by, in the order the API lists them.
LOOKUP_TYPES: tuple[str, ...] = ("phone", "email", "user_id", "anonymous_id", "zalo_id",
                                 "loyalty_card", "marketplace_buyer", "device_id")
# Events the messaging channels write back to the log.
MESSAGE_EVENTS = ("Message Sent", "Message Delivered", "Message Opened", "Message Clicked",
                  "Message Failed", "Message Bounced", "Message Unsubscribed")
TIMELINE_LIMIT = 100


@contextmanager
def snapshot(engine: DuckDBEngine) -> Iterator[Any]:
    """This thread's cursor inside a read transaction, rolled back afterwards."""
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    finally:
        cur.execute("ROLLBACK")


def lookup_value(id_type: str, raw: str) -> str:
    """The canonical value of a typed identifier, or a ValidationError saying why not."""
    value = profiles.normalised_value(id_type, raw)
    if value is not None:
        return value
    result = normalise(IdentifierType(id_type), raw)
    why = result.message if isinstance(result, Rejected) else "it is empty"
    raise ValidationError(f"{raw!r} cannot be a {id_type}: {why}", field=id_type,
                          rule=result.reason if isinstance(result, Rejected) else "empty")


def lookup(engine: DuckDBEngine, id_type: str, raw: str) -> list[dict[str, Any]]:
    """Profiles holding an identifier as a person typed it; several for a shared value."""
    lookup_value(id_type, raw)
    with snapshot(engine) as cur:
        return profiles.lookup(cur, id_type, raw)


def search(engine: DuckDBEngine, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Profiles by phone, email or name."""
    with snapshot(engine) as cur:
        return profiles.search(cur, query, limit)


def _current(cur: Any, profile_id: str) -> str:
    found = profiles.current_id(cur, profile_id)
    if found is None:
        raise NotFoundError(f"There is no profile {profile_id!r}.",
                            hint="Look the customer up by phone, email or name instead.")
    return found


def current_id(engine: DuckDBEngine, profile_id: str) -> str:
    """Where ``profile_id`` lives now (itself, or the profile it was merged into)."""
    with snapshot(engine) as cur:
        return _current(cur, profile_id)


@dataclass
class Customer360:
    """Everything known about one profile, read in one snapshot."""

    profile: dict[str, Any]
    identifiers: list[dict[str, Any]]
    field_history: list[dict[str, Any]]
    merge_history: list[dict[str, Any]]
    person_links: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    traits: ProfileTraits | None = None

    @property
    def profile_id(self) -> str:
        return self.profile["profile_id"]

    @property
    def joining(self) -> list[dict[str, Any]]:
        """Linking values carried by more than one of the profile's records: what
        joined them, so what an unmerge can split on."""
        carriers: dict[tuple[str, str], set[str]] = {}
        for i in self.identifiers:
            if i["status"] == "linking":
                carriers.setdefault((i["id_type"], i["value"]), set()).add(i["record"])
        return [{"id_type": t, "value": v, "records": len(r)}
                for (t, v), r in carriers.items() if len(r) > 1]

    @property
    def blocked(self) -> list[dict[str, Any]]:
        """Values a person blocked (an unmerge), which a restore would undo."""
        seen = dict.fromkeys((i["id_type"], i["value"]) for i in self.identifiers
                             if i["status"] == "blocked")
        return [{"id_type": t, "value": v} for t, v in seen]


def customer_360(engine: DuckDBEngine, profile_id: str, *, with_activity: bool = False,
                 with_traits: bool = False, events_limit: int = TIMELINE_LIMIT,
                 before: datetime | None = None) -> Customer360:
    """The profile with its identifiers, field and merge history; its events, orders
    and traits when asked (the page asks for activity, which brings the traits too).
    A merged-away id gives the profile it lives in now: callers compare
    :attr:`Customer360.profile_id` with the id they asked for."""
    with snapshot(engine) as cur:
        current = _current(cur, profile_id)
        view = Customer360(
            profile=profiles.profile(cur, current),
            identifiers=profiles.identifiers(cur, current),
            field_history=profiles.field_history(cur, current),
            merge_history=profiles.merge_history(cur, current),
            person_links=profiles.person_links(cur, current),
        )
        if with_activity:
            view.events = profiles.events(cur, current, limit=events_limit, before=before)
            view.orders = profiles.orders(cur, current)
            view.messages = profiles.events(cur, current, limit=events_limit,
                                            names=list(MESSAGE_EVENTS))
        if with_traits or with_activity:
            view.traits = read_profile(cur, current)
    return view


def traits(engine: DuckDBEngine, profile_id: str) -> tuple[str, ProfileTraits]:
    """The current id of ``profile_id`` and its traits (empty before the first computation)."""
    with snapshot(engine) as cur:
        current = _current(cur, profile_id)
        return current, read_profile(cur, current)


def events(engine: DuckDBEngine, profile_id: str, *, limit: int = TIMELINE_LIMIT,
           before: datetime | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The current id of ``profile_id`` and its timeline, newest first."""
    with snapshot(engine) as cur:
        current = _current(cur, profile_id)
        return current, profiles.events(cur, current, limit=limit, before=before)


def orders(engine: DuckDBEngine, profile_id: str, *, limit: int = TIMELINE_LIMIT
           ) -> tuple[str, list[dict[str, Any]]]:
    """The current id of ``profile_id`` and its orders in every channel, newest first."""
    with snapshot(engine) as cur:
        current = _current(cur, profile_id)
        return current, profiles.orders(cur, current, limit=limit)


def review_queue(engine: DuckDBEngine, limit: int = 200) -> list[dict[str, Any]]:
    """Probable duplicates waiting for a person, most probable first."""
    with snapshot(engine) as cur:
        return decisions.pending(cur, limit)


# -- decisions: on the writer thread ------------------------------------------------------

def on_writer(writer: Any, fn: Callable[[], T]) -> T:
    """Run a decision on the event writer's thread and wait for it (blocks)."""
    return writer.run_exclusive(fn)


def unmerge(writer: Any, engine: DuckDBEngine, profile_id: str, id_type: str, value: str, *,
            actor: str, note: str | None = None) -> Any:
    def run() -> Any:
        return decisions.unmerge(engine, _current(engine.cursor(), profile_id), id_type, value,
                                 actor=actor, note=note)
    return on_writer(writer, run)


def restore(writer: Any, engine: DuckDBEngine, id_type: str, value: str, *, actor: str) -> Any:
    return on_writer(writer, lambda: decisions.restore(engine, id_type, value, actor=actor))


def link(writer: Any, engine: DuckDBEngine, record_a: str, record_b: str, *, actor: str,
         note: str | None = None) -> Any:
    return on_writer(writer, lambda: decisions.link(engine, record_a, record_b, actor=actor,
                                                    note=note))


def unlink(writer: Any, engine: DuckDBEngine, record_a: str, record_b: str, *,
           actor: str) -> Any:
    return on_writer(writer, lambda: decisions.unlink(engine, record_a, record_b, actor=actor))


def decide(writer: Any, engine: DuckDBEngine, record_a: str, record_b: str, *, approve: bool,
           actor: str) -> Any:
    """A reviewer's answer on a pair; None when it was a rejection."""
    return on_writer(writer, lambda: decisions.decide(engine, record_a, record_b,
                                                      approve=approve, actor=actor))


def score(writer: Any, engine: DuckDBEngine) -> int:
    """Score probable duplicates now; the number of pairs waiting for review."""
    return on_writer(writer, lambda: decisions.score_candidates(engine))
