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
    the segments it uses (:func:`sen.segments.saved.run_all`). A segment that cannot
    run is logged and counted as a failure; the others run."""

    name = "segments"

    def __init__(self, writer: object, engine: object, ops: object, interval_s: float) -> None:
        super().__init__(writer, engine, interval_s)
        self.ops = ops

    def work(self) -> list:
        from sen.segments import saved

        return saved.run_all(self.engine, self.ops, due_only=True)


class AudienceSyncer(WriterJob):
    """Every ``interval_s``, syncs the audience links that are due
    (:func:`sen.segments.audiences.links.sync_due`). Reading members and talking
    to the platforms happen on this job's thread; only each run's write goes
    through the event writer, so a slow platform never holds up ingestion."""

    name = "audiences"

    def __init__(self, writer: object, engine: object, ops: object, settings: object,
                 interval_s: float) -> None:
        super().__init__(writer, engine, interval_s)
        self.ops, self.settings = ops, settings

    def run_now(self) -> list:
        from sen.segments.audiences import links

        self.last = links.sync_due(self.engine, self.ops, self.settings,
                                   write=self.writer.run_exclusive)
        return self.last
