"""Dispatch: claim due messages, check the gate again, render, send, record.

Several dispatchers may run at once (threads of ``sen serve``, or
``sen messaging dispatch`` processes on PostgreSQL): each claims a batch of one
channel's due messages with ``FOR UPDATE SKIP LOCKED`` and marks them
``sending`` before anything else, so no message is claimed twice.

For each batch:

1. the gate again: a message queued at 21:59 does not go out at 22:01 (it waits
   until the quiet hours end, or is dropped, as its sender chose), and consent
   and reachability are read again;
2. render (tracked links, a coupon issued for this message) and store what
   will be sent;
3. consent read once more, right before the provider is called, so an opt-out
   stops every message not yet handed over;
4. send through the channel's provider (rate-limited, behind its circuit
   breaker), several at a time;
5. record each answer with its event in one transaction: sent; retried later
   with backoff (transient errors); failed, with the next channel of the
   fallback chain queued through the gate when the failure was about this
   recipient.

A dispatcher that dies mid-send leaves rows ``sending``. After their lease
runs out :func:`recover` puts them back in the queue when the provider takes
an idempotency key (the provider drops the repeat), and marks them
``unknown`` otherwise: reconciled through the provider's status API where
there is one, shown to the marketer, never resent blindly.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa

from sen.errors import ProviderError, SenError
from sen.messaging import consent, events, push
from sen.messaging.model import (
    MESSAGE_FAILED,
    MESSAGE_SENT,
    Channel,
    ConsentStatus,
    OutgoingMessage,
    Purpose,
    Reason,
    SendResult,
    Status,
)
from sen.messaging.outbox import (
    Candidate,
    Route,
    Sender,
    enqueue,
    lock,
    suppressed_event,
    unreachable_pairs,
)
from sen.messaging.policy import Decision, Facts, MessagingPolicy, Planned, Request, recheck
from sen.messaging.providers.pool import ProviderPool
from sen.messaging.providers.wire import MAY_HAVE_SENT
from sen.store.operational import insert_ignore, messages, unreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A rendered message and what to store about it (body, subject, links, coupon)."""

    message: OutgoingMessage
    stored: dict[str, Any] = field(default_factory=dict)


class Renderer(Protocol):
    """Turns a claimed outbox row into what its provider sends (inside ``con``'s
    transaction, so a coupon issued for it commits with the stored body)."""

    def render(self, con: sa.Connection, row: Any) -> Prepared: ...


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}"


def message_properties(row: Any, **more: Any) -> dict[str, Any]:
    """The properties every event about a message carries (the segment rules'
    message conditions and measurement read them)."""
    return {"message_id": row.id, "channel": row.channel, "campaign_id": row.campaign,
            "journey_id": row.journey, "step": row.step, "variant": row.variant,
            "template": row.template, "purpose": row.purpose, **more}


