"""Events by profile: the projection segment conditions read.

``profile_events`` holds every ``track``, ``page`` and ``screen`` event of a
record that has a profile, with that profile's id, so "viewed a product in the
last 7 days" or "clicked a message of campaign C" is a filter and a
``GROUP BY profile_id`` over one table instead of a join of the whole log to
identity through the record key. Page and screen calls are named
``Page Viewed`` and ``Screen Viewed`` (Segment's names for them in audiences),
with the page's name in ``properties.name``; a message event's ``channel``,
``campaign_id`` and ``journey_id`` are columns, so campaign conditions parse
no JSON.

The log is never rewritten: a profile id here is a copy of identity's mapping,
kept in step by :func:`update`, which

* adds the events identity has folded in since the last run (a ``rowid``
  watermark, up to identity's own, so an event waits until its record has a
  profile), and
* moves the events of the records whose profile changed: the profiles named
  in the merge log since the last run are the only ones that can have lost
  records, so their stored rows are compared with identity's mapping, and
  rows of a record that now belongs elsewhere take its new profile id (a
  record no longer mapped loses its rows). Merged-away ids disappear.

:func:`rebuild` writes the table again from the log. Each run is one
transaction; an update with nothing new changes nothing, and any sequence of
updates leaves what a rebuild gives (a property test checks it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sen.identity.extract import record_key
from sen.store.analytics import DuckDBEngine
from sen.store.settings import read_meta, write_meta

EVENTS_MARK = "profile_events_rowid"
MERGES_MARK = "profile_events_merge_rowid"
_IDENTITY_MARK = "identity_rowid"
PAGE_EVENT, SCREEN_EVENT = "Page Viewed", "Screen Viewed"
# A full build writes rows in time order. Segment conditions filter one event
# name over a window of time and group by profile: DuckDB's per-block min/max
# of the time skip every block older than the window, and the updates append
# new events in about the same order, so the table stays clustered
# (docs/segments.md compares this with other orders).
SORT = ("timestamp",)


@dataclass
class EventsRun:
    """What one run did: events added, records and events moved, time per step."""

    kind: str
    events: int = 0
    records_moved: int = 0
    events_moved: int = 0
    events_dropped: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def rebuild(engine: DuckDBEngine) -> EventsRun:
    """Write ``profile_events`` again from the whole log (up to what identity has folded)."""
    return _run(engine, full=True)


def update(engine: DuckDBEngine) -> EventsRun:
    """Add the events identity folded in since the last run and move the events of
    records merged or split since; the first run on a store is a rebuild."""
    return _run(engine, full=False)


def rows_sql(start: int, end: int) -> str:
    """``profile_events`` rows of the log's events with ``start <= rowid < end``.

    The record key cleans both ids with a regular expression; it is computed
    once per distinct (userId, anonymousId) pair, which the events are then
    joined to (per event it took most of a full build's time).
    """
    where = (f"rowid >= {int(start)} AND rowid < {int(end)} AND (type IN ('page', 'screen') "
             "OR (type = 'track' AND event IS NOT NULL))")
    return f"""
        WITH owner AS MATERIALIZED (
            SELECT k.user_id, k.anonymous_id, k.record, p.profile_id
            FROM (SELECT user_id, anonymous_id, {record_key()} AS record
                  FROM (SELECT DISTINCT user_id, anonymous_id FROM events WHERE {where})) k
            JOIN identity_profiles p USING (record)
        ), e AS (
            SELECT rowid AS event_rowid, type, event, name, user_id, anonymous_id, source,
                   timestamp, properties,
                   CASE WHEN type = 'track' AND starts_with(event, 'Message ')
                        THEN json_extract_string(properties, ['$.channel', '$.campaign_id',
                                                              '$.journey_id'])
                   END AS msg
            FROM events WHERE {where}
        )
        SELECT o.profile_id,
               CASE e.type WHEN 'page' THEN '{PAGE_EVENT}' WHEN 'screen' THEN '{SCREEN_EVENT}'
                           ELSE e.event END AS event,
               e.timestamp, e.source,
               NULLIF(e.msg[1], '') AS channel, NULLIF(e.msg[2], '') AS campaign_id,
               NULLIF(e.msg[3], '') AS journey_id,
               CASE WHEN e.type <> 'track' AND e.name IS NOT NULL
                    THEN json_merge_patch(coalesce(e.properties, '{{}}'),
                                          json_object('name', e.name))
                    ELSE e.properties END AS properties,
               o.record, e.event_rowid
        FROM e JOIN owner o ON e.user_id IS NOT DISTINCT FROM o.user_id
                           AND e.anonymous_id IS NOT DISTINCT FROM o.anonymous_id
    """


def _run(engine: DuckDBEngine, *, full: bool) -> EventsRun:
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        if not full and read_meta(cur, EVENTS_MARK) is None:
            full = True
        run = EventsRun("full" if full else "incremental")
        end = int(read_meta(cur, _IDENTITY_MARK) or 0)
        merges_end = int(cur.execute("SELECT coalesce(max(rowid) + 1, 0) "
                                     "FROM identity_merge_log").fetchall()[0][0])
        if full:
            _timed(run, "build", lambda: _build(cur, run, end))
        else:
            start = int(read_meta(cur, EVENTS_MARK) or 0)
            merges_start = int(read_meta(cur, MERGES_MARK) or 0)
            if merges_end > merges_start:
                _timed(run, "move", lambda: _move(cur, run, merges_start, merges_end))
            if end > start:
                _timed(run, "add", lambda: _add(cur, run, start, end))
            end = max(end, start)
        write_meta(cur, EVENTS_MARK, str(end))
        write_meta(cur, MERGES_MARK, str(merges_end))
        _timed(run, "commit", lambda: cur.execute("COMMIT"))
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return run


def _build(cur: Any, run: EventsRun, end: int) -> None:
    cur.execute("DELETE FROM profile_events")
    run.events = _count(cur.execute(
        f"INSERT INTO profile_events {rows_sql(0, end)} ORDER BY {', '.join(SORT)}"))


def _add(cur: Any, run: EventsRun, start: int, end: int) -> None:
    run.events = _count(cur.execute(f"INSERT INTO profile_events {rows_sql(start, end)}"))


def _move(cur: Any, run: EventsRun, start: int, end: int) -> None:
    """Give the rows of records that changed profile their new profile id.

    A record leaves a profile only by a merge (the profile it left is among
    the entry's ``other_profiles``) or a split (the entry's ``profile_id``),
    so the stored rows of those profiles hold every record to move. Moved
    rows are deleted and written again at the end rather than updated in
    place: a profile's events are spread over the whole table, and an update
    makes the next checkpoint rewrite every block it touched.
    """
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pe_logged AS
        SELECT DISTINCT unnest(list_append(other_profiles, profile_id)) AS profile_id
        FROM identity_merge_log WHERE rowid >= {int(start)} AND rowid < {int(end)}
    """)
    _timed(run, "move_find", lambda: cur.execute(
        "CREATE OR REPLACE TEMP TABLE _pe_rows AS SELECT rowid AS row_id, * "
        "FROM profile_events SEMI JOIN _pe_logged USING (profile_id)"))
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _pe_moved AS
        SELECT s.record, ip.profile_id AS new_id
        FROM (SELECT DISTINCT record, profile_id FROM _pe_rows) s
        LEFT JOIN identity_profiles ip USING (record)
        WHERE ip.profile_id IS DISTINCT FROM s.profile_id
    """)
    run.records_moved = int(cur.execute("SELECT count(*) FROM _pe_moved").fetchall()[0][0])
    if run.records_moved:
        cur.execute("DELETE FROM _pe_rows WHERE record NOT IN (SELECT record FROM _pe_moved)")
        run.events_dropped = int(cur.execute(
            "SELECT count(*) FROM _pe_rows WHERE record IN "
            "(SELECT record FROM _pe_moved WHERE new_id IS NULL)").fetchall()[0][0])
        _timed(run, "move_delete", lambda: cur.execute(
            "DELETE FROM profile_events WHERE rowid IN (SELECT row_id FROM _pe_rows)"
        ).fetchall())
        run.events_moved = _count(cur.execute("""
            INSERT INTO profile_events
            SELECT r.* EXCLUDE (row_id) REPLACE (m.new_id AS profile_id)
            FROM _pe_rows r JOIN _pe_moved m USING (record)
            WHERE m.new_id IS NOT NULL ORDER BY timestamp
        """))
    cur.execute("DROP TABLE _pe_logged")
    cur.execute("DROP TABLE _pe_rows")
    cur.execute("DROP TABLE _pe_moved")


def _count(cur: Any) -> int:
    rows = cur.fetchall()
    return int(rows[0][0]) if rows else 0


def _timed(run: EventsRun, name: str, fn: Any) -> None:
    t0 = time.perf_counter()
    fn()
    run.seconds[name] = round(time.perf_counter() - t0, 3)
