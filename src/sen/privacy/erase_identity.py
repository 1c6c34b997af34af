"""Erasure of what identity, traits and segments derived about her.

Her evidence (observations, fields, devices), her place in the graph, her
golden record and every per-profile table go. Caches shared with other people
(normalised values, normalised names, the shared-value list) lose only what no
one else still uses. History that other profiles keep (the merge log, people's
decisions) loses her ids and values, in place: the merge log's ``rowid`` is
a watermark for events by profile, so its rows are never moved.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from sen.privacy.scrub import Matcher, Pseudonyms
from sen.privacy.subject import OF_RECORDS, Subject

# Rows keyed by profile id: golden record, traits, orders by profile, segments, audiences.
PER_PROFILE = ("profiles", "profile_traits", "profile_trait_periods", "custom_trait_values",
               "profile_orders", "profile_order_lines", "segment_members", "segment_snapshots",
               "audience_sync_state")
_NAME_FIELDS = ("name", "first_name", "last_name")


def _values(cur: Any, subject: Subject) -> None:
    """``_pv_values``: her identifiers (type, raw, normalised value)."""
    rows = [{"id_type": t, "raw": r, "value": v} for t, r, v in subject.identifiers]
    cur.register("_pv_values_in", pa.Table.from_pylist(rows, schema=pa.schema(
        [("id_type", pa.string()), ("raw", pa.string()), ("value", pa.string())])))
    cur.execute("CREATE OR REPLACE TEMP TABLE _pv_values AS SELECT * FROM _pv_values_in")
    cur.unregister("_pv_values_in")


def neighbours(cur: Any, subject: Subject) -> list[str]:
    """Other records whose profile her departure can change: those of her clusters,
    and every carrier of a value she had (a value she made shared may link again)."""
    _values(cur, subject)
    recs = list(subject.records)
    found = cur.execute("""
        SELECT record FROM identity_profiles
        WHERE cluster_id IN (SELECT cluster_id FROM identity_profiles
                             WHERE list_contains(?::VARCHAR[], record))
        UNION
        SELECT o.record FROM identity_observations o
        JOIN (SELECT DISTINCT id_type, value FROM _pv_values WHERE value IS NOT NULL) v
          ON o.vkey = md5_number_upper(v.id_type || ':' || v.value)
         AND o.id_type = v.id_type AND o.value = v.value""", [recs]).fetchall()
    return sorted({r for (r,) in found} - set(recs))


def audience_links(cur: Any, subject: Subject) -> list[str]:
    """Audience links whose ad-platform audience was sent her identifiers."""
    return [r[0] for r in cur.execute(
        "SELECT DISTINCT link FROM audience_sync_state "
        "WHERE list_contains(?::VARCHAR[], profile_id) ORDER BY link",
        [subject.profile_ids]).fetchall()]


def scrub(cur: Any, subject: Subject, names: Pseudonyms, matcher: Matcher) -> dict[str, int]:
    """Everything derived about her, inside the caller's transaction; rows per table."""
    _values(cur, subject)
    counts = _evidence(cur, subject)
    counts |= _caches(cur, subject)
    counts |= _history(cur, subject, names, matcher)
    ids, recs = subject.profile_ids, list(subject.records)
    for table in PER_PROFILE:
        counts[table] = _count(cur.execute(
            f"DELETE FROM {table} WHERE list_contains(?::VARCHAR[], profile_id)", [ids]))
    counts["profile_events"] = _count(cur.execute(
        "DELETE FROM profile_events WHERE list_contains(?::VARCHAR[], profile_id) "
        "OR list_contains(?::VARCHAR[], record)", [ids, recs]))
    counts["quarantine"] = _quarantine(cur, matcher)
    cur.execute("DROP TABLE _pv_values")
    return counts


