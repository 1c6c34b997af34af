"""Saved segments: definitions, runs, snapshots, entered/exited events and overlap.

A definition (name, title, rule, how often to refresh) lives in the
operational store. A *run* computes the members now and, in one transaction
of the analytical store:

* replaces the segment's rows in ``segment_members``;
* appends a ``Segment Entered`` / ``Segment Exited`` event to the log for
  each change (messageId ``seg:<segment>:<run time>:<profile>:<kind>``, so a
  retried run adds nothing twice), which journeys and measurement read;
* appends the members to ``segment_snapshots`` (the last
  :data:`SNAPSHOTS_KEPT` runs are kept) and a row of size history to
  ``segment_runs``.

A segment that uses another one is run after it (:func:`run_order`); a rule
that refers to itself, directly or through others, is refused when saved.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import sqlalchemy as sa

from sen.errors import NotFoundError, SenError, ValidationError
from sen.ingest.bulk_events import message_key
from sen.segments import compiler, evaluate, rules
from sen.store.operational import segments as segments_table

log = logging.getLogger(__name__)
SNAPSHOTS_KEPT = 30
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class Segment:
    name: str
    title: str
    rule: rules.Rule
    description: str = ""
    refresh_minutes: int = 60
    archived: bool = False
    created_by: str | None = None
    updated_at: datetime | None = None

    @property
    def uses(self) -> set[str]:
        """The saved segments the rule refers to."""
        return {node.segment for _, node in rules.nodes(self.rule)
                if isinstance(node, rules.SegmentCondition)}


def _row_to_segment(row: Any) -> Segment:
    return Segment(row.name, row.title, rules.parse(json.loads(row.rule)), row.description,
                   row.refresh_minutes, row.archived, row.created_by, row.updated_at)


def get(ops: sa.Engine, name: str) -> Segment:
    with ops.connect() as con:
        row = con.execute(sa.select(segments_table).where(
            segments_table.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no segment '{name}'; GET /api/segments lists them.")
    return _row_to_segment(row)


def all_segments(ops: sa.Engine, *, archived: bool = False) -> list[Segment]:
    query = sa.select(segments_table).order_by(segments_table.c.name)
    if not archived:
        query = query.where(segments_table.c.archived == sa.false())
    with ops.connect() as con:
        return [_row_to_segment(r) for r in con.execute(query)]


def save(ops: sa.Engine, segment: Segment, *, actor: str | None = None) -> Segment:
    """Create or replace a definition; refuses unknown references and cycles."""
    if not NAME.match(segment.name):
        raise ValidationError(f"Segment name '{segment.name}': use lower-case letters, digits, "
                              "'-' and '_' (e.g. lapsed-90-south).", field="name")
    known = {s.name: s for s in all_segments(ops, archived=True)}
    known[segment.name] = segment
    missing = sorted(segment.uses - known.keys())
    if missing:
        raise ValidationError(f"The rule uses segments that do not exist: {missing}; save "
                              "them first.", field="rule")
    run_order(known.values())  # raises on a cycle
    now = evaluate.now()
    values = {"title": segment.title, "description": segment.description,
              "rule": json.dumps(rules.dump(segment.rule), ensure_ascii=False),
              "refresh_minutes": segment.refresh_minutes, "archived": segment.archived,
              "updated_at": now}
    with ops.begin() as con:
        done = con.execute(sa.update(segments_table).where(
            segments_table.c.name == segment.name).values(**values)).rowcount
        if not done:
            con.execute(sa.insert(segments_table).values(
                name=segment.name, created_by=actor, created_at=now, **values))
    return get(ops, segment.name)


def run_order(segments: Iterable[Segment]) -> list[str]:
    """Names in an order where every segment comes after the ones it uses."""
    by_name = {s.name: s for s in segments}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = " → ".join([*path[path.index(name):], name])
            raise ValidationError(f"Segments refer to each other in a circle ({cycle}); "
                                  "remove one of the references.", field="rule")
        state[name] = "active"
        for used in sorted(by_name[name].uses if name in by_name else ()):
            visit(used, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(by_name):
        visit(name, [])
    return [n for n in order if n in by_name]


@dataclass(frozen=True)
class SegmentRun:
    segment: str
    run_at: datetime
    members: int
    entered: int
    exited: int
    seconds: float


def run(engine: Any, segment: Segment, *, as_of: datetime | None = None) -> SegmentRun:
    """Compute the members now and record the run (see the module docstring)."""
    started = time.perf_counter()
    run_at = evaluate.now()
    cur = engine.cursor()
    ctx = evaluate.context(engine.ibis(), cur, as_of)
    members_sql = ibis.to_sql(compiler.members(segment.rule, ctx), dialect="duckdb")
    cur.execute("BEGIN TRANSACTION")
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _seg_new AS {members_sql}")
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _seg_change AS
            SELECT profile_id, 'entered' AS kind FROM _seg_new
            WHERE profile_id NOT IN (SELECT profile_id FROM segment_members WHERE segment = $1)
            UNION ALL
            SELECT profile_id, 'exited' FROM segment_members
            WHERE segment = $1 AND profile_id NOT IN (SELECT profile_id FROM _seg_new)
        """, [segment.name])
        _log_changes(cur, segment.name, run_at)
        cur.execute("DELETE FROM segment_members WHERE segment = ?", [segment.name])
        cur.execute("INSERT INTO segment_members SELECT ?, profile_id FROM _seg_new "
                    "ORDER BY profile_id", [segment.name])
        cur.execute("INSERT INTO segment_snapshots SELECT ?, ?, profile_id FROM _seg_new",
                    [segment.name, run_at])
        members, entered, exited = cur.execute("""
            SELECT (SELECT count(*) FROM _seg_new),
                   count(*) FILTER (WHERE kind = 'entered'), count(*) FILTER (WHERE kind = 'exited')
            FROM _seg_change
        """).fetchall()[0]
        seconds = time.perf_counter() - started
        cur.execute("INSERT INTO segment_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [segment.name, run_at, ctx.as_of, members, entered, exited, seconds])
        _keep_recent_snapshots(cur, segment.name)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return SegmentRun(segment.name, run_at, int(members), int(entered), int(exited), seconds)


def _log_changes(cur: Any, name: str, run_at: datetime) -> None:
    """One ``Segment Entered``/``Exited`` event per change, as the profile's first record."""
    message_id = ("'seg:' || $1 || ':' || strftime($2, '%Y%m%dT%H%M%S.%f') || ':' "
                  "|| c.profile_id || ':' || c.kind")
    cur.execute(f"""
        INSERT INTO events (message_id, message_key, type, event, user_id, anonymous_id,
                            source, timestamp, received_at, properties)
        SELECT m.message_id, {message_key('m.message_id')}, 'track', m.event,
               m.user_id, m.anonymous_id, 'sen', $2, $2, m.properties
        FROM (
            SELECT {message_id} AS message_id,
                   CASE c.kind WHEN 'entered' THEN 'Segment Entered'
                        ELSE 'Segment Exited' END AS event,
                   CASE WHEN starts_with(p.record, 'u:') THEN substr(p.record, 3) END AS user_id,
                   CASE WHEN starts_with(p.record, 'a:') THEN substr(p.record, 3) END
                       AS anonymous_id,
                   json_object('segment', $1, 'profile_id', c.profile_id)::JSON AS properties
            FROM _seg_change c JOIN profiles p USING (profile_id)
        ) m
        WHERE NOT EXISTS (SELECT 1 FROM events e
                          WHERE e.message_key = {message_key('m.message_id')}
                            AND e.message_id = m.message_id)
    """, [name, run_at])


def _keep_recent_snapshots(cur: Any, name: str) -> None:
    """Members are kept for the last :data:`SNAPSHOTS_KEPT` runs (an empty run counts)."""
    cur.execute("""
        DELETE FROM segment_snapshots WHERE segment = $1 AND run_at NOT IN (
            SELECT run_at FROM segment_runs WHERE segment = $1
            ORDER BY run_at DESC LIMIT $2)
    """, [name, SNAPSHOTS_KEPT])


class SegmentRunsFailed(SenError):
    """Some segments could not run; the others did (``runs``)."""

    def __init__(self, runs: list[SegmentRun], failed: dict[str, str]) -> None:
        self.runs, self.failed = runs, failed
        detail = "; ".join(f"{name}: {why}" for name, why in failed.items())
        super().__init__(f"{len(failed)} segment(s) could not run ({detail}).",
                         hint="Fix or archive them; the other segments ran.")


def run_all(engine: Any, ops: sa.Engine, *, as_of: datetime | None = None,
            due_only: bool = False) -> list[SegmentRun]:
    """Run every saved segment (or those due), each after the ones it uses.

    A segment that cannot run (its rule names a user-defined trait since
    deleted, say) does not stop the others; the ones that use it wait, since
    they would read its stale members. Raises :class:`SegmentRunsFailed`, with
    the runs that went through, when any failed.
    """
    saved = {s.name: s for s in all_segments(ops)}
    last = dict(engine.cursor().execute(
        "SELECT segment, max(run_at) FROM segment_runs GROUP BY segment").fetchall())
    now = evaluate.now()
    out: list[SegmentRun] = []
    failed: dict[str, str] = {}
    for name in run_order(saved.values()):
        s = saved[name]
        if due_only and name in last and (now - last[name]).total_seconds() < \
                s.refresh_minutes * 60:
            continue
        blocked = sorted(s.uses & failed.keys())
        if blocked:
            failed[name] = f"uses {', '.join(blocked)}, which could not run"
            continue
        try:
            out.append(run(engine, s, as_of=as_of))
        except SenError as exc:
            log.warning("segment %s could not run: %s", name, exc)
            failed[name] = str(exc)
    if failed:
        raise SegmentRunsFailed(out, failed)
    return out


def members(engine: Any, name: str) -> list[str]:
    """The segment's members at its last run, sorted."""
    return [r[0] for r in engine.cursor().execute(
        "SELECT profile_id FROM segment_members WHERE segment = ? ORDER BY 1",
        [name]).fetchall()]


def snapshots(engine: Any, name: str) -> list[tuple[datetime, int]]:
    """The runs whose members are kept (the last :data:`SNAPSHOTS_KEPT`), newest first,
    with their sizes."""
    return [(r[0], int(r[1])) for r in engine.cursor().execute(
        "SELECT run_at, members FROM segment_runs WHERE segment = ? "
        "ORDER BY run_at DESC LIMIT ?", [name, SNAPSHOTS_KEPT]).fetchall()]


def history(engine: Any, name: str, limit: int = 100) -> list[SegmentRun]:
    rows = engine.cursor().execute("""
        SELECT segment, run_at, members, entered, exited, seconds FROM segment_runs
        WHERE segment = ? ORDER BY run_at DESC LIMIT ?
    """, [name, limit]).fetchall()
    return [SegmentRun(*r) for r in rows]


def overlap(engine: Any, names: list[str]) -> dict[str, dict[str, int]]:
    """Members shared by every pair of the named segments (the diagonal is each size)."""
    rows = engine.cursor().execute("""
        SELECT a.segment, b.segment, count(*) FROM segment_members a
        JOIN segment_members b USING (profile_id)
        WHERE list_contains($1, a.segment) AND list_contains($1, b.segment)
        GROUP BY ALL
    """, [names]).fetchall()
    matrix = {a: dict.fromkeys(names, 0) for a in names}
    for a, b, n in rows:
        matrix[a][b] = int(n)
    return matrix
