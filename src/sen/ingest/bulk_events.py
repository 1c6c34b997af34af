"""Segment events from NDJSON or Parquet, checked and converted inside DuckDB.

A file of millions of events cannot go through :func:`validate_event` one by
one in Python at the speed the engine reads JSON, so the same rules are written
here as SQL over one ``read_json`` scan with explicit column types (sub-objects
as ``JSON``). The rules mirror ``sen.ingest.spec`` and give the same field and
rule names; a test holds the two paths to the same answers.

Differences a user may notice, all documented in ``docs/import.md``:
* unknown top-level keys are not kept in ``extra`` (only ``integrations``,
  ``channel`` and ``category`` are);
* the 32 KB limit is measured on the fields Sen keeps;
* ``receivedAt`` in the file is kept (an export from another tool knows when
  the event arrived); without it, the import time is used;
* an event without ``messageId`` gets a deterministic one from its content, so
  importing the same file twice stores it once.
"""

from __future__ import annotations

import json
import mmap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from sen.errors import ImportError_, StoreError
from sen.ingest.readers import sql_str
from sen.ingest.spec import EVENT_TYPES, MAX_EVENT_BYTES, MAX_ID_LENGTH
from sen.store.schema import EVENT_COLUMNS

STAGE = "_sen_ev_rows"
_VARCHAR = ("type", "messageId", "event", "name", "userId", "anonymousId", "previousId",
            "groupId", "timestamp", "originalTimestamp", "sentAt", "receivedAt", "channel",
            "category")
_JSON = ("properties", "traits", "context", "integrations")
_IDS = ("userId", "anonymousId", "previousId", "groupId")
_TIMES = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")


def _q(name: str) -> str:
    return f'"{name}"'


def source_sql(path: Path, fmt: str, parquet_types: dict[str, str] | None = None) -> str:
    """The query reading the file with Sen's column types.

    For Parquet, ``parquet_types`` (column → DuckDB type, from ``DESCRIBE``)
    says which columns exist: missing ones are NULL, nested ones become JSON.
    """
    if fmt == "parquet":
        have = parquet_types or {}
        items = []
        for c in (*_VARCHAR, *_JSON):
            kind = "JSON" if c in _JSON else "VARCHAR"
            if c not in have:
                items.append(f"CAST(NULL AS {kind}) AS {_q(c)}")
            elif kind == "JSON" and have[c] not in ("VARCHAR", "JSON"):
                items.append(f"to_json({_q(c)}) AS {_q(c)}")
            else:
                items.append(f"CAST({_q(c)} AS {kind}) AS {_q(c)}")
        return f"SELECT {', '.join(items)} FROM read_parquet({sql_str(str(path))})"
    cols = {**{c: "VARCHAR" for c in _VARCHAR}, **{c: "JSON" for c in _JSON}}
    spec = ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in cols.items())
    return (f"SELECT * FROM read_json({sql_str(str(path))}, format = 'newline_delimited', "
            f"ignore_errors = true, columns = {{{spec}}}, maximum_object_size = 67108864)")


def utc(v: str) -> str:
    """SQL: ISO-8601 text to naive UTC; text without a zone is UTC, as in the spec.

    The ``...Z`` form every Segment library sends is already UTC: a plain
    ``TIMESTAMP`` cast reads it to the same value as the zone-aware cast, at a
    third of the cost, so only offsets go through ``TIMESTAMPTZ``.
    """
    offset = f"(suffix({v}, 'z') OR regexp_matches({v}, '[+-][0-9]{{2}}:?[0-9]{{2}}$'))"
    return (f"CASE WHEN {v} IS NULL THEN NULL "
            f"WHEN suffix({v}, 'Z') THEN TRY_CAST({v} AS TIMESTAMP) "
            f"WHEN {offset} THEN timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) "
            f"ELSE TRY_CAST({v} AS TIMESTAMP) END")


def message_key(v: str) -> str:
    """SQL: the dedupe key of a messageId, equal to ``md5_number_upper``.

    The low 64 bits of ``md5_number`` are the same number and cost a quarter as
    much to compute (``md5_number_upper`` is the slowest step of a big file).
    """
    return f"CAST(md5_number({v}) & CAST({(1 << 64) - 1} AS UHUGEINT) AS UBIGINT)"


