"""Identity in the analytical store: from the event log to profiles and golden records.

This is the edge of :mod:`sen.identity` that does I/O. :func:`update` reads the
events added since its last run (a ``rowid`` watermark: the log is
append-only), normalises the identifiers they carry, re-links only the
clusters they can change and refreshes those profiles' golden records, all in
one transaction. :func:`rebuild` does the same over the whole log. Both give
the same profiles (a property test proves it), and both log every merge and
split with its cause.

A profile is named ``p_`` + the first 16 hex digits of md5 of its
representative record (identified records before anonymous ones, then by id),
so a profile keeps its id as long as that record stays in it; the merge log
says where an id went.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from sen.identity import config as identity_config
from sen.identity import extract, sql_normalise
from sen.identity.config import IdentityConfig
from sen.identity.golden import GOLDEN_FIELDS, SurvivorshipRules, choice_sql
from sen.identity.graph import TYPES, link
from sen.identity.ids import IdentifierType, Normalised, normalise
from sen.identity.names import fold_name, normalise_name
from sen.identity.rules import MergeRules
from sen.store.analytics import DuckDBEngine

_WATERMARK = "identity_rowid"
# The look-up's point read by value; a full run drops and rebuilds it. The
# mapping and golden records are written sorted by record and profile id, so
# point reads on them are served by DuckDB's per-block min/max instead.
VALUE_INDEX = "identity_observations_value"
RKEY = "md5_number_upper(record)"
VKEY = "md5_number_upper(id_type || ':' || value)"
_OPAQUE = ("user_id", "anonymous_id")
_IDENTIFYING = ("user_id", "phone", "email", "zalo_id", "loyalty_card", "marketplace_buyer")
_TYPE_CODES = ", ".join(f"('{t}', {i})" for i, t in enumerate(TYPES))


@dataclass
class RunStats:
    """What one identity run did, for logs, the CLI and benchmarks."""

    events: int = 0
    observations: int = 0
    records: int = 0
    identifiers: int = 0
    profiles_touched: int = 0
    merges: int = 0
    splits: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def rebuild(engine: DuckDBEngine, config: IdentityConfig | None = None, *,
            reread_log: bool = True) -> RunStats:
    """Recompute every profile, by ``config`` (stored for later updates) or by the
    settings the store already holds.

    With ``reread_log`` the evidence is read again from the whole event log
    (needed after a normaliser changed); without it, profiles are re-linked
    and golden records rebuilt from the evidence tables ``update`` keeps.
    """
    return _run(engine, config, full=True, reread_log=reread_log)


def update(engine: DuckDBEngine) -> RunStats:
    """Fold the events added since the last run into identity, by the stored settings."""
    return _run(engine, None, full=False)


def relink(engine: DuckDBEngine, records: list[str], *, actor: str | None = None,
           cause: str | None = None, before: Callable[[Any], None] | None = None) -> RunStats:
    """Re-link the clusters of ``records``, after ``before`` (run in the same
    transaction) recorded the decision that changes them."""
    stats = RunStats()
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        config = identity_config.stored(cur)
        if before is not None:
            before(cur)
        cur.register("_id_seed_in", pa.table({"record": pa.array(records, pa.string())}))
        cur.execute("CREATE OR REPLACE TEMP TABLE _id_seed AS SELECT DISTINCT record "
                    "FROM _id_seed_in")
        cur.unregister("_id_seed_in")
        _affected_clusters(cur)
        _link_affected(cur, config.merge_rules, stats, full=False, actor=actor, cause=cause)
        _golden(cur, config.survivorship, stats)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return stats


def _run(engine: DuckDBEngine, config: IdentityConfig | None, *, full: bool,
         reread_log: bool = True) -> RunStats:
    stats = RunStats()
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        if config is None:
            config = identity_config.stored(cur)
        else:
            identity_config.store(cur, config)
        rules, surv = config.merge_rules, config.survivorship
        if full and not reread_log:
            _timed(stats, "link", lambda: _relink_everything(cur, rules, stats))
            _timed(stats, "golden", lambda: _golden(cur, surv, stats, full=True))
            cur.execute("COMMIT")
            return stats
        _timed(stats, "extract", lambda: _extract(cur, stats, full=full))
        if full or stats.events:
            _timed(stats, "normalise", lambda: _normalise(cur))
            _timed(stats, "store", lambda: _store_evidence(cur, full=full))
            if full:
                _timed(stats, "link", lambda: _relink_everything(cur, rules, stats))
            else:
                _timed(stats, "affected", lambda: _affected_clusters(cur))
                _timed(stats, "link", lambda: _link_affected(cur, rules, stats, full=False))
            _timed(stats, "golden", lambda: _golden(cur, surv, stats, full=full))
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return stats


def _relink_everything(cur: Any, rules: MergeRules, stats: RunStats) -> None:
    cur.execute("CREATE OR REPLACE TEMP TABLE _id_affected AS "
                "SELECT DISTINCT record FROM identity_observations")
    _link_affected(cur, rules, stats, full=True)


def _timed(stats: RunStats, name: str, fn: Any) -> None:
    t0 = time.perf_counter()
    fn()
    stats.seconds[name] = round(time.perf_counter() - t0, 3)


# -- evidence -------------------------------------------------------------------------------

def _extract(cur: Any, stats: RunStats, *, full: bool) -> None:
    """Stage the new events' observations, fields and devices in temp tables."""
    start = 0 if full else int(cur.execute(
        f"SELECT coalesce(max(value), '0') FROM sen_meta WHERE key = '{_WATERMARK}'"
    ).fetchall()[0][0])
    end = cur.execute("SELECT coalesce(max(rowid) + 1, 0) FROM events").fetchall()[0][0]
    stats.events = max(int(end) - start, 0)
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _id_ev AS SELECT * FROM events "
                f"WHERE rowid >= {start} AND rowid < {end}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _id_ids AS {extract.ids_sql('_id_ev')}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _id_traits AS {extract.traits_sql('_id_ev')}")
    cur.execute("CREATE OR REPLACE TEMP TABLE _id_raw AS "
                + extract.observations_sql("_id_ids", "_id_traits"))
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _id_fields AS {extract.fields_sql('_id_traits')}")
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _id_dev AS {extract.devices_sql('_id_ids')}")
    cur.execute("DROP TABLE _id_ids")
    cur.execute("DROP TABLE _id_traits")
    cur.execute("INSERT OR REPLACE INTO sen_meta VALUES (?, ?)", [_WATERMARK, str(end)])


