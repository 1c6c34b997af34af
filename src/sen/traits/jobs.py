"""Keeping traits up to date inside ``sen serve``.

Every ``traits_interval_s`` the profiles whose events or identity changed are
recomputed (:func:`sen.traits.runner.update`); when the last full refresh is
older than ``traits_refresh_interval_s`` the tick runs a refresh instead, so
days since the last purchase, ages, stages and the models move on daily. Runs
go through the event writer's thread, like identity's (:class:`sen.jobs.WriterJob`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sen.jobs import WriterJob
from sen.traits import runner


class TraitsUpdater(WriterJob):
    """Runs a trait update every ``interval_s``, a refresh when one is due."""

    name = "traits"

    def __init__(self, writer: Any, engine: Any, interval_s: float,
                 refresh_interval_s: float) -> None:
        super().__init__(writer, engine, interval_s)
        self.refresh_interval_s = refresh_interval_s

    def run_now(self, *, full: bool | None = None) -> runner.TraitRun:
        """One run: a refresh when ``full``, an update when not, else whichever is due."""
        return self.exclusive(lambda: self.work(full))

    def work(self, full: bool | None = None) -> runner.TraitRun:
        due = self._refresh_due() if full is None else full
        return runner.refresh(self.engine) if due else runner.update(self.engine)

    def _refresh_due(self) -> bool:
        last = self.engine.cursor().execute(
            "SELECT max(started_at) FROM trait_runs WHERE kind = 'full'").fetchall()[0][0]
        return last is None or runner.now() - last >= timedelta(seconds=self.refresh_interval_s)