def _rules() -> list[tuple[str, str, str, str]]:
    """(field, rule, broken-when SQL, message) in the order validate_event reports them."""
    # Comparisons, not ``NOT IN (...)``: DuckDB plans an IN list (and
    # list_contains of constants) as a join, and a join would lose the file's
    # order that the stage relies on.
    types = " AND ".join(f"_type <> {sql_str(t)}" for t in EVENT_TYPES)
    rules: list[tuple[str, str, str, str]] = [
        ("", "max_event_size", f"_size > {MAX_EVENT_BYTES}",
         f"the event is over the limit of {MAX_EVENT_BYTES} bytes (32 KB)"),
        ("type", "missing", "_type IS NULL", "Field required"),
        ("type", "literal_error", f"({types})",
         "Input should be " + ", ".join(f"'{t}'" for t in EVENT_TYPES)),
        ("messageId", "string_too_short", "length(_mid) = 0",
         "String should have at least 1 character"),
        ("messageId", "string_too_long", f"length(_mid) > {MAX_ID_LENGTH}",
         f"String should have at most {MAX_ID_LENGTH} characters"),
    ]
    for c in _IDS:
        rules.append((c, "value_error", f"length(_{c}) > {MAX_ID_LENGTH}",
                      f"must be at most {MAX_ID_LENGTH} characters"))
    for c in ("event", "name"):
        rules.append((c, "string_too_long", f"length({_q(c)}) > {MAX_ID_LENGTH}",
                      f"String should have at most {MAX_ID_LENGTH} characters"))
    for c in _TIMES:
        rules.append((c, "datetime_parsing", f"{_q(c)} IS NOT NULL AND _t_{c} IS NULL",
                      "Input should be a valid datetime"))
    for c in ("properties", "traits", "context"):
        # read_json writes JSON values compactly, so the first byte tells an object.
        rules.append((c, "object_required",
                      f"{_q(c)} IS NOT NULL AND left(CAST({_q(c)} AS VARCHAR), 1) <> '{{' "
                      f"AND CAST({_q(c)} AS VARCHAR) <> 'null'",
                      "must be a JSON object ({...})"))
    rules += [
        ("previousId", "required", "_type = 'alias' AND _previousId IS NULL",
         "alias needs previousId (the old id)"),
        ("userId", "required", "_type = 'alias' AND _userId IS NULL",
         "alias needs userId (the new id)"),
        ("userId", "identity_required",
         "_type <> 'alias' AND _userId IS NULL AND _anonymousId IS NULL",
         "every event needs userId or anonymousId; send at least one"),
        ("event", "required", "_type = 'track' AND NULLIF(trim(event), '') IS NULL",
         "track needs the event name in `event`"),
        ("groupId", "required", "_type = 'group' AND _groupId IS NULL", "group needs groupId"),
    ]
    return rules


def _rule_no(rules: list[tuple[str, str, str, str]]) -> str:
    """One small CASE giving the number of the first broken rule (NULL: the event is good).

    A single integer, not three text CASEs: cheaper to compute and to stage.
    """
    whens = " ".join(f"WHEN {r[2]} THEN {i}" for i, r in enumerate(rules))
    return f"CAST(CASE {whens} END AS SMALLINT)"


def computed_sql(path: Path, fmt: str, *, received_at: str,
                 parquet_types: dict[str, str] | None = None) -> str:
    """Every record of the file with its checks and event-log values computed."""
    ids = ", ".join(f"NULLIF(trim({_q(c)}), '') AS _{c}" for c in _IDS)
    times = ", ".join(f"{utc(_q(c))} AS _t_{c}" for c in _TIMES)
    size = " + ".join(f"coalesce(strlen(CAST({_q(c)} AS VARCHAR)), 0)"
                      for c in (*_VARCHAR, *_JSON))
    empty = " AND ".join(f"{_q(c)} IS NULL" for c in (*_VARCHAR, *_JSON))
    content = ", ".join(f"coalesce(CAST({_q(c)} AS VARCHAR), '')"
                        for c in (*_VARCHAR, *_JSON))
    return f"""
    SELECT *, {message_key('_message_id')} AS message_key,
           CASE WHEN _client IS NULL THEN _received
                WHEN _t_sentAt IS NULL THEN _client
                ELSE _received - (_t_sentAt - _client) END AS _timestamp
    FROM (
        SELECT *, {_rule_no(_rules())} AS _rule_no,
               CASE WHEN _mid IS NULL THEN 'sen-' || md5(concat_ws('|', {content}))
                    ELSE _mid END AS _message_id,
               coalesce(_t_timestamp, _t_originalTimestamp) AS _client,
               coalesce(_t_receivedAt, {received_at}::TIMESTAMP) AS _received
        FROM (
            SELECT *, {ids}, {times}, lower(trim(type)) AS _type, "messageId" AS _mid,
                   {size} AS _size, ({empty}) AS _empty
            FROM ({source_sql(path, fmt, parquet_types)})
        ) AS c
    ) AS v
    """


