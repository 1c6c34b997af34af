"""Background jobs of ``sen serve`` that run on the event writer's thread.

DuckDB has one writer, so identity and trait updates run between the event
writer's commits (``writer.run_exclusive``). A failed run changes nothing (each
run is one transaction); it is logged, counted and retried at the next tick.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class WriterJob:
    """A thread that runs :meth:`run_now` every ``interval_s`` (never when it is 0)."""

    name = "job"

    def __init__(self, writer: Any, engine: Any, interval_s: float) -> None:
        self.writer, self.engine, self.interval_s = writer, engine, interval_s
        self.last: Any = None
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WriterJob:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name=f"sen-{self.name}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def work(self) -> Any:
        """One run, on the writer thread; what it did."""
        raise NotImplementedError

    def run_now(self) -> Any:
        return self.exclusive(self.work)

    def exclusive(self, fn: Any) -> Any:
        """Run ``fn`` on the writer thread and remember what it returned."""
        self.last = self.writer.run_exclusive(fn)
        return self.last

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_now()
            except Exception:  # noqa: BLE001 - logged; the next tick retries
                self.failures += 1
                log.exception("%s update failed; retrying in %ss", self.name, self.interval_s)
