"""The outbox: candidate messages through the gate and into ``messages``, atomically.

:func:`enqueue` takes candidates (a profile, her addresses on the sender's
channels in fallback order, the template context) in chunks. Each chunk is one
transaction that

1. locks the chunk's profiles and addresses (advisory locks on PostgreSQL, so
   two campaigns launched together serialise only where they share a
   recipient; SQLite runs one writer at a time anyway),
2. reads what the gate needs: consent, unreachable addresses and every live
   message planned for these profiles and addresses around the planned times,
3. decides each candidate, channel by channel until one is allowed, counting
   the decisions already taken in the chunk,
4. writes the queued rows and the suppressed ones (with their
   ``Message Suppressed`` events) before anything is sent.

A queued row is its own cap reservation: caps count live rows. Its ``key``
makes the write idempotent, so a launch that crashed half-way is simply run
again: keys already in the outbox are skipped, never decided twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa

from sen.messaging import consent, events
from sen.messaging.model import (
    LIVE_STATUSES,
    MESSAGE_SUPPRESSED,
    Channel,
    ConsentStatus,
    Purpose,
    Reason,
    Status,
)
from sen.messaging.policy import Facts, MessagingPolicy, Planned, QuietPolicy, Request, decide
from sen.store.operational import (
    bulk_insert_ignore,
    insert_ignore,
    locks,
    messages,
    select_in,
    unreachable,
)

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Route:
    """One channel to try, with its template and the recipient's address on it."""

    channel: Channel
    template: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A message the sender wants to send one profile. ``key`` is its idempotency
    key (one per campaign and profile, one per journey step and enrollment…)."""

    key: str
    profile_id: str
    record: str | None
    routes: tuple[Route, ...]
    at: datetime
    context: dict[str, Any] = field(default_factory=dict)
    excluded: bool = False
    zone: ZoneInfo | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends, and how: the properties every message and event of theirs carries."""

    purpose: Purpose
    campaign: str | None = None
    journey: str | None = None
    step: str | None = None
    variant: str | None = None
    quiet: QuietPolicy = "wait"
    template_versions: dict[str, int] = field(default_factory=dict)

    def properties(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign, "journey_id": self.journey, "step": self.step,
                "variant": self.variant}


@dataclass
class Enqueued:
    """What an enqueue did: queued, suppressed by reason, already there, per channel."""

    queued: int = 0
    existing: int = 0
    deferred: int = 0
    cost: int = 0
    suppressed: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)

    def add(self, other: Enqueued) -> None:
        self.queued += other.queued
        self.existing += other.existing
        self.deferred += other.deferred
        self.cost += other.cost
        self.suppressed.update(other.suppressed)
        self.by_channel.update(other.by_channel)


CostFn = Callable[[Route, Candidate], int]


@dataclass
class Budget:
    """Money left to spend (VND); messages past it are suppressed with ``budget``."""

    left: int
    cost: CostFn


def _lock_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _stamp(at: datetime) -> str:
    """A time as SQLAlchemy's SQLite type stores it (text that sorts as time)."""
    return at.isoformat(" ", "microseconds")


def lock(con: sa.Connection, profiles: Iterable[str], addresses: Iterable[str]) -> None:
    """Serialise writers of the outbox on these recipients until the transaction ends."""
    if con.dialect.name == "postgresql":
        keys = sorted({_lock_key("p:" + p) for p in profiles}
                      | {_lock_key("a:" + a) for a in addresses if a})
        con.execute(sa.text("SELECT count(pg_advisory_xact_lock(k)) FROM "
                            "(SELECT k FROM unnest(CAST(:keys AS BIGINT[])) AS k ORDER BY k) s"),
                    {"keys": keys})
        return
    insert_ignore(con, locks, [{"name": "outbox", "n": 0}])
    con.execute(sa.update(locks).where(locks.c.name == "outbox").values(n=locks.c.n + 1))