def stage_sql(computed: str, *, source: str, load_id: str) -> str:
    """``CREATE TEMP TABLE _sen_ev_rows``: every record as an event-log row, with
    ``_rule_no`` (first broken rule, NULL when good), ``_empty`` (read as nothing
    at all: broken JSON, not an object, or none of the spec's fields) and, for
    rejected records, ``_payload``.

    No record number is computed here: a window function would make the scan
    single-threaded. Created by one statement over one file, outside any
    transaction and with ``preserve_insertion_order`` on, the table holds the
    records in the file's order and ``rowid`` runs 0..n-1: ``rowid + 1`` is the
    record number (blank lines not counted). A test holds this on a file big
    enough to be read by several threads.
    """
    fields = ", ".join(f"{sql_str(c)}, {_q(c)}" for c in (*_VARCHAR, *_JSON))
    return f"""
    CREATE OR REPLACE TEMP TABLE {STAGE} AS
    SELECT _rule_no, _empty,
           CASE WHEN _rule_no IS NOT NULL AND NOT _empty
                THEN CAST(json_merge_patch('{{}}', json_object({fields})) AS VARCHAR) END
               AS _payload,
           _message_id AS message_id, message_key, _type AS type, event, name,
           _userId AS user_id, _anonymousId AS anonymous_id, _previousId AS previous_id,
           _groupId AS group_id, {sql_str(source)} AS source, _timestamp AS timestamp,
           _client AS original_timestamp, _t_sentAt AS sent_at, _received AS received_at,
           properties, traits, context,
           CASE WHEN integrations IS NOT NULL OR channel IS NOT NULL OR category IS NOT NULL
                THEN json_merge_patch('{{}}', json_object('integrations', integrations,
                     'channel', channel, 'category', category)) END AS extra,
           {sql_str(load_id)} AS load_id
    FROM ({computed})
    """


_WHITESPACE = np.frombuffer(b" \t\n\r\x0b\x0c", dtype=np.uint8)
_SLICE = 1 << 26


def _line_ends(data: np.ndarray) -> np.ndarray:
    """The offset just past every line (its newline, or the end of the file);
    numpy scans slices in two threads (it lets go of the GIL)."""
    def newlines(lo: int) -> np.ndarray:
        return np.flatnonzero(data[lo:lo + _SLICE] == 10) + lo

    with ThreadPoolExecutor(2) as pool:
        ends = np.concatenate(list(pool.map(newlines, range(0, len(data), _SLICE))))
    if len(data) and data[-1] != 10:
        ends = np.append(ends, len(data))
    return ends


def _record_lines(raw: mmap.mmap, data: np.ndarray, starts: np.ndarray,
                  ends: np.ndarray) -> np.ndarray:
    """Which lines are records: ``read_json`` skips blank (whitespace-only) lines.
    Only lines starting with whitespace can be blank, and those are few."""
    maybe = np.flatnonzero(np.isin(data[starts], _WHITESPACE))
    blank = [i for i in maybe.tolist() if not raw[starts[i]:ends[i]].strip()]
    keep = np.ones(len(starts), dtype=bool)
    keep[blank] = False
    return np.flatnonzero(keep)


