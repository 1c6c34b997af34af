"""Messages per second per recipient domain: spacing, not bursts.

Mailbox providers judge a sender by how fast mail arrives at *their* domain
(Gmail slows or defers a new sender that sends hundreds a second), so a relay
account is throttled per recipient domain, not as a whole. Each domain has a
next free slot; taking one moves it on by ``1 / rate`` seconds.

A caller that would have to wait longer than it is willing to is told how long
instead (:class:`Busy`), and the slot is not taken: the dispatcher retries the
message later while the worker serves other domains. Pure apart from the lock:
the clock is passed in.
"""

from __future__ import annotations

import threading


class Busy(Exception):
    """The domain's next slot is ``retry_after`` seconds away, more than the caller waits."""

    def __init__(self, domain: str, retry_after: float) -> None:
        self.domain = domain
        self.retry_after = retry_after
        super().__init__(f"{domain}: next slot in {retry_after:.2f} s")


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip(">").lower()


class DomainThrottle:
    """Spaces messages to each domain at its rate.

    ``rates`` maps a domain to messages per second; a domain matches itself and
    its subdomains (``yahoo.com`` covers ``mail.yahoo.com``), the longest match
    wins. ``default`` applies to every other domain (``None``: no limit).
    """

    def __init__(self, rates: dict[str, float], default: float | None = None) -> None:
        self._rates = {d.lower().strip("."): r for d, r in rates.items() if r > 0}
        self._default = default if default and default > 0 else None
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def rule(self, domain: str) -> tuple[str, float] | None:
        """The (domain, rate) that governs ``domain``, or ``None`` when it is not limited."""
        labels = domain.lower().split(".")
        for i in range(len(labels)):
            suffix = ".".join(labels[i:])
            if suffix in self._rates:
                return suffix, self._rates[suffix]
        return (domain.lower(), self._default) if self._default else None

    def reserve(self, domain: str, now: float, max_wait: float) -> float:
        """Take the domain's next slot; how many seconds to wait before sending.

        Raises :class:`Busy` (taking nothing) when the wait would exceed ``max_wait``.
        """
        rule = self.rule(domain)
        if rule is None:
            return 0.0
        bucket, rate = rule
        with self._lock:
            slot = max(self._next.get(bucket, now), now)
            wait = slot - now
            if wait > max_wait:
                raise Busy(bucket, wait)
            self._next[bucket] = slot + 1.0 / rate
            return wait