def _normalise(cur: Any) -> None:
    """Normalise raw values never seen before; results are kept for next time.

    Values in their commonest canonical shape are done in SQL
    (:mod:`sen.identity.sql_normalise`), the rest one by one in Python.
    """
    # One pass over the cache finds what is known; the rest is new.
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_known AS
        SELECT n.id_type, n.raw, n.value FROM identity_normal n
        JOIN (SELECT DISTINCT id_type, raw FROM _id_raw WHERE id_type NOT IN {_OPAQUE}) d
          USING (id_type, raw)
    """)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_unknown AS
        SELECT id_type, raw, {sql_normalise.fast_sql()} AS value
        FROM (SELECT DISTINCT id_type, raw FROM _id_raw r
              WHERE id_type NOT IN {_OPAQUE}
                AND NOT EXISTS (SELECT 1 FROM _id_known n
                                WHERE n.id_type = r.id_type AND n.raw = r.raw))
    """)
    cur.execute("INSERT INTO identity_normal SELECT id_type, raw, value, NULL FROM _id_unknown "
                "WHERE value IS NOT NULL")
    raws = cur.execute("SELECT id_type, raw FROM _id_unknown WHERE value IS NULL").fetchnumpy()
    values, reasons = [], []
    for id_type, raw in zip(raws["id_type"].tolist(), raws["raw"].tolist(), strict=True):
        result = normalise(IdentifierType(id_type), raw)
        ok = isinstance(result, Normalised)
        values.append(result.value if ok else None)
        reasons.append(None if ok else result.reason)
    table = pa.table({"id_type": raws["id_type"].tolist(), "raw": raws["raw"].tolist(),
                      "value": values, "reason": reasons},
                     schema=pa.schema([("id_type", pa.string()), ("raw", pa.string()),
                                       ("value", pa.string()), ("reason", pa.string())]))
    cur.register("_id_normal_new", table)
    cur.execute("INSERT INTO identity_normal SELECT * FROM _id_normal_new")
    cur.execute("INSERT INTO _id_known SELECT id_type, raw, value FROM _id_unknown "
                "WHERE value IS NOT NULL")
    cur.execute("INSERT INTO _id_known SELECT id_type, raw, value FROM _id_normal_new")
    cur.unregister("_id_normal_new")
    names = cur.execute(
        """SELECT DISTINCT value FROM _id_fields f
           WHERE field IN ('name', 'first_name', 'last_name')
             AND NOT EXISTS (SELECT 1 FROM identity_names n WHERE n.raw = f.value)"""
    ).fetchnumpy()["value"].tolist()
    shown = [normalise_name(n) for n in names]
    cur.register("_id_names_new", pa.table({
        "raw": pa.array(names, pa.string()), "name": pa.array(shown, pa.string()),
        "folded": pa.array([fold_name(s) if s else None for s in shown], pa.string())}))
    cur.execute("INSERT INTO identity_names SELECT * FROM _id_names_new")
    cur.unregister("_id_names_new")