def _evidence(cur: Any, subject: Subject) -> dict[str, int]:
    recs, ids = list(subject.records), subject.profile_ids
    counts = {t: _count(cur.execute(f"DELETE FROM {t} WHERE {OF_RECORDS}", [recs, recs]))
              for t in ("identity_observations", "identity_fields", "identity_devices")}
    counts["identity_profiles"] = _count(cur.execute(
        "DELETE FROM identity_profiles WHERE list_contains(?::VARCHAR[], record)", [recs]))
    counts["identity_candidates"] = _count(cur.execute("""
        DELETE FROM identity_candidates
        WHERE list_contains(?::VARCHAR[], record_a) OR list_contains(?::VARCHAR[], record_b)
           OR list_contains(?::VARCHAR[], profile_a) OR list_contains(?::VARCHAR[], profile_b)
    """, [recs, recs, ids, ids]))
    # Decisions about her records go; a blocked value goes once nobody else carries it.
    counts["identity_overrides"] = _count(cur.execute("""
        DELETE FROM identity_overrides v
        WHERE list_contains(?::VARCHAR[], v.record_a) OR list_contains(?::VARCHAR[], v.record_b)
           OR (EXISTS (SELECT 1 FROM _pv_values p
                       WHERE p.id_type = v.id_type AND p.value = v.value)
               AND NOT EXISTS (SELECT 1 FROM identity_observations o
                               WHERE o.id_type = v.id_type AND o.value = v.value))
    """, [recs, recs]))
    # The re-link decides again whether her values are shared among those left.
    counts["identity_shared"] = _count(cur.execute("""
        DELETE FROM identity_shared s
        WHERE EXISTS (SELECT 1 FROM _pv_values p WHERE p.id_type = s.id_type
                      AND p.value = s.value)"""))
    return counts


def _caches(cur: Any, subject: Subject) -> dict[str, int]:
    """Normalisations of her raw values and names that nobody else uses."""
    normal = _count(cur.execute("""
        DELETE FROM identity_normal n
        WHERE EXISTS (SELECT 1 FROM _pv_values p WHERE p.id_type = n.id_type AND p.raw = n.raw)
          AND NOT EXISTS (SELECT 1 FROM identity_observations o
                          WHERE o.id_type = n.id_type AND o.raw = n.raw)"""))
    raw_names = sorted({v for f, v in subject.fields if f in _NAME_FIELDS})
    names = _count(cur.execute("""
        DELETE FROM identity_names n
        WHERE list_contains(?::VARCHAR[], n.raw)
          AND NOT EXISTS (SELECT 1 FROM identity_fields f
                          WHERE f.value = n.raw AND f.field IN ('name', 'first_name',
                                                                'last_name'))""",
        [raw_names]))
    return {"identity_normal": normal, "identity_names": names}


def _history(cur: Any, subject: Subject, names: Pseudonyms, matcher: Matcher
             ) -> dict[str, int]:
    """Her merge-log entries lose her profile id and their causes (her values); other
    entries and people's notes lose any of her values they quote."""
    ids = subject.profile_ids
    own = cur.execute("SELECT rowid, profile_id FROM identity_merge_log "
                      "WHERE list_contains(?::VARCHAR[], profile_id)", [ids]).fetchall()
    for rid, pid in own:
        cur.execute("UPDATE identity_merge_log SET profile_id = ?, cause = 'erased' "
                    "WHERE rowid = ?", [names.id("p", pid), rid])
    quoted = 0
    for table, column in (("identity_merge_log", "cause"), ("identity_overrides", "note")):
        for rid, text in _mentions(cur, table, column, matcher):
            cur.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                        [matcher.sub(text), rid])
            quoted += 1
    return {"identity_merge_log": len(own), "history_quotes": quoted}


def _mentions(cur: Any, table: str, column: str, matcher: Matcher) -> list[tuple[int, str]]:
    """Rows of ``table`` whose ``column`` holds one of her values: SQL narrows the
    rows by substring, the matcher confirms whole words."""
    if not matcher.tokens:
        return []
    cond = " OR ".join(f"contains(lower({column}), ?)" for _ in matcher.tokens)
    rows = cur.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL "
                       f"AND ({cond})", [t.lower() for t in matcher.tokens]).fetchall()
    return [(rid, text) for rid, text in rows if matcher.search(text)]


def _quarantine(cur: Any, matcher: Matcher) -> int:
    """Rejected events and rows that hold her values (the raw text of a bad import line)."""
    hits = [rid for rid, _ in _mentions(cur, "quarantine", "payload", matcher)]
    if not hits:
        return 0
    return _count(cur.execute("DELETE FROM quarantine WHERE list_contains(?::BIGINT[], rowid)",
                              [hits]))


def _count(result: Any) -> int:
    rows = result.fetchall()
    return int(rows[0][0]) if rows else 0
