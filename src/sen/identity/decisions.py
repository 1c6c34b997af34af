"""People's decisions about identity: unmerge, link, and the review queue.

A decision is an *override*, appended to ``identity_overrides`` with who made
it and when, and never deleted (undoing one appends its reversal). Blocking a
value makes it link nobody (an unmerge); linking two records joins them (an
approved probable duplicate). Each decision re-links only the clusters it
touches, in one transaction, and the merge log records the split or merge
with the person as its cause. Overrides outlive rebuilds: :func:`rebuild
<sen.identity.resolver.rebuild>` reads them like any other evidence.
"""

from __future__ import annotations

from typing import Any

from sen.errors import NotFoundError, ValidationError
from sen.identity import config as identity_config
from sen.identity import resolver
from sen.identity.duplicates import DuplicateSettings, score_duplicates
from sen.identity.ids import IdentifierType
from sen.store.analytics import DuckDBEngine


def unmerge(engine: DuckDBEngine, profile_id: str, id_type: IdentifierType | str, value: str,
            *, actor: str, note: str | None = None) -> resolver.RunStats:
    """Split a profile where ``value`` joined it: the value links nobody from now on.

    If other values still join the same records, the profile stays whole and
    the merge history names them, so the agent can unmerge those too.
    """
    id_type = _id_type(id_type)
    cur = engine.cursor()
    carriers = [r[0] for r in cur.execute("""
        SELECT DISTINCT o.record FROM identity_observations o
        JOIN identity_profiles p USING (record)
        WHERE o.id_type = ? AND o.value = ? AND p.profile_id = ?""",
        [str(id_type), value, profile_id]).fetchall()]
    if not carriers:
        raise NotFoundError(f"Profile {profile_id!r} has no {id_type} {value!r}.",
                            hint="Pick a value from the profile's merge history.")
    return resolver.relink(
        engine, _carriers(cur, id_type, value), actor=actor,
        cause=f"unmerged {id_type} {value}",
        before=lambda c: _append(c, "block", id_type=str(id_type), value=value, actor=actor,
                                 note=note))


def restore(engine: DuckDBEngine, id_type: IdentifierType | str, value: str, *,
            actor: str) -> resolver.RunStats:
    """Undo :func:`unmerge`: the value links again."""
    id_type = _id_type(id_type)
    cur = engine.cursor()
    if not cur.execute("""SELECT 1 FROM identity_overrides WHERE kind = 'block' AND active
                          AND id_type = ? AND value = ?""", [str(id_type), value]).fetchall():
        raise NotFoundError(f"{id_type} {value!r} is not blocked.")

    def record(c: Any) -> None:
        c.execute("""UPDATE identity_overrides SET active = false
                     WHERE kind = 'block' AND active AND id_type = ? AND value = ?""",
                  [str(id_type), value])
        _append(c, "unblock", id_type=str(id_type), value=value, actor=actor, active=False)

    return resolver.relink(engine, _carriers(cur, id_type, value), actor=actor,
                           cause=f"restored {id_type} {value}", before=record)


def link(engine: DuckDBEngine, record_a: str, record_b: str, *, actor: str,
         note: str | None = None) -> resolver.RunStats:
    """Join two records (and so their profiles): a person says they are one customer."""
    if record_a == record_b:
        raise ValidationError("A record cannot be linked to itself.")
    cur = engine.cursor()
    known = {r[0] for r in cur.execute(
        "SELECT record FROM identity_profiles WHERE record IN (?, ?)",
        [record_a, record_b]).fetchall()}
    for record in (record_a, record_b):
        if record not in known:
            raise NotFoundError(f"There is no record {record!r}.")
    a, b = sorted((record_a, record_b))
    return resolver.relink(
        engine, [a, b], actor=actor, cause=f"linked by {actor}",
        before=lambda c: _append(c, "link", record_a=a, record_b=b, actor=actor, note=note))


def link_many(engine: DuckDBEngine, pairs: list[tuple[str, str]], *, actor: str,
              note: str | None = None) -> resolver.RunStats:
    """Join many pairs of records in one re-link (a reviewer approving a page at once)."""
    ordered = sorted({tuple(sorted(p)) for p in pairs if p[0] != p[1]})

    def record(c: Any) -> None:
        for a, b in ordered:
            _append(c, "link", record_a=a, record_b=b, actor=actor, note=note)

    return resolver.relink(engine, sorted({r for p in ordered for r in p}), actor=actor,
                           cause=f"linked by {actor}", before=record)


def unlink(engine: DuckDBEngine, record_a: str, record_b: str, *, actor: str) -> resolver.RunStats:
    """Undo :func:`link`."""
    a, b = sorted((record_a, record_b))
    if not engine.cursor().execute("""SELECT 1 FROM identity_overrides WHERE kind = 'link'
                                      AND active AND record_a = ? AND record_b = ?""",
                                   [a, b]).fetchall():
        raise NotFoundError(f"{a} and {b} are not linked by a person.")

    def record(c: Any) -> None:
        c.execute("""UPDATE identity_overrides SET active = false
                     WHERE kind = 'link' AND active AND record_a = ? AND record_b = ?""", [a, b])
        _append(c, "unlink", record_a=a, record_b=b, actor=actor, active=False)

    return resolver.relink(engine, [a, b], actor=actor, cause=f"unlinked by {actor}",
                           before=record)