def _store_evidence(cur: Any, *, full: bool) -> None:
    """Append the staged evidence to the identity tables.

    The tables are append-only between full rebuilds: a run adds its own
    aggregated rows, and readers aggregate again (sum of counts, widest span),
    so an update never rewrites the million rows already there. A full
    rebuild writes them afresh, compacted, with the look-up index rebuilt.
    """
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE _id_new_obs AS
        SELECT r.record, r.id_type, r.raw,
               CASE WHEN r.id_type IN {_OPAQUE} THEN r.raw ELSE n.value END AS value,
               r.source, r.first_seen, r.last_seen, r.n
        FROM _id_raw r LEFT JOIN _id_known n
          ON r.id_type NOT IN {_OPAQUE} AND n.id_type = r.id_type AND n.raw = r.raw
    """)
    if full:
        cur.execute(f"DROP INDEX IF EXISTS {VALUE_INDEX}")
        for table in ("identity_observations", "identity_fields", "identity_devices"):
            cur.execute(f"DELETE FROM {table}")
    else:
        _seeds(cur)
    order = " ORDER BY value" if full else ""
    cur.execute(f"INSERT INTO identity_observations BY NAME SELECT *, {RKEY} AS rkey, "
                f"{VKEY} AS vkey FROM _id_new_obs{order}")
    cur.execute(f"INSERT INTO identity_fields BY NAME SELECT *, {RKEY} AS rkey FROM _id_fields")
    cur.execute(f"INSERT INTO identity_devices BY NAME SELECT *, {RKEY} AS rkey FROM _id_dev")
    if full:
        cur.execute(f"CREATE INDEX IF NOT EXISTS {VALUE_INDEX} ON identity_observations (value)")


# -- which records to re-link -------------------------------------------------------------

def _seeds(cur: Any) -> None:
    """Records whose profile can change, before the staged evidence is merged in.

    Every record the new events touched (its golden record may change even if
    only a date moved), and every record already carrying a value the new
    events carry (it may link them; shared values link no one and are left out).
    """
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_seed AS
        SELECT record FROM _id_new_obs UNION SELECT record FROM _id_fields
        UNION SELECT record FROM _id_dev
    """)
    # Matching on the integer key may add a record by a 64-bit collision; an
    # extra seed only costs the re-linking of its (whole) cluster.
    cur.execute(f"""
        INSERT INTO _id_seed
        SELECT DISTINCT o.record FROM identity_observations o
        WHERE o.vkey IN (SELECT {VKEY} FROM _id_new_obs s
                         WHERE value IS NOT NULL AND NOT EXISTS (
                             SELECT 1 FROM identity_shared x
                             WHERE x.id_type = s.id_type AND x.value = s.value))
          AND o.record NOT IN (SELECT record FROM _id_seed)
    """)