def lines_at(path: Path, wanted: list[int]) -> dict[int, str]:
    """The text of records ``wanted`` (numbered from 1, blank lines not counted).

    ``read_json`` keeps no text of the rows it could not read, so the file is
    scanned again for them: a vectorised search for newlines over a memory map
    costs about a second for 3 GB, far less than numbering every line in SQL.
    """
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        data = np.frombuffer(raw, dtype=np.uint8)
        ends = _line_ends(data)
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        records = _record_lines(raw, data, starts, ends)
        found = {}
        for n in wanted:
            if 0 < n <= len(records):
                i = records[n - 1]
                found[n] = raw[starts[i]:ends[i]].rstrip(b"\r\n").decode("utf-8", "replace")
        del data
    return found


def empty_reason(line: str | None) -> tuple[str | None, str, str]:
    """(field, rule, message) for a record read as nothing, from its raw line."""
    import orjson

    try:
        value = orjson.loads(line or "")
    except orjson.JSONDecodeError:
        return None, "invalid_json", "the line is not valid JSON"
    if not isinstance(value, dict):
        return None, "object_required", "an event must be a JSON object"
    return "type", "missing", "Field required"


RULES = tuple((r[0] or None, r[1], r[3]) for r in _rules())


@dataclass
class EventLoad:
    """Counts of one events file; rejected records are left in ``_sen_rejects``
    (``_row``, ``_field``, ``_rule``, ``_message``, ``_payload``)."""

    rows_in: int
    accepted: int
    inserted: int
    duplicates: int
    rejected: int


def stage_events(cur: Any, path: Path, fmt: str, *, source: str, load_id: str,
                 received_at: str) -> None:
    """Read and check every record of an events file into ``_sen_ev_rows``.

    Must run in autocommit, before the import's transaction: only a committed
    table has final rowids, which number the records (see :func:`stage_sql`).
    Nothing of the store is written here; the writes are :func:`load_events`'.
    """
    if not path.is_file():
        raise ImportError_(f"There is no file at {path}.", hint="Check the path.")
    try:
        parquet_types = None
        if fmt == "parquet":
            parquet_types = {r[0]: r[1] for r in cur.execute(
                f"DESCRIBE SELECT * FROM read_parquet({sql_str(str(path))})").fetchall()}
        computed = computed_sql(path, fmt, received_at=received_at, parquet_types=parquet_types)
        sql = stage_sql(computed, source=source, load_id=load_id)
        _keeps_file_order(cur, sql)
        cur.execute(sql)
    except duckdb.Error as exc:
        raise ImportError_(f"Cannot read {path.name} as {fmt} events: {exc}",
                           hint="Events files hold one Segment event (a JSON object) per "
                           "line, or are Parquet with the spec's columns.") from None


def _keeps_file_order(cur: Any, sql: str) -> None:
    """Refuse a stage that would not keep the file's order.

    Record numbers are the stage's rowids, which follow the file only when
    DuckDB materialises in order: its order-keeping ``BATCH_CREATE_TABLE_AS``.
    A join in the query (an IN list is planned as one) or
    ``preserve_insertion_order = false`` turns it into a plain, parallel
    ``CREATE_TABLE_AS`` that interleaves the threads' rows.
    """
    plan = json.loads(cur.execute(f"EXPLAIN (FORMAT json) {sql}").fetchall()[0][1])
    if plan[0]["name"] != "BATCH_CREATE_TABLE_AS":
        raise StoreError("The events stage would not keep the file's order, so rejected "
                         "lines could not be numbered.", sql=sql,
                         hint="Keep `preserve_insertion_order` on; the stage query must "
                         "hold no joins.")


def load_events(cur: Any, path: Path, fmt: str) -> EventLoad:
    """Append the new good records of the staged file to ``events``.

    Runs inside the caller's transaction, after :func:`stage_events`; leaves the
    rejected records in ``_sen_rejects``.
    """
    _resolve_empty(cur, path, fmt)
    skipped = store_staged(cur, STAGE, "rowid")
    rows_in, rejected = cur.execute(f"SELECT count(*), count(_rule_no) FROM {STAGE}").fetchone()
    accepted = rows_in - rejected
    return EventLoad(rows_in, accepted, accepted - skipped, skipped, rejected)