def _slices(values: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def existing_keys(con: sa.Connection, keys: Sequence[str]) -> set[str]:
    return {r[0] for r in select_in(con, "SELECT key FROM messages WHERE key IN ({in})", keys)}


def unreachable_pairs(con: sa.Connection, addresses: Sequence[str],
                      channels: Iterable[str] = ("sms", "zalo", "email", "push", "webhook")
                      ) -> set[tuple[str, str]]:
    """The (channel, address) pairs known to be unreachable, looked up by the
    primary key (channel, address)."""
    t, found = unreachable, set()
    if not con.execute(sa.select(t.c.address).limit(1)).first():
        return found  # nobody unreachable yet: the usual case for a new deployment
    sql = "SELECT channel, address FROM unreachable WHERE channel = {p} AND address IN ({in})"
    for channel in sorted(set(channels)):
        found.update((r[0], r[1]) for r in select_in(con, sql, addresses, (channel,)))
    return found


class Planner:
    """Live messages planned for a chunk's profiles and addresses, updated as the
    chunk's own decisions are taken (so a chunk never counts on stale caps)."""

    def __init__(self) -> None:
        self.by_profile: dict[str, dict[Any, Planned]] = defaultdict(dict)
        self.by_address: dict[str, dict[Any, Planned]] = defaultdict(dict)
        self._own = 0

    def load(self, con: sa.Connection, profiles: Sequence[str], addresses: Sequence[str],
             lo: datetime, hi: datetime) -> None:
        live = ", ".join(f"'{s}'" for s in sorted(LIVE_STATUSES))
        sqlite = con.dialect.name != "postgresql"
        bounds = (_stamp(lo), _stamp(hi)) if sqlite else (lo, hi)
        for column, values in (("profile_id", profiles), ("address", addresses)):
            sql = (f"SELECT id, profile_id, address, channel, purpose, due_at, template "
                   f"FROM messages WHERE due_at > {{p}} AND due_at < {{p}} "
                   f"AND status IN ({live}) AND {column} IN ({{in}})")
            for r in select_in(con, sql, values, bounds):
                due = datetime.fromisoformat(r[5]) if sqlite else r[5]
                self._add(r[0], r[1], r[2], Planned(Channel(r[3]), Purpose(r[4]), due, r[6]))

    def load_rows(self, con: sa.Connection, where: str, params: Sequence[Any]) -> int:
        """Add the live rows ``where`` selects; the highest id seen (0 for none)."""
        live = ", ".join(f"'{s}'" for s in sorted(LIVE_STATUSES))
        sqlite = con.dialect.name != "postgresql"
        mark = "?" if sqlite else "%s"
        top = 0
        sql = (f"SELECT id, profile_id, address, channel, purpose, due_at, template "
               f"FROM messages WHERE status IN ({live}) AND {where.replace('{p}', mark)}")
        for r in con.exec_driver_sql(sql, tuple(params)).fetchall():
            due = datetime.fromisoformat(r[5]) if sqlite else r[5]
            self._add(r[0], r[1], r[2], Planned(Channel(r[3]), Purpose(r[4]), due, r[6]))
            top = max(top, r[0])
        return top

    def _add(self, ident: Any, profile: str, address: str | None, p: Planned) -> None:
        self.by_profile[profile][ident] = p
        if address:
            self.by_address[address][ident] = p

    def add(self, profile: str, address: str | None, p: Planned) -> None:
        self._own += 1
        self._add(("own", self._own), profile, address, p)

    def around(self, profile: str, address: str | None) -> list[Planned]:
        mine = self.by_profile.get(profile)
        theirs = self.by_address.get(address) if address else None
        if not theirs:
            return list(mine.values()) if mine else []
        if not mine:
            return list(theirs.values())
        return list({**mine, **theirs}.values())


ROW_COLUMNS = ("key", "campaign", "journey", "step", "variant", "template",
               "template_version", "channel", "purpose", "profile_id", "record", "address",
               "context", "due_at", "status", "quiet_policy", "fallback", "error",
               "created_at", "updated_at")
"""The outbox columns a new row sets; the others start empty (or at their default)."""


class ChunkHistory:
    """The history each chunk reads under its own locks: the live messages of its
    profiles and addresses (PostgreSQL, where writers run at once, and estimates)."""

    def planner(self, con: sa.Connection, profiles: Sequence[str], addresses: Sequence[str],
                lo: datetime, hi: datetime) -> Planner:
        planner = Planner()
        planner.load(con, profiles, addresses, lo, hi)
        return planner

    def written(self, con: sa.Connection) -> None:
        """Nothing to remember between chunks."""


class SharedHistory:
    """One history for a whole enqueue on SQLite, where writers take turns: every live
    message in the window is read once, and each chunk adds only the rows written
    since the last (a range of the primary key, since ids grow with each commit
    when there is one writer at a time) instead of looking up each recipient."""

    def __init__(self) -> None:
        self.plan: Planner | None = None
        self.bounds: tuple[datetime, datetime] | None = None
        self.seen = 0

    def planner(self, con: sa.Connection, profiles: Sequence[str], addresses: Sequence[str],
                lo: datetime, hi: datetime) -> Planner:
        if self.plan is None or self.bounds is None:
            self.plan, self.bounds = Planner(), (lo, hi)
            self.seen = self.plan.load_rows(con, "due_at > {p} AND due_at < {p}",
                                            (_stamp(lo), _stamp(hi)))
            self.written(con)
            return self.plan
        if lo < self.bounds[0] or hi > self.bounds[1]:  # a chunk planned elsewhere in time
            return ChunkHistory().planner(con, profiles, addresses, lo, hi)
        top = self.plan.load_rows(con, "id > {p} AND due_at > {p} AND due_at < {p}",
                                  (self.seen, _stamp(self.bounds[0]), _stamp(self.bounds[1])))
        self.seen = max(self.seen, top)
        return self.plan

    def written(self, con: sa.Connection) -> None:
        """After a chunk's insert: its own rows are in the plan already."""
        self.seen = con.execute(sa.select(sa.func.coalesce(sa.func.max(messages.c.id), 0))
                                ).scalar_one()


@dataclass
class _Chunk:
    """Rows (tuples in :data:`ROW_COLUMNS` order) and events a chunk will write."""

    rows: list[tuple] = field(default_factory=list)
    suppressed: list[events.LogEvent] = field(default_factory=list)
    result: Enqueued = field(default_factory=Enqueued)


def _row(c: Candidate, sender: Sender, route: Route, status: Status, at: datetime,
         now: datetime, *, fallback: Sequence[Route] = (), reason: Reason | None = None
         ) -> tuple:
    return (
        c.key, sender.campaign, sender.journey, sender.step, sender.variant, route.template,
        sender.template_versions.get(route.template or ""), route.channel.value,
        sender.purpose.value, c.profile_id, c.record, route.address or "",
        orjson.dumps(c.context).decode(), at, status.value, sender.quiet,
        orjson.dumps([[r.channel.value, r.template, r.address]
                      for r in fallback]).decode() if fallback else None,
        reason.value if reason else None, now, now)


def suppressed_event(key: str, record: str | None, properties: dict[str, Any],
                     at: datetime) -> events.LogEvent:
    return events.LogEvent(message_id=f"suppressed:{key}", event=MESSAGE_SUPPRESSED,
                           record=record, timestamp=at, properties=properties)


def _decide_one(c: Candidate, sender: Sender, policy: MessagingPolicy, zone: ZoneInfo,
                consents: dict[tuple[str, str], ConsentStatus], gone: set[tuple[str, str]],
                planner: Planner, budget: Budget | None, out: _Chunk, now: datetime) -> None:
    reasons: list[tuple[str, Reason]] = []
    routes = c.routes
    for i, route in enumerate(routes):
        channel = route.channel.value
        pair = (channel, route.address or "")
        d = decide(Request(route.channel, sender.purpose, route.address, c.at, c.zone or zone,
                           route.template, sender.quiet, c.excluded),
                   Facts(consents.get(pair), pair in gone,
                         planner.around(c.profile_id, route.address)), policy)
        if d.allowed and budget is not None:
            price = budget.cost(route, c)
            if price > budget.left:
                d = d.refuse(Reason.BUDGET, d.at)
            else:
                budget.left -= price
                out.result.cost += price
        if d.allowed:
            out.rows.append(_row(c, sender, route, Status.QUEUED, d.at, now,
                                 fallback=routes[i + 1:]))
            planner.add(c.profile_id, route.address,
                        Planned(route.channel, sender.purpose, d.at, route.template))
            out.result.queued += 1
            out.result.by_channel[channel] += 1
            if d.at > c.at:
                out.result.deferred += 1
            return
        reasons.append((channel, d.reason))
        if d.reason in _FINAL:
            break
    first = routes[0] if routes else Route(Channel.SMS, None, None)
    reason = reasons[0][1] if reasons else Reason.NO_CONTACT
    out.rows.append(_row(c, sender, first, Status.SUPPRESSED, c.at, now, reason=reason))
    out.result.suppressed[reason.value] += 1
    props = {"message_id": None, "channel": first.channel.value, **sender.properties(),
             "template": first.template, "reason": reason.value, "stage": "gate",
             "reasons": {ch: r.value for ch, r in reasons}}
    out.suppressed.append(suppressed_event(c.key, c.record, props, now))


_FINAL = frozenset({Reason.EXCLUDED, Reason.DUPLICATE, Reason.BUDGET})
"""Refusals about the person, not the channel: no other channel is tried."""


def _enqueue_chunk(con: sa.Connection, chunk: Sequence[Candidate], sender: Sender,
                   policy: MessagingPolicy, zone: ZoneInfo, budget: Budget | None,
                   now: datetime, dry_run: bool,
                   known: dict[tuple[str, str], ConsentStatus] | None = None,
                   history: ChunkHistory | SharedHistory | None = None) -> Enqueued:
    addresses = sorted({r.address for c in chunk for r in c.routes if r.address})
    profiles = sorted({c.profile_id for c in chunk})
    if not dry_run:
        lock(con, profiles, addresses)
    done = existing_keys(con, [c.key for c in chunk])
    todo = [c for c in chunk if c.key not in done]
    out = _Chunk()
    out.result.existing = len(chunk) - len(todo)
    if not todo:
        return out.result
    pairs = {(r.channel, r.address) for c in todo for r in c.routes if r.address}
    consents = known if known is not None else consent.statuses(con, pairs, sender.purpose)
    gone = unreachable_pairs(con, addresses, {str(ch) for ch, _ in pairs})
    window = policy.longest_window()
    history = history or ChunkHistory()
    planner = history.planner(con, profiles, addresses, min(c.at for c in todo) - window,
                              max(c.at for c in todo) + window + window)
    for c in todo:
        _decide_one(c, sender, policy, zone, consents, gone, planner, budget, out, now)
    if not dry_run:
        bulk_insert_ignore(con, messages, ROW_COLUMNS, out.rows)
        events.add_many(con, out.suppressed)
        history.written(con)
    return out.result


LARGE = 100_000
"""From this many candidates on, consent is read in one pass instead of per chunk."""


def enqueue(ops: sa.Engine, candidates: Iterable[Candidate], sender: Sender,
            policy: MessagingPolicy, *, zone: ZoneInfo, now: datetime,
            budget: Budget | None = None, dry_run: bool = False, chunk: int = CHUNK,
            progress: Callable[[Enqueued], None] | None = None,
            expected: int | None = None, channels: Iterable[Channel] = ()) -> Enqueued:
    """Put candidates through the gate into the outbox (see the module docstring).

    ``dry_run`` decides without writing or locking: the estimate a marketer sees
    before launch. ``progress`` is called after each chunk with the running total.
    A caller that knows a large audience is coming (``expected`` candidates, on
    ``channels``) has consent read once for all of them: one pass over the table
    costs less than a million look-ups. A refusal recorded after that read still
    stops the message: it suppresses what waits, and dispatch reads consent again.
    """
    total = Enqueued()
    batch: list[Candidate] = []
    history = SharedHistory() if not dry_run and ops.dialect.name == "sqlite" \
        else ChunkHistory()
    known = None
    if expected is not None and expected >= LARGE and channels:
        with ops.connect() as con:
            known = consent.every_status(con, channels, sender.purpose)

    def flush() -> None:
        if dry_run:
            with ops.connect() as con:
                total.add(_enqueue_chunk(con, batch, sender, policy, zone, budget, now, True,
                                         known, ChunkHistory()))
        else:
            with ops.begin() as con:
                total.add(_enqueue_chunk(con, batch, sender, policy, zone, budget, now, False,
                                         known, history))
        batch.clear()
        if progress is not None:
            progress(total)

    for c in candidates:
        batch.append(c)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return total