def _affected_clusters(cur: Any) -> None:
    """Records whose profile can change: the whole clusters of the seeds.

    Values only become shared as evidence grows, and a value's anchor counts
    change only through records that gained identifiers (all seeds), so the
    clusters of the seeds hold every record a full rebuild would move.
    """
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_affected AS
        SELECT record FROM _id_seed
        UNION
        SELECT p.record FROM identity_profiles p
        WHERE p.cluster_id IN (SELECT q.cluster_id FROM identity_profiles q
                               JOIN _id_seed USING (record))
    """)


# -- linking ------------------------------------------------------------------------------

def _link_affected(cur: Any, rules: MergeRules, stats: RunStats, *, full: bool,
                   actor: str | None = None, cause: str | None = None) -> None:
    """Link the affected records and write their profiles, the shared list and the log.

    Strings never reach the graph: records and values travel as pairs of
    64-bit hashes (a 128-bit key, so a collision is out of reach) and are
    coded densely in numpy. Records are ranked identified-first, then by
    hash; the first-ranked record names the profile.
    """
    _scope_evidence(cur, full=full)
    obs = cur.execute(f"""
        SELECT dense_rank() OVER (ORDER BY anon, r1, r2) - 1 AS rec,
               dense_rank() OVER (ORDER BY tc, v1, v2) - 1 AS ident, tc, r1, r2, v1, v2
        FROM (SELECT o.rkey AS r1, hash(o.record, 'sen') AS r2,
                     starts_with(o.record, 'a:') AS anon, t.code AS tc,
                     o.vkey AS v1, hash(o.value, 'sen') AS v2
              FROM _id_aobs o
              JOIN (VALUES {_TYPE_CODES}) AS t(id_type, code) USING (id_type)
              WHERE o.value IS NOT NULL)
    """).fetchnumpy()
    rec, ident = obs["rec"].astype(np.int64), obs["ident"].astype(np.int64)
    rec_rows, ident_rows = _one_row_per_code(rec), _one_row_per_code(ident)
    n_rec = len(rec_rows)
    cur.register("_id_codes", pa.table({
        "r1": obs["r1"][rec_rows], "r2": obs["r2"][rec_rows], "code": np.arange(n_rec)}))
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_rec AS
        SELECT r.record, c.code FROM (SELECT DISTINCT record FROM _id_affected) r
        JOIN _id_codes c ON c.r1 = md5_number_upper(r.record) AND c.r2 = hash(r.record, 'sen')
    """)
    cur.unregister("_id_codes")
    ident_keys = (obs["tc"][ident_rows], obs["v1"][ident_rows], obs["v2"][ident_rows])
    blocked = _flagged(cur, ident_keys, """
        SELECT id_type, value FROM identity_overrides WHERE kind = 'block' AND active""")
    if not full:
        blocked |= _flagged(cur, ident_keys, "SELECT id_type, value FROM identity_shared")
    pairs = cur.execute("""
        SELECT a.code, b.code FROM identity_overrides v
        JOIN _id_rec a ON a.record = v.record_a JOIN _id_rec b ON b.record = v.record_b
        WHERE v.kind = 'link' AND v.active
    """).fetchall()
    linked = link(rec, ident, ident_keys[0], np.arange(n_rec), rules, blocked=blocked,
                  pairs=np.array(pairs, np.int64).reshape(-1, 2),
                  names=_record_names(cur, n_rec))
    stats.records, stats.identifiers, stats.observations = n_rec, len(ident_rows), len(rec)
    _write_profiles(cur, linked, full=full)
    _write_shared(cur, [k[linked.shared] for k in ident_keys], full=full)
    _log_changes(cur, stats, actor=actor, cause=cause)