def _id_type(value: IdentifierType | str) -> IdentifierType:
    try:
        return IdentifierType(value)
    except ValueError:
        known = ", ".join(t.value for t in IdentifierType)
        raise ValidationError(f"{value!r} is not an identifier type; use one of: {known}.",
                              field="id_type", rule="enum") from None


def _carriers(cur: Any, id_type: IdentifierType, value: str) -> list[str]:
    return [r[0] for r in cur.execute(
        "SELECT DISTINCT record FROM identity_observations WHERE id_type = ? AND value = ?",
        [str(id_type), value]).fetchall()]


def _append(cur: Any, kind: str, *, actor: str, id_type: str | None = None,
            value: str | None = None, record_a: str | None = None, record_b: str | None = None,
            note: str | None = None, active: bool = True) -> None:
    cur.execute("""
        INSERT INTO identity_overrides
        VALUES (now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [kind, id_type, value, record_a, record_b, active, actor, note])


# -- the review queue ---------------------------------------------------------------------

def score_candidates(engine: DuckDBEngine, settings: DuplicateSettings | None = None) -> int:
    """Score probable duplicates among the golden records and refill the queue.

    Pairs a person already decided stay decided. Above the configured
    automatic threshold, pairs are linked at once (actor ``sen``); the rest
    wait for review. Returns the number of pairs waiting.
    """
    cur = engine.cursor()
    settings = settings or identity_config.stored(cur).duplicates
    pairs = score_duplicates(cur, table="profiles", settings=settings)
    cur.register("_dup_pairs", pairs)
    cur.execute("DELETE FROM identity_candidates")
    cur.execute("""
        INSERT INTO identity_candidates
        SELECT profile_a, profile_b, record_a, record_b, probability, evidence, now()::TIMESTAMP
        FROM _dup_pairs""")
    cur.unregister("_dup_pairs")
    if settings.auto_merge_threshold is not None:
        auto = cur.execute("""
            SELECT record_a, record_b FROM identity_candidates c
            WHERE probability >= ? AND NOT EXISTS (
                SELECT 1 FROM identity_overrides v WHERE v.kind IN ('link', 'reject')
                AND v.record_a = least(c.record_a, c.record_b)
                AND v.record_b = greatest(c.record_a, c.record_b))""",
            [settings.auto_merge_threshold]).fetchall()
        for a, b in auto:
            link(engine, a, b, actor="sen", note="probable duplicate above the automatic "
                 "threshold")
    return waiting(cur)


def waiting(cur: Any) -> int:
    """How many candidate pairs wait for a person."""
    return cur.execute(f"SELECT count(*) FROM ({_PENDING})").fetchall()[0][0]


_PENDING = """
    SELECT c.*, pa.profile_id AS pa, pb.profile_id AS pb
    FROM identity_candidates c
    JOIN identity_profiles pa ON pa.record = c.record_a
    JOIN identity_profiles pb ON pb.record = c.record_b
    WHERE pa.profile_id <> pb.profile_id AND NOT EXISTS (
        SELECT 1 FROM identity_overrides v WHERE v.kind IN ('link', 'reject')
        AND v.record_a = least(c.record_a, c.record_b)
        AND v.record_b = greatest(c.record_a, c.record_b))
"""


def pending(cur: Any, limit: int = 500) -> list[dict[str, Any]]:
    """Candidate pairs waiting for a person, most probable first, as their
    profiles stand now (the golden records may have changed since scoring)."""
    result = cur.execute(f"""
        SELECT q.pa AS profile_a, q.pb AS profile_b, q.record_a, q.record_b, q.probability,
               q.evidence, a.name AS name_a, b.name AS name_b, a.phone AS phone_a,
               b.phone AS phone_b, a.email AS email_a, b.email AS email_b,
               a.birth_date AS birth_date_a, b.birth_date AS birth_date_b,
               a.address AS address_a, b.address AS address_b
        FROM ({_PENDING}) q
        JOIN profiles a ON a.profile_id = q.pa
        JOIN profiles b ON b.profile_id = q.pb
        ORDER BY q.probability DESC, q.record_a, q.record_b LIMIT {int(limit)}
    """)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def decide(engine: DuckDBEngine, record_a: str, record_b: str, *, approve: bool,
           actor: str) -> resolver.RunStats | None:
    """A reviewer's answer: approve links the pair, reject keeps it off the queue."""
    if approve:
        return link(engine, record_a, record_b, actor=actor, note="approved duplicate")
    a, b = sorted((record_a, record_b))
    _append(engine.cursor(), "reject", record_a=a, record_b=b, actor=actor,
            note="not the same customer")
    return None
