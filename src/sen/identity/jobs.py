"""Keeping identity up to date inside ``sen serve``.

New events are folded into profiles every few seconds by
:func:`sen.identity.resolver.update`, run on the event writer's thread between
commits: DuckDB has one writer, and identity must see every committed event
exactly once. A failed run changes nothing (it is one transaction) and is
retried at the next tick.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sen.identity import resolver

log = logging.getLogger(__name__)


class IdentityUpdater:
    """A thread that asks the writer to run an identity update every ``interval_s``."""

    def __init__(self, writer: Any, engine: Any, interval_s: float) -> None:
        self.writer, self.engine, self.interval_s = writer, engine, interval_s
        self.last: resolver.RunStats | None = None
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> IdentityUpdater:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name="sen-identity", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def run_now(self) -> resolver.RunStats:
        """One update, on the writer thread; returns what it did."""
        stats = self.writer.run_exclusive(lambda: resolver.update(self.engine))
        self.last = stats
        return stats

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_now()
            except Exception:  # noqa: BLE001 - logged; the next tick retries
                self.failures += 1
                log.exception("identity update failed; retrying in %ss", self.interval_s)
