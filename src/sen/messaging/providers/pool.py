"""The providers a dispatcher sends through: one per channel, each behind a rate
limiter and a circuit breaker.

A provider that keeps failing transiently (its server down, every call timing
out) opens its circuit: the dispatcher stops claiming that channel's messages
until ``reset_timeout`` has passed, then lets one batch through to try again,
instead of burning every message's retries against a dead endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pybreaker
import sqlalchemy as sa

from sen.errors import ProviderError
from sen.messaging.model import Channel
from sen.messaging.providers import build
from sen.messaging.providers.base import Provider
from sen.store.operational import providers as providers_table
from sen.store.secrets import SecretBox


class RateLimiter:
    """A token bucket: at most ``rate`` acquisitions per second, bursts of ``burst``."""

    def __init__(self, rate: float | None, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, (rate or 1.0))
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait until one more call is allowed."""
        if not self.rate:
            return
        while True:
            with self._lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


def _not_transient(exc: BaseException) -> bool:
    """Only transient failures count toward opening a circuit."""
    return isinstance(exc, ProviderError) and not exc.transient


@dataclass
class Guarded:
    """A provider with its limiter and breaker."""

    provider: Provider
    limiter: RateLimiter
    breaker: pybreaker.CircuitBreaker = field(default_factory=lambda: pybreaker.CircuitBreaker(
        fail_max=5, reset_timeout=30, exclude=[_not_transient]))

    def available(self) -> bool:
        """Closed, or open long enough that a trial call is due."""
        if self.breaker.current_state != pybreaker.STATE_OPEN:
            return True
        opened = self.breaker._state_storage.opened_at  # noqa: SLF001 - pybreaker keeps it there
        if opened is None:
            return True
        elapsed = (datetime.now(UTC) - opened.replace(tzinfo=UTC)).total_seconds()
        return elapsed >= self.breaker.reset_timeout

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one provider call under the limiter and the breaker; an open circuit
        becomes a transient :class:`ProviderError`."""
        self.limiter.acquire()
        try:
            return self.breaker.call(fn)
        except pybreaker.CircuitBreakerError as exc:
            raise ProviderError(
                f"Provider '{self.provider.name}' keeps failing; sending is paused for "
                f"{self.breaker.reset_timeout:.0f} s.", provider=self.provider.name,
                code="circuit_open", transient=True, retry_after=self.breaker.reset_timeout,
                hint="Check the provider's status and Sen's provider settings.") from exc


class ProviderPool:
    """The provider each channel sends through (the enabled one of highest priority)."""

    def __init__(self, by_channel: dict[Channel, Guarded]) -> None:
        self.by_channel = by_channel

    @classmethod
    def of(cls, providers: Iterable[Provider]) -> ProviderPool:
        return cls({p.channel: Guarded(p, RateLimiter(p.rate_per_s)) for p in providers})

    @classmethod
    def from_store(cls, ops: sa.Engine, box: SecretBox, **extra: Any) -> ProviderPool:
        """Providers set up in the app (``providers`` table), secrets opened with ``box``."""
        t = providers_table
        with ops.connect() as con:
            rows = con.execute(sa.select(t).where(t.c.enabled.is_(True))
                               .order_by(t.c.priority, t.c.name)).all()
        chosen: dict[Channel, Provider] = {}
        for row in rows:
            channel = Channel(row.channel)
            if channel in chosen:
                continue
            chosen[channel] = build(row.kind, row.name, orjson.loads(row.config),
                                    box.open(row.secrets) or {}, **extra)
        return cls.of(chosen.values())

    def get(self, channel: Channel | str) -> Guarded | None:
        return self.by_channel.get(Channel(channel))

    def channels(self) -> list[Channel]:
        """Channels whose provider may be called now."""
        return [c for c, g in self.by_channel.items() if g.available()]

    def close(self) -> None:
        for guarded in self.by_channel.values():
            guarded.provider.close()
