"""Keeping traits up to date inside ``sen serve``.

Every ``traits_interval_s`` the profiles whose events or identity changed are
recomputed (:func:`sen.traits.runner.update`); when the last full refresh is
older than ``traits_refresh_interval_s`` the tick runs a refresh instead, so
days since the last purchase, ages, stages and the models move on daily. The
runs go through the event writer's thread, like identity's, because DuckDB
has one writer; a failed run changes nothing and the next tick retries.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sen.traits import runner

log = logging.getLogger(__name__)


class TraitsUpdater:
    """A thread that asks the writer to run a trait update every ``interval_s``."""

    def __init__(self, writer: Any, engine: Any, interval_s: float,
                 refresh_interval_s: float) -> None:
        self.writer, self.engine = writer, engine
        self.interval_s, self.refresh_interval_s = interval_s, refresh_interval_s
        self.last: runner.TraitRun | None = None
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TraitsUpdater:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name="sen-traits", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def run_now(self, *, full: bool | None = None) -> runner.TraitRun:
        """One run on the writer thread: a refresh when ``full`` or when one is due."""
        def work() -> runner.TraitRun:
            due = self._refresh_due() if full is None else full
            return runner.refresh(self.engine) if due else runner.update(self.engine)

        self.last = self.writer.run_exclusive(work)
        return self.last

    def _refresh_due(self) -> bool:
        last = self.engine.cursor().execute(
            "SELECT max(started_at) FROM trait_runs WHERE kind = 'full'").fetchall()[0][0]
        return last is None or runner.now() - last >= timedelta(seconds=self.refresh_interval_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_now()
            except Exception:  # noqa: BLE001 - logged; the next tick retries
                self.failures += 1
                log.exception("trait update failed; retrying in %ss", self.interval_s)


__all__ = ["TraitsUpdater"]