def _scope_evidence(cur: Any, *, full: bool) -> None:
    """``_id_aobs``, ``_id_afields``, ``_id_adev``: the evidence of the affected records.

    An update reads each big table once here, and linking, the log and the
    golden records read these small copies; a full run reads the tables.
    """
    for alias, table, cols in (
        ("_id_aobs", "identity_observations",  # all but raw, which nothing here reads
         "record, id_type, value, source, first_seen, last_seen, n, rkey, vkey"),
        ("_id_afields", "identity_fields", "*"), ("_id_adev", "identity_devices", "*"),
    ):
        if cur.execute("SELECT 1 FROM duckdb_views() WHERE temporary AND view_name = ?",
                       [alias]).fetchall():
            cur.execute(f"DROP VIEW {alias}")
        cur.execute(f"DROP TABLE IF EXISTS {alias}")
        if full:
            cur.execute(f"CREATE TEMP VIEW {alias} AS SELECT * FROM {table}")
        else:  # the integer key finds the rows; the exact record drops any collision
            cur.execute(f"CREATE TEMP TABLE {alias} AS SELECT {cols} FROM {table} "
                        f"WHERE rkey IN (SELECT {RKEY} FROM _id_affected)")
            cur.execute(f"DELETE FROM {alias} "
                        "WHERE record NOT IN (SELECT record FROM _id_affected)")


def _one_row_per_code(codes: np.ndarray) -> np.ndarray:
    """For dense codes 0..n-1, the index of one row carrying each."""
    rows = np.empty(int(codes.max()) + 1 if len(codes) else 0, np.int64)
    rows[codes] = np.arange(len(codes))
    return rows


def _flagged(cur: Any, keys: tuple[np.ndarray, ...], sql: str) -> np.ndarray:
    """Per identifier code: is it among the (id_type, value) rows ``sql`` returns."""
    rows = cur.execute(f"""
        SELECT t.code AS tc, md5_number_upper(x.id_type || ':' || x.value) AS v1,
               hash(x.value, 'sen') AS v2
        FROM ({sql}) x JOIN (VALUES {_TYPE_CODES}) AS t(id_type, code) USING (id_type)
    """).fetchnumpy()
    if len(rows["tc"]) == 0 or len(keys[0]) == 0:
        return np.zeros(len(keys[0]), bool)
    # The value key narrows millions of identifiers to a few in numpy; only
    # those few are compared on the whole key.
    wanted = set(zip(rows["tc"].tolist(), rows["v1"].tolist(), rows["v2"].tolist(),
                     strict=True))
    flags = np.isin(keys[1], rows["v1"])
    for i in np.flatnonzero(flags).tolist():
        flags[i] = (int(keys[0][i]), int(keys[1][i]), int(keys[2][i])) in wanted
    return flags


def _write_profiles(cur: Any, linked: Any, *, full: bool) -> None:
    """Replace the affected records' rows in ``identity_profiles``."""
    cur.register("_id_linked", pa.table({
        "code": np.arange(len(linked.profile)), "profile": linked.profile,
        "cluster": linked.cluster}))
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_map AS
        WITH reps AS (
            SELECT code, 'p_' || substr(md5(record), 1, 16) AS profile_id FROM _id_rec
            WHERE code IN (SELECT profile FROM _id_linked)
        )
        SELECT r.record, p.profile_id, 'c_' || substr(c.profile_id, 3) AS cluster_id
        FROM _id_linked l JOIN _id_rec r ON r.code = l.code
        JOIN reps p ON p.code = l.profile
        JOIN (SELECT l2.code, p2.profile_id FROM _id_linked l2
              JOIN reps p2 ON p2.code = l2.profile) c ON c.code = l.cluster
    """)
    cur.unregister("_id_linked")
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_old AS
        SELECT record, profile_id FROM identity_profiles JOIN _id_rec USING (record)
    """)
    if full:
        cur.execute("DELETE FROM identity_profiles")
    else:
        cur.execute("DELETE FROM identity_profiles WHERE record IN (SELECT record FROM _id_rec)")
    cur.execute("INSERT INTO identity_profiles SELECT record, profile_id, cluster_id FROM _id_map "
                "ORDER BY record")