def skip_sql(table: str, row: str) -> str:
    """``_sen_skip``: the good rows of ``table`` not to store (``_row``, the value of
    ``row``): keys already in ``events``, and every copy of a key after its first
    in the file. Aggregates and hash joins only, so it runs in parallel; only keys
    that repeat are looked at for their first copy."""
    return f"""CREATE OR REPLACE TEMP TABLE _sen_skip AS
        WITH good AS (SELECT {row} AS _row, message_key FROM {table} WHERE _rule_no IS NULL),
        repeated AS (SELECT message_key, min(_row) AS first FROM good
                     GROUP BY message_key HAVING count(*) > 1)
        SELECT _row FROM good WHERE message_key IN (
            SELECT message_key FROM events WHERE message_key IN (SELECT message_key FROM good))
        UNION
        SELECT g._row FROM good g JOIN repeated r USING (message_key) WHERE g._row > r.first"""


def insert_sql(table: str, row: str) -> str:
    """Append the good rows of ``table`` that are not in ``_sen_skip`` to ``events``."""
    return f"""INSERT INTO events SELECT {", ".join(EVENT_COLUMNS)} FROM {table}
        WHERE _rule_no IS NULL AND {row} NOT IN (SELECT _row FROM _sen_skip)"""


def store_staged(cur: Any, table: str = "_sen_ev", row: str = "_row") -> int:
    """Append the good rows of ``table`` (an events file's stage, or ``_sen_ev`` of
    rows turned into events) to ``events``, skipping keys already stored and later
    copies of a key seen earlier; ``row`` orders the copies. Return how many good
    rows were skipped; they are left in ``_sen_skip``."""
    cur.execute(skip_sql(table, row))
    cur.execute(insert_sql(table, row))
    return cur.execute("SELECT count(*) FROM _sen_skip").fetchone()[0]


def fresh_events_sql() -> str:
    """The newly stored events of the last :func:`load_events` that feed projections."""
    return f"""CREATE OR REPLACE TEMP TABLE _sen_fresh AS
        SELECT {", ".join(EVENT_COLUMNS)} FROM {STAGE}
        WHERE _rule_no IS NULL
          AND (type = 'identify' OR event IN ('Order Completed', 'Order Refunded',
                                             'Order Cancelled'))
          AND rowid NOT IN (SELECT _row FROM _sen_skip)"""


def rejects_sql() -> str:
    """``_sen_rejects``: every rejected record, numbered, with its first broken rule."""
    rules = ", ".join(f"({i}, {sql_str(f) if f else 'NULL'}, {sql_str(r)}, {sql_str(m)})"
                      for i, (f, r, m) in enumerate(RULES))
    return f"""CREATE OR REPLACE TEMP TABLE _sen_rejects AS
        SELECT s.rowid + 1 AS _row, r.field AS _field, r.rule AS _rule, r.message AS _message,
               s._payload, s._empty
        FROM {STAGE} s JOIN (VALUES {rules}) AS r(no, field, rule, message) ON s._rule_no = r.no
        WHERE s._rule_no IS NOT NULL"""


def _resolve_empty(cur: Any, path: Path, fmt: str) -> None:
    """Fill ``_sen_rejects``; records read as nothing get their reason and text
    from the raw line."""
    cur.execute(rejects_sql())
    empties = [n for (n,) in cur.execute("SELECT _row FROM _sen_rejects WHERE _empty").fetchall()]
    if not empties or fmt != "ndjson":
        return
    lines = lines_at(path, empties)
    fixes = [(n, *empty_reason(lines.get(n)), lines.get(n)) for n in empties]
    cur.register("_sen_fix_arrow", pa.table(
        {k: list(v) for k, v in
         zip(("n", "f", "r", "m", "line"), zip(*fixes, strict=True), strict=True)},
        schema=pa.schema([("n", pa.int64()), ("f", pa.string()), ("r", pa.string()),
                          ("m", pa.string()), ("line", pa.string())])))
    cur.execute("CREATE OR REPLACE TEMP TABLE _sen_fix AS SELECT * FROM _sen_fix_arrow")
    cur.unregister("_sen_fix_arrow")
    cur.execute("""UPDATE _sen_rejects SET _field = x.f, _rule = x.r, _message = x.m,
                   _payload = x.line FROM _sen_fix x WHERE _sen_rejects._row = x.n""")
    cur.execute("DROP TABLE _sen_fix")
