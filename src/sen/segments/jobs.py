"""Keeping events by profile up to date inside ``sen serve``.

Every ``profile_events_interval_s`` the events identity has folded in are
added to ``profile_events`` and the events of records merged or split since
are moved (:func:`sen.segments.events.update`), on the event writer's thread
like identity's and traits' runs (:class:`sen.jobs.WriterJob`).
"""

from __future__ import annotations

from sen.jobs import WriterJob
from sen.segments import events


class ProfileEventsUpdater(WriterJob):
    """Runs an update of ``profile_events`` every ``interval_s``."""

    name = "profile_events"

    def work(self) -> events.EventsRun:
        return events.update(self.engine)


class SegmentsRunner(WriterJob):
    """Every ``interval_s``, runs the saved segments whose refresh is due, each after
    the segments it uses (:func:`sen.segments.saved.run_all`)."""

    name = "segments"

    def __init__(self, writer: object, engine: object, ops: object, interval_s: float) -> None:
        super().__init__(writer, engine, interval_s)
        self.ops = ops

    def work(self) -> list:
        from sen.segments import saved

        return saved.run_all(self.engine, self.ops, due_only=True)