def _write_shared(cur: Any, keys: list[np.ndarray], *, full: bool) -> None:
    """Add the values found shared (a full run replaces the list)."""
    if full:
        cur.execute("DELETE FROM identity_shared")
    cur.register("_id_shared_new", pa.table({"tc": keys[0], "v1": keys[1], "v2": keys[2]}))
    cur.execute(f"""
        INSERT INTO identity_shared
        SELECT DISTINCT o.id_type, o.value FROM _id_aobs o
        JOIN (VALUES {_TYPE_CODES}) AS t(id_type, code) USING (id_type)
        JOIN _id_shared_new s ON s.tc = t.code AND s.v1 = o.vkey
             AND s.v2 = hash(o.value, 'sen')
        WHERE NOT EXISTS (SELECT 1 FROM identity_shared x
                          WHERE x.id_type = o.id_type AND x.value = o.value)
    """)
    cur.unregister("_id_shared_new")


def _record_names(cur: Any, n_rec: int) -> tuple[np.ndarray, list[frozenset[str]]]:
    """Each record's most used folded name, as a code into a list of word sets."""
    rows = cur.execute("""
        WITH nm AS (
            SELECT r.code, arg_max(n.folded, (f.n, f.last_seen, n.folded)) AS folded
            FROM _id_rec r JOIN _id_afields f USING (record)
            JOIN identity_names n ON n.raw = f.value
            WHERE f.field = 'name' AND n.folded IS NOT NULL AND n.folded <> ''
            GROUP BY r.code
        ), k AS (
            SELECT code, array_to_string(list_sort(list_distinct(string_split(folded, ' '))),
                                         ' ') AS words
            FROM nm
        )
        SELECT code, dense_rank() OVER (ORDER BY words) - 1 AS name, words FROM k
    """).fetchnumpy()
    codes = np.full(n_rec, -1, np.int64)
    codes[rows["code"].astype(np.int64)] = rows["name"].astype(np.int64)
    order = np.argsort(rows["name"], kind="stable")
    words = rows["words"][order]
    first = np.concatenate(([True], rows["name"][order][1:] != rows["name"][order][:-1])) \
        if len(order) else np.zeros(0, bool)
    return codes, [frozenset(w.split()) for w in words[first].tolist()]