def claim(ops: sa.Engine, channel: Channel, worker: str, limit: int, now: datetime,
          provider: str | None = None) -> list[Any]:
    """Mark up to ``limit`` due messages of ``channel`` as ``sending`` for ``worker``."""
    t = messages
    due = (sa.select(t.c.id).where(
        t.c.status == Status.QUEUED, t.c.channel == str(channel), t.c.due_at <= now,
        sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
        .order_by(t.c.due_at, t.c.id).limit(limit))
    with ops.begin() as con:
        if con.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(con.execute(due).scalars())
        if not ids:
            return []
        return list(con.execute(
            sa.update(t).where(t.c.id.in_(ids), t.c.status == Status.QUEUED)
            .values(status=Status.SENDING, claimed_by=worker, claimed_at=now,
                    attempts=t.c.attempts + 1, provider=provider, updated_at=now)
            .returning(*t.c)).all())


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


@dataclass
class Dispatched:
    """What one pass did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    suppressed: int = 0
    deferred: int = 0
    fallbacks: int = 0
    unknown: int = 0

    def total(self) -> int:
        return (self.sent + self.failed + self.retried + self.suppressed + self.deferred
                + self.unknown)


class Dispatcher:
    """Claims and sends due messages; see the module docstring.

    ``policy`` is read at every pass (settings change while it runs); ``clock``
    is replaceable so tests and journeys run days in seconds.
    """

    def __init__(self, ops: sa.Engine, pool: ProviderPool, renderer: Renderer, *,
                 policy: Callable[[], MessagingPolicy], zone: ZoneInfo,
                 clock: Callable[[], datetime] = events.utc_now, worker: str | None = None,
                 batch: int = 100, threads: int = 8, lease_s: float = 120.0,
                 max_attempts: int = 8) -> None:
        self.ops, self.pool, self.renderer = ops, pool, renderer
        self.policy, self.zone, self.clock = policy, zone, clock
        self.worker = worker or worker_id()
        self.batch, self.lease = batch, timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self._threads = ThreadPoolExecutor(max_workers=threads,
                                           thread_name_prefix="sen-dispatch")

    def close(self) -> None:
        self._threads.shutdown(wait=True)

    # -- one pass ---------------------------------------------------------------------
    def run_once(self) -> Dispatched:
        """Recover stale claims, then one batch per channel that has a provider."""
        done = Dispatched()
        recover(self.ops, self.pool, self.clock(), self.lease)
        for channel in self.pool.channels():
            guarded = self.pool.get(channel)
            assert guarded is not None
            rows = claim(self.ops, channel, self.worker, self.batch, self.clock(),
                         guarded.provider.name)
            if rows:
                self._process(rows, done)
        return done

    def drain(self, *, max_passes: int = 10_000) -> Dispatched:
        """Pass until nothing due is left (scripts and tests)."""
        total = Dispatched()
        for _ in range(max_passes):
            done = self.run_once()
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(done, name))
            if done.total() == 0:
                break
        return total

    # -- the steps ----------------------------------------------------------------------
    def _facts(self, con: sa.Connection, rows: Sequence[Any]) -> dict[int, Facts]:
        by_purpose: dict[str, list[Any]] = {}
        for r in rows:
            by_purpose.setdefault(r.purpose, []).append(r)
        gone = unreachable_pairs(con, sorted({r.address for r in rows if r.address}))
        facts: dict[int, Facts] = {}
        for purpose, group in by_purpose.items():
            known = consent.statuses(con, [(r.channel, r.address) for r in group], purpose)
            for r in group:
                status = known.get((r.channel, r.address))
                if r.channel == Channel.PUSH and status is None:
                    status = ConsentStatus.GRANTED  # the browser's permission is the consent
                facts[r.id] = Facts(status, (r.channel, r.address) in gone)
        return facts

    def _request(self, row: Any, now: datetime) -> Request:
        return Request(Channel(row.channel), Purpose(row.purpose), row.address or None, now,
                       self.zone, row.template, row.quiet_policy)

    def _gate(self, rows: Sequence[Any], done: Dispatched) -> list[Any]:
        """The rows the gate still allows now; the others are put back or suppressed.

        Caps were reserved at the planned time, but a message can go out later
        than planned (after quiet hours, a pause, an outage), and several
        delayed ones can fall due together. So what was actually handed to
        providers in the last window is counted again, under the recipients'
        locks, and a message that would break a cap now waits until a slot frees.
        """
        now, policy = self.clock(), self.policy()
        allowed: list[Any] = []
        with self.ops.begin() as con:
            lock(con, {r.profile_id for r in rows}, {r.address for r in rows})
            facts = self._facts(con, rows)
            history = _Recent.load(con, rows, now, policy.longest_window())
            for row in rows:
                d = recheck(self._request(row, now), facts[row.id], policy)
                if d.allowed and d.at <= now:
                    wait = history.slot(row, now, policy)
                    if wait is None:
                        history.add(row, now)
                        allowed.append(row)
                        continue
                    d = Decision(True, wait)
                if d.allowed:  # quiet hours or a full cap: wait
                    con.execute(sa.update(messages).where(messages.c.id == row.id).values(
                        status=Status.QUEUED, due_at=d.at, attempts=row.attempts - 1,
                        claimed_by=None, updated_at=now))
                    done.deferred += 1
                else:
                    self._suppress(con, row, d.reason or Reason.NO_CONSENT, now)
                    done.suppressed += 1
        return allowed

    def _suppress(self, con: sa.Connection, row: Any, reason: Reason, now: datetime) -> None:
        con.execute(sa.update(messages).where(messages.c.id == row.id).values(
            status=Status.SUPPRESSED, error=str(reason), updated_at=now))
        events.add(con, [suppressed_event(row.key, row.record, message_properties(
            row, reason=str(reason), stage="dispatch"), now)])

    def _render(self, rows: Sequence[Any], done: Dispatched) -> list[tuple[Any, Prepared]]:
        """Render the batch in one transaction and store what will be sent. Should a
        message fail to render, the batch is rendered again with a savepoint per
        message, so that one fails alone and the others go."""
        try:
            with self.ops.begin() as con:
                ready = [(row, self.renderer.render(con, row)) for row in rows]
                self._store(con, ready)
            return ready
        except SenError:
            pass
        ready = []
        with self.ops.begin() as con:
            for row in rows:
                try:
                    with con.begin_nested():
                        prepared = self.renderer.render(con, row)
                    ready.append((row, prepared))
                except SenError as exc:
                    self._fail(con, row, f"render: {exc}", self.clock())
                    done.failed += 1
            self._store(con, ready)
        return ready

    def _store(self, con: sa.Connection, ready: Sequence[tuple[Any, Prepared]]) -> None:
        """Keep the rendered text, links and coupon on each row (one statement)."""
        if not ready:
            return
        t, now = messages, self.clock()
        con.execute(sa.update(t).where(t.c.id == sa.bindparam("mid")).values(
            body=sa.bindparam("b"), subject=sa.bindparam("s"), links=sa.bindparam("l"),
            coupon=sa.bindparam("c"), updated_at=now),
            [{"mid": row.id, "b": p.stored.get("body"), "s": p.stored.get("subject"),
              "l": p.stored.get("links"), "c": p.stored.get("coupon")} for row, p in ready])

    def _last_look(self, ready: list[tuple[Any, Prepared]], done: Dispatched
                   ) -> list[tuple[Any, Prepared]]:
        """Consent once more, just before the provider is called."""
        policy, now = self.policy(), self.clock()
        with self.ops.begin() as con:
            facts = self._facts(con, [r for r, _ in ready])
            keep = []
            for row, prepared in ready:
                d = recheck(self._request(row, now), facts[row.id], policy)
                if d.allowed or d.reason == Reason.QUIET_HOURS:
                    keep.append((row, prepared))
                else:
                    self._suppress(con, row, d.reason or Reason.OPTED_OUT, now)
                    done.suppressed += 1
        return keep

    def _send(self, channel: str, ready: list[tuple[Any, Prepared]]
              ) -> list[SendResult | ProviderError]:
        """Hand the batch to the channel's provider: one call per message, several at a
        time, or ``send_batch`` in groups where the provider takes batches (eSMS
        advertising goes as one bulk request per text)."""
        guarded = self.pool.get(channel)
        if guarded is None:
            err = ProviderError(f"No provider is set up for {channel}.", provider="-",
                                transient=True, hint="Add one on the Channels page.")
            return [err for _ in ready]
        provider = guarded.provider
        messages = [p.message for _, p in ready]

        def guard(fn: Callable[[], Any], size: int) -> list[SendResult | ProviderError]:
            try:
                out = guarded.call(fn)
                return out if isinstance(out, list) else [out]
            except _BatchFailed as exc:
                return exc.results
            except ProviderError as exc:
                return [exc] * size
            except Exception as exc:  # noqa: BLE001 - a provider bug must not lose the batch
                log.exception("provider %s raised", provider.name)
                return [ProviderError(f"{type(exc).__name__}: {exc}", provider=provider.name,
                                      transient=True, code="broken")] * size

        results: list[SendResult | ProviderError | None] = [None] * len(messages)
        grouped = [i for i, m in enumerate(messages)
                   if provider.max_batch > 1 and provider.batchable(m)]
        for start in range(0, len(grouped), max(provider.max_batch, 1)):
            part = grouped[start:start + provider.max_batch]
            out = guard(lambda p=part: _whole(provider.send_batch([messages[i] for i in p])),
                        len(part))
            for i, r in zip(part, out, strict=True):
                results[i] = r
        single = [i for i in range(len(messages)) if results[i] is None]
        for i, rs in zip(single, self._threads.map(
                lambda i: guard(lambda: provider.send(messages[i]), 1), single), strict=True):
            results[i] = rs[0]
        return results  # type: ignore[return-value]

    def _process(self, rows: Sequence[Any], done: Dispatched) -> None:
        allowed = self._gate(rows, done)
        ready = self._last_look(self._render(allowed, done), done) if allowed else []
        if not ready:
            return
        results = self._send(rows[0].channel, ready)
        self._record(ready, results, done)

    # -- recording ----------------------------------------------------------------------
    def _record(self, ready: Sequence[tuple[Any, Prepared]],
                results: Sequence[SendResult | ProviderError], done: Dispatched) -> None:
        now = self.clock()
        fallbacks: list[tuple[Any, list[Route]]] = []
        gone: list[str] = []
        with self.ops.begin() as con:
            for (row, _), result in zip(ready, results, strict=True):
                if isinstance(result, SendResult):
                    mark_sent(con, row, result, now)
                    done.sent += 1
                elif result.transient and self._may_have_sent(row, result):
                    con.execute(sa.update(messages).where(messages.c.id == row.id).values(
                        status=Status.UNKNOWN, updated_at=now,
                        error=f"{result.message} The provider may have taken it before the "
                        "connection failed; it is not sent again on its own."))
                    done.unknown += 1
                elif result.transient and row.attempts < self.max_attempts:
                    wait = timedelta(seconds=result.retry_after) if result.retry_after \
                        else _backoff(row.attempts)
                    con.execute(sa.update(messages).where(messages.c.id == row.id).values(
                        status=Status.QUEUED, next_attempt_at=now + wait,
                        error=f"{result.code or ''} {result.message}".strip(),
                        claimed_by=None, updated_at=now))
                    done.retried += 1
                else:
                    self._fail(con, row, result.message, now, code=result.code)
                    done.failed += 1
                    if result.recipient:
                        mark_unreachable(con, row.channel, row.address, result.code or "",
                                         result.message, now)
                        if row.channel == Channel.PUSH:
                            gone.append(row.address)
                        remaining = fallback_routes(row.fallback)
                        if remaining:
                            fallbacks.append((row, remaining))
        for endpoint in gone:  # the browser unsubscribed: stop keeping its subscription
            push.remove(self.ops, endpoint, "gone", now=now)
        for row, remaining in fallbacks:
            done.fallbacks += fall_back(self.ops, row, remaining, self.policy(), self.zone, now)

    def _may_have_sent(self, row: Any, error: ProviderError) -> bool:
        """A transient failure after which a provider without idempotency keys may
        hold the message (a timeout after the request went): resending could send it
        twice, so it becomes ``unknown``."""
        guarded = self.pool.get(row.channel)
        idempotent = guarded is not None and guarded.provider.idempotent
        return not idempotent and (error.code or "") in MAY_HAVE_SENT

    def _fail(self, con: sa.Connection, row: Any, error: str, now: datetime,
              code: str | None = None) -> None:
        con.execute(sa.update(messages).where(messages.c.id == row.id).values(
            status=Status.FAILED, error=error[:2000], updated_at=now))
        events.add(con, [events.LogEvent(
            message_id=f"failed:{row.id}", event=MESSAGE_FAILED, record=row.record,
            timestamp=now, properties=message_properties(row, reason=error[:500], code=code,
                                                         provider=row.provider))])


class _BatchFailed(Exception):  # noqa: N818 - a signal to the circuit breaker, not an error
    """A batch every message of which failed transiently: the provider is down, and
    the circuit breaker must count it (a batch call itself returns, not raises)."""

    def __init__(self, results: list[SendResult | ProviderError]) -> None:
        self.results = results
        super().__init__("every message of the batch failed")


def _whole(results: list[SendResult | ProviderError]) -> list[SendResult | ProviderError]:
    if results and all(isinstance(r, ProviderError) and r.transient for r in results):
        raise _BatchFailed(results)
    return results


class _Recent:
    """Messages handed to providers (or being handed) in the last window, per
    recipient: what the dispatch-time cap check counts."""

    def __init__(self) -> None:
        self.by_profile: dict[str, dict[Any, Planned]] = {}
        self.by_address: dict[str, dict[Any, Planned]] = {}

    @classmethod
    def load(cls, con: sa.Connection, rows: Sequence[Any], now: datetime,
             window: timedelta) -> _Recent:
        t = messages
        at = sa.func.coalesce(t.c.sent_at, t.c.claimed_at)
        recent = cls()
        batch = [r.id for r in rows]
        for column, values in ((t.c.profile_id, sorted({r.profile_id for r in rows})),
                               (t.c.address, sorted({r.address for r in rows if r.address}))):
            found = con.execute(sa.select(t.c.id, t.c.profile_id, t.c.address, t.c.channel,
                                          t.c.purpose, t.c.template, at.label("at")).where(
                column.in_(values), t.c.id.not_in(batch), at > now - window,
                t.c.status.in_([Status.SENDING, Status.SENT, Status.DELIVERED,
                                Status.UNKNOWN, Status.BOUNCED])))
            for r in found:
                recent._put(r.id, r.profile_id, r.address, Planned(
                    Channel(r.channel), Purpose(r.purpose), r.at, r.template))
        return recent

    def _put(self, ident: Any, profile: str, address: str, p: Planned) -> None:
        self.by_profile.setdefault(profile, {})[ident] = p
        if address:
            self.by_address.setdefault(address, {})[ident] = p

    def add(self, row: Any, now: datetime) -> None:
        self._put(row.id, row.profile_id, row.address,
                  Planned(Channel(row.channel), Purpose(row.purpose), now, row.template))

    def slot(self, row: Any, now: datetime, policy: MessagingPolicy) -> datetime | None:
        """None when sending now keeps every cap, else when the first slot frees."""
        seen = {**self.by_profile.get(row.profile_id, {}),
                **self.by_address.get(row.address, {})}
        channel, purpose = Channel(row.channel), Purpose(row.purpose)
        later: datetime | None = None
        for cap in policy.caps:
            if not cap.applies(channel, purpose):
                continue
            window = timedelta(hours=cap.window_hours)
            times = sorted(p.at for p in seen.values()
                           if cap.applies(p.channel, p.purpose) and now - p.at < window)
            if len(times) >= max(cap.max, 1):
                free = times[len(times) - max(cap.max, 1)] + window + timedelta(seconds=1)
                later = free if later is None else max(later, free)
        return later


def mark_sent(con: sa.Connection, row: Any, result: SendResult, now: datetime) -> None:
    """Record a provider's acceptance (never downgrading a receipt that came first)."""
    t = messages
    con.execute(sa.update(t).where(t.c.id == row.id).values(
        provider_id=result.provider_id, cost=result.cost, sent_at=now, error=None,
        updated_at=now, status=sa.case((t.c.status == Status.SENDING, Status.SENT),
                                       else_=t.c.status)))
    events.add(con, [events.LogEvent(
        message_id=f"sent:{row.id}", event=MESSAGE_SENT, record=row.record, timestamp=now,
        properties=message_properties(row, cost=result.cost, provider=row.provider))])


def mark_unreachable(con: sa.Connection, channel: str, address: str, reason: str,
                     detail: str, now: datetime) -> None:
    """Remember that an address cannot receive on a channel (the gate refuses it)."""
    if not address:
        return
    t = unreachable
    if not insert_ignore(con, t, [{"channel": channel, "address": address,
                                   "reason": reason or "recipient", "detail": detail[:1000],
                                   "updated_at": now}]):
        con.execute(sa.update(t).where(t.c.channel == channel, t.c.address == address)
                    .values(reason=reason or "recipient", detail=detail[:1000], updated_at=now))


def fallback_routes(fallback: str | None) -> list[Route]:
    if not fallback:
        return []
    return [Route(Channel(ch), template, address) for ch, template, address
            in orjson.loads(fallback)]


def fall_back(ops: sa.Engine, row: Any, remaining: list[Route], policy: MessagingPolicy,
              zone: ZoneInfo, now: datetime) -> int:
    """Queue the next channel of a failed message's chain, through the gate again."""
    sender = Sender(Purpose(row.purpose), row.campaign, row.journey, row.step, row.variant,
                    row.quiet_policy)
    candidate = Candidate(key=f"{row.key}>{remaining[0].channel}", profile_id=row.profile_id,
                          record=row.record, routes=tuple(remaining), at=now,
                          context=orjson.loads(row.context or "{}"))
    result = enqueue(ops, [candidate], sender, policy, zone=zone, now=now)
    if result.queued:
        with ops.begin() as con:
            con.execute(sa.update(messages).where(messages.c.key == candidate.key,
                                                  messages.c.fallback_of.is_(None))
                        .values(fallback_of=row.id))
    return result.queued


def recover(ops: sa.Engine, pool: ProviderPool, now: datetime, lease: timedelta) -> int:
    """Deal with messages a dead dispatcher left ``sending`` (see the module docstring)."""
    t = messages
    with ops.begin() as con:
        stale = con.execute(sa.select(t.c.id, t.c.channel, t.c.provider).where(
            t.c.status == Status.SENDING, t.c.claimed_at < now - lease)).all()
        if not stale:
            return 0
        safe = [r.id for r in stale if _idempotent(pool, r.channel, r.provider)]
        doubtful = [r.id for r in stale if r.id not in set(safe)]
        if safe:
            con.execute(sa.update(t).where(t.c.id.in_(safe), t.c.status == Status.SENDING)
                        .values(status=Status.QUEUED, claimed_by=None, updated_at=now,
                                attempts=t.c.attempts - 1))
        if doubtful:
            con.execute(sa.update(t).where(t.c.id.in_(doubtful), t.c.status == Status.SENDING)
                        .values(status=Status.UNKNOWN, updated_at=now,
                                error="The dispatcher stopped while handing this message "
                                "to the provider; whether it went out is unknown."))
    log.warning("recovered %d interrupted messages (%d requeued, %d unknown)", len(stale),
                len(safe), len(doubtful))
    return len(stale)


def _idempotent(pool: ProviderPool, channel: str, provider: str | None) -> bool:
    guarded = pool.get(channel)
    return bool(guarded and guarded.provider.name == provider and guarded.provider.idempotent)