def _log_changes(cur: Any, stats: RunStats, *, actor: str | None, cause: str | None) -> None:
    """Append merges (a profile gathering records of several before) and splits.

    A record seen for the first time counts as its own profile before, so an
    anonymous visitor who logs in shows up as a merge into the known customer.
    """
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_change AS
        SELECT m.record, m.profile_id AS new_p,
               CASE WHEN o.profile_id IS NULL THEN 'p_' || substr(md5(m.record), 1, 16)
                    ELSE o.profile_id END AS old_p
        FROM _id_map m LEFT JOIN _id_old o USING (record)
    """)
    who = f"'{actor}'" if actor else "'sen'"
    given = f"'{cause}'" if cause else "NULL"
    merged = cur.execute(f"""
        INSERT INTO identity_merge_log
        WITH g AS (
            SELECT new_p, list(DISTINCT old_p ORDER BY old_p) AS olds, count(*) AS n
            FROM _id_change GROUP BY new_p HAVING count(DISTINCT old_p) > 1
        ), links AS (
            SELECT c.new_p, x.id_type, x.value
            FROM _id_aobs x JOIN _id_change c ON c.record = x.record
            WHERE x.value IS NOT NULL AND c.new_p IN (SELECT new_p FROM g)
              AND NOT EXISTS (SELECT 1 FROM identity_shared s
                              WHERE s.id_type = x.id_type AND s.value = x.value)
            GROUP BY ALL HAVING count(DISTINCT c.old_p) > 1
        ), why AS (
            SELECT new_p, left(string_agg(id_type || ' ' || value, ', '
                                          ORDER BY id_type, value), 500) AS cause
            FROM links GROUP BY new_p
        )
        SELECT now()::TIMESTAMP, 'merged', g.new_p, g.olds, g.n,
               coalesce({given}, why.cause, 'approved link'), {who}
        FROM g LEFT JOIN why USING (new_p)
    """).fetchall()[0]
    split = cur.execute(f"""
        INSERT INTO identity_merge_log
        SELECT now()::TIMESTAMP, 'split', old_p, list(DISTINCT new_p ORDER BY new_p), count(*),
               coalesce({given}, 'a linking value became shared or was blocked'), {who}
        FROM _id_change c WHERE EXISTS (SELECT 1 FROM _id_old o WHERE o.profile_id = c.old_p)
        GROUP BY old_p HAVING count(DISTINCT new_p) > 1
    """).fetchall()[0]
    stats.merges = int(merged[0]) if merged else 0
    stats.splits = int(split[0]) if split else 0


# -- golden records -----------------------------------------------------------------------

def _golden(cur: Any, rules: SurvivorshipRules, stats: RunStats, *, full: bool = False
            ) -> None:
    """Rewrite the golden records of every profile the run touched."""
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_pids AS
        SELECT DISTINCT profile_id FROM _id_map
        UNION SELECT DISTINCT profile_id FROM _id_old
    """)
    # Profiles are re-linked whole, so their members are exactly the mapped
    # records; an integer code stands in for the id in the heavy grouping.
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_pc AS
        SELECT profile_id, (row_number() OVER ())::INTEGER AS pcode
        FROM (SELECT DISTINCT profile_id FROM _id_map)
    """)
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE _id_members AS
        SELECT m.record, c.pcode AS profile_id FROM _id_map m JOIN _id_pc c USING (profile_id)
    """)
    stats.profiles_touched = cur.execute("SELECT count(*) FROM _id_pids").fetchall()[0][0]
    gender = ("CASE WHEN lower(f.value) IN ('nữ', 'nu', 'female', 'f', 'woman') THEN 'female' "
              "WHEN lower(f.value) IN ('nam', 'male', 'm', 'man') THEN 'male' END")
    birth = ("strftime(coalesce(TRY_CAST(f.value AS DATE), "
             "try_strptime(f.value, '%d/%m/%Y')::DATE), '%Y-%m-%d')")
    cur.execute(f"""
        CREATE OR REPLACE TEMP VIEW _id_values AS
        SELECT m.profile_id, f.field,
               CASE f.field WHEN 'name' THEN nm.name WHEN 'gender' THEN {gender}
                            WHEN 'birth_date' THEN {birth} ELSE f.value END AS value,
               f.source, f.first_seen, f.last_seen, f.n
        FROM _id_afields f JOIN _id_members m USING (record)
        LEFT JOIN identity_names nm ON f.field = 'name' AND nm.raw = f.value
        WHERE f.field IN {tuple(GOLDEN_FIELDS)}
        UNION ALL
        SELECT m.profile_id, o.id_type, o.value, o.source, o.first_seen, o.last_seen, o.n
        FROM _id_aobs o JOIN _id_members m USING (record)
        WHERE o.id_type IN ('phone', 'email', 'zalo_id', 'loyalty_card') AND o.value IS NOT NULL
    """)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _id_choice AS "
                f"{choice_sql('(SELECT * FROM _id_values WHERE value IS NOT NULL)', rules)}")
    pivot = ", ".join(f"max(value) FILTER (WHERE field = '{f}') AS {f}" for f in GOLDEN_FIELDS)
    if full:
        cur.execute("DELETE FROM profiles")
    else:
        cur.execute("DELETE FROM profiles WHERE profile_id IN (SELECT profile_id FROM _id_pids)")
    cur.execute(f"""
        INSERT INTO profiles BY NAME
        WITH g AS (SELECT profile_id, {pivot} FROM _id_choice GROUP BY profile_id),
        o AS (
            SELECT m.profile_id,
                   bool_or(o.id_type IN {_IDENTIFYING} AND o.value IS NOT NULL) AS identified,
                   min(o.first_seen) AS first_seen, max(o.last_seen) AS last_seen,
                   min(o.first_seen) FILTER (WHERE o.id_type = 'anonymous_id') AS anonymous_since,
                   min(o.first_seen) FILTER (WHERE o.id_type IN {_IDENTIFYING}
                                             AND o.value IS NOT NULL) AS identified_at
            FROM _id_members m JOIN _id_aobs o USING (record)
            GROUP BY m.profile_id
        ),
        u AS (
            SELECT m.profile_id, list_sort(list(DISTINCT o.value)) AS user_ids
            FROM _id_members m JOIN _id_aobs o USING (record)
            WHERE o.id_type = 'user_id' GROUP BY m.profile_id
        ),
        s AS (
            SELECT m.profile_id, list_sort(list(DISTINCT o.source)) AS sources
            FROM _id_members m
            JOIN (SELECT DISTINCT record, source FROM _id_aobs) o USING (record)
            GROUP BY m.profile_id
        ),
        d AS (
            SELECT m.profile_id, count(DISTINCT d.device_id) AS devices,
                   count(DISTINCT d.device_id) FILTER (WHERE d.device_type = 'web'
                                                       OR d.device_type IS NULL) AS browsers,
                   count(DISTINCT d.push_token) FILTER (WHERE d.device_type = 'web'
                                                        OR d.device_type IS NULL) AS web_push,
                   count(DISTINCT d.push_token) FILTER (WHERE d.device_type IN
                                                        ('ios', 'android')) AS app_push
            FROM _id_members m JOIN (
                SELECT record, device_id, any_value(device_type) AS device_type,
                       arg_max(push_token, last_seen) FILTER (WHERE push_token IS NOT NULL)
                           AS push_token
                FROM _id_adev WHERE record IN (SELECT record FROM _id_members)
                GROUP BY record, device_id) d USING (record)
            GROUP BY m.profile_id
        ),
        r AS (
            SELECT profile_id, count(*) AS records,
                   arg_min(record, (starts_with(record, 'a:'), record)) AS record
            FROM _id_members GROUP BY profile_id
        )
        SELECT pc.pid AS profile_id, r.record, g.name, nm.folded AS name_folded, g.gender,
               TRY_CAST(g.birth_date AS DATE) AS birth_date, g.province, g.address, g.store_code,
               g.phone, g.email, g.zalo_id, g.loyalty_card,
               coalesce(o.identified, false) AS identified, r.records, u.user_ids, s.sources,
               o.first_seen, o.last_seen, o.anonymous_since, o.identified_at,
               coalesce(d.devices, 0) AS devices, coalesce(d.browsers, 0) AS browsers,
               coalesce(d.web_push, 0) AS web_push_tokens,
               coalesce(d.app_push, 0) AS app_push_tokens
        FROM r LEFT JOIN g USING (profile_id) LEFT JOIN o USING (profile_id)
        LEFT JOIN u USING (profile_id) LEFT JOIN s USING (profile_id)
        LEFT JOIN d USING (profile_id)
        JOIN (SELECT profile_id AS pid, pcode FROM _id_pc) pc ON pc.pcode = r.profile_id
        LEFT JOIN (SELECT name, any_value(folded) AS folded FROM identity_names
                   WHERE name IN (SELECT value FROM _id_choice WHERE field = 'name')
                   GROUP BY name) nm ON nm.name = g.name
        {"ORDER BY profile_id" if full else ""}
    """)

