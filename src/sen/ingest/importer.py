"""Import one file (customers, orders, products, stores or events) into Sen.

One path in: customer rows and order lines become events first (see
:mod:`sen.ingest.tabular_events`), events go into ``events`` once per
messageId, and the projections follow; products and stores are reference data
upserted in place. Every row is accounted for::

    rows_in  = accepted + rejected
    accepted = inserted + duplicates

Rejected rows go to ``<quarantine_dir>/<load_id>-<file stem>.csv`` with the
reason. The import of one file is one transaction of the analytical store: a
crash leaves the store as it was. An events file is read and checked into a
temporary table first, outside that transaction (its committed rowids number
the records, which keeps the scan parallel); only the writes are transactional.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from sen.errors import ImportError_, SenError, StoreError
from sen.ingest import bulk_events, rows, tabular_events
from sen.ingest.mapping import Mapping, format_of, load_mapping, parse_mapping
from sen.ingest.projections import apply_new_events
from sen.ingest.readers import STAGE, quote_ident, sql_str, stage_table
from sen.store.analytics import DuckDBEngine, _translate
from sen.store.operational import import_runs

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ImportSummary:
    """What one import did, row by row."""

    load_id: str
    kind: str
    source: str
    rows_in: int
    accepted: int
    inserted: int
    duplicates: int
    rejected: int
    quarantine_path: Path | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quarantine_path"] = str(self.quarantine_path) if self.quarantine_path else None
        return out


@dataclass(frozen=True)
class _Counts:
    rows_in: int
    accepted: int
    inserted: int
    duplicates: int
    rejected: int


def new_load_id() -> str:
    """A load id that sorts by time: ``imp-YYYYmmddHHMMSS-xxxxxx``."""
    return f"imp-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def events_mapping(source: str) -> Mapping:
    """The mapping an events file needs when none is given."""
    return parse_mapping({"kind": "events", "source": source})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _now_sql(now: datetime) -> str:
    return f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S.%f}'"


def _stage_events(cur: Any, path: Path, fmt: str, mapping: Mapping, load_id: str,
                  now: datetime) -> None:
    """Read and check an events file, in autocommit (the stage's rowids number the
    records only once committed); the store is written later, in one transaction."""
    if fmt not in ("ndjson", "parquet"):
        raise ImportError_(f"Events files must be NDJSON or Parquet, not {fmt}.",
                           hint="Export the events one JSON object per line (.ndjson).")
    bulk_events.stage_events(cur, path, fmt, source=mapping.source, load_id=load_id,
                             received_at=_now_sql(now))


def _import_events(cur: Any, path: Path, fmt: str) -> _Counts:
    r = bulk_events.load_events(cur, path, fmt)
    cur.execute(bulk_events.fresh_events_sql())
    return _Counts(r.rows_in, r.accepted, r.inserted, r.duplicates, r.rejected)


def _check_rows(cur: Any, path: Path, fmt: str, mapping: Mapping, zone: str) -> None:
    file_columns = stage_table(cur, path, fmt, mapping.options)  # type: ignore[arg-type]
    rows.check_columns(mapping, file_columns, path.name)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _sen_rows AS {rows.checked_rows_sql(mapping, zone)}")


def _import_as_events(cur: Any, mapping: Mapping, load_id: str, now: datetime) -> _Counts:
    received = _now_sql(now)
    if mapping.kind == "orders":
        cur.execute(tabular_events.reject_whole_orders_sql())
        cur.execute(tabular_events.orders_sql(mapping.source, load_id, received))
    else:
        cur.execute(tabular_events.customers_sql(mapping.source, load_id, received,
                                                 has_traits=bool(mapping.traits)))
    bulk_events.store_staged(cur)
    cols = ", ".join(bulk_events.EVENT_COLUMNS)
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE _sen_fresh AS SELECT {cols} FROM _sen_ev
                    WHERE _row NOT IN (SELECT _row FROM _sen_skip)""")
    rows_in, rejected = cur.execute("SELECT count(*), count(_rule) FROM _sen_rows").fetchone()
    inserted = cur.execute("""SELECT coalesce(sum(_rows_n), 0) FROM _sen_ev
                              WHERE _row NOT IN (SELECT _row FROM _sen_skip)""").fetchone()[0]
    accepted = rows_in - rejected
    return _Counts(rows_in, accepted, int(inserted), accepted - int(inserted), rejected)


_REFERENCE = {
    "products": ("sku", ("product_id", "name", "brand", "category", "size", "colour",
                         "list_price")),
    "stores": ("store_code", ("name", "province", "region", "latitude", "longitude",
                              "opened_on")),
}


def _upsert_reference(cur: Any, mapping: Mapping, now: datetime) -> _Counts:
    """Products and stores: the last row of a key in the file wins; a row equal to
    what is stored is a duplicate; new or changed rows are upserted."""
    table = mapping.kind
    key, cols = _REFERENCE[table]
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM n.{c}" for c in cols)
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE _sen_ref AS
        SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _row DESC) AS _n
                       FROM _sen_rows WHERE _rule IS NULL) AS n
        WHERE _n = 1 AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = n.{key} AND {same})""")
    names = ", ".join((key, *cols))
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*cols, "updated_at"))
    cur.execute(f"""INSERT INTO {table} ({names}, updated_at)
        SELECT {names}, {_now_sql(now)} FROM _sen_ref
        ON CONFLICT ({key}) DO UPDATE SET {updates}""")
    rows_in, rejected = cur.execute("SELECT count(*), count(_rule) FROM _sen_rows").fetchone()
    inserted = cur.execute("SELECT count(*) FROM _sen_ref").fetchone()[0]
    accepted = rows_in - rejected
    return _Counts(rows_in, accepted, inserted, accepted - inserted, rejected)


def _write_quarantine(cur: Any, kind: str, source: str, load_id: str, path: Path,
                      quarantine_dir: Path, now: datetime) -> Path:
    """The rejected rows as CSV (original columns + ``_row``, ``_field``, ``_reason``),
    also kept in the ``quarantine`` table beside the HTTP API's rejects."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    out = quarantine_dir / f"{load_id}-{path.stem}.csv"
    if kind == "events":
        select = ("SELECT _row, _field, _rule, "
                  "coalesce(_field || ': ', '') || _message || ' [' || _rule || ']' AS _reason, "
                  "_payload AS line FROM _sen_rejects")
        payload = "line"
    else:
        cols = [c for c in (r[0] for r in cur.execute(f"DESCRIBE {STAGE}").fetchall())
                if c != "_row"]
        originals = ", ".join(f"s.{quote_ident(c)}" for c in cols)
        select = (f"SELECT s._row, {originals}, r._field, r._rule, r._reason "
                  f"FROM {STAGE} s JOIN _sen_rows r USING (_row) WHERE r._rule IS NOT NULL")
        pairs = ", ".join(f"{sql_str(c)}, {quote_ident(c)}" for c in cols)
        payload = f"CAST(json_object({pairs}) AS VARCHAR)"
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _sen_q AS {select}")
    cur.execute(f"""INSERT INTO quarantine
        SELECT {_now_sql(now)}, {sql_str(source)}, {sql_str(load_id)}, _row, _field, _reason,
               {payload} FROM _sen_q""")
    cur.execute(f"COPY (SELECT * EXCLUDE (_rule) FROM _sen_q ORDER BY _row) "
                f"TO {sql_str(str(out))} (FORMAT csv, HEADER true)")
    return out


def _run(cur: Any, path: Path, fmt: str, mapping: Mapping, load_id: str, zone: str,
         now: datetime, progress: Progress) -> _Counts:
    if mapping.kind == "events":
        progress("storing events")
        counts = _import_events(cur, path, fmt)
    else:
        progress("reading and checking rows")
        _check_rows(cur, path, fmt, mapping, zone)
        progress("storing")
        if mapping.kind in _REFERENCE:
            return _upsert_reference(cur, mapping, now)
        counts = _import_as_events(cur, mapping, load_id, now)
    progress("updating orders and customers")
    apply_new_events(cur, "_sen_fresh")
    return counts


def _record_run(ops: sa.Engine | None, values: dict[str, Any], *, insert: bool) -> None:
    if ops is None:
        return
    with ops.begin() as con:
        if insert:
            con.execute(import_runs.insert().values(**values))
        else:
            run_id = values.pop("id")
            con.execute(import_runs.update().where(import_runs.c.id == run_id).values(**values))


def _cleanup(cur: Any) -> None:
    for t in ("_sen_src", "_sen_rows", "_sen_ev", bulk_events.STAGE, "_sen_skip", "_sen_fresh",
              "_sen_rejects", "_sen_ref", "_sen_q"):
        with contextlib.suppress(duckdb.Error):
            cur.execute(f"DROP TABLE IF EXISTS {t}")


def _transaction(cur: Any, path: Path, fmt: str, mapping: Mapping, load_id: str, zone: str,
                 now: datetime, quarantine_dir: Path,
                 progress: Progress) -> tuple[_Counts, Path | None]:
    """Every write of one import (events, projections, quarantine): all or nothing."""
    cur.execute("BEGIN TRANSACTION")
    try:
        counts = _run(cur, path, fmt, mapping, load_id, zone, now, progress)
        quarantine = None
        if counts.rejected:
            progress("writing rejected rows")
            quarantine = _write_quarantine(cur, mapping.kind, mapping.source, load_id,
                                           path, quarantine_dir, now)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return counts, quarantine


def import_file(engine: DuckDBEngine, path: Path, mapping: Mapping | Path, *,
                quarantine_dir: Path, ops: sa.Engine | None = None,
                load_id: str | None = None, progress: Progress | None = None,
                timezone: str = "Asia/Ho_Chi_Minh") -> ImportSummary:
    """Import ``path`` as ``mapping`` says, in one analytical-store transaction.

    ``timezone`` reads zone-less times when the mapping names none (pass the
    settings' timezone). ``progress`` is called with the name of each stage.
    Raises :class:`ImportError_` when the file cannot be imported at all.
    """
    started = time.perf_counter()
    path = Path(path)
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    fmt = format_of(path, mapping)
    load_id = load_id or new_load_id()
    now = datetime.now(UTC).replace(tzinfo=None)
    report = progress or (lambda _stage: None)
    _record_run(ops, {
        "id": load_id, "kind": mapping.kind, "source": mapping.source, "file_name": path.name,
        "file_sha256": _sha256(path) if ops is not None and path.is_file() else "",
        "format": fmt, "status": "running", "started_at": now}, insert=True)
    cur = engine.cursor()
    try:
        try:
            if mapping.kind == "events":
                report("reading and checking events")
                _stage_events(cur, path, fmt, mapping, load_id, now)
            counts, quarantine = _transaction(cur, path, fmt, mapping, load_id,
                                              mapping.timezone or timezone, now,
                                              quarantine_dir, report)
        finally:
            _cleanup(cur)
    except duckdb.Error as exc:
        _record_run(ops, {"id": load_id, "status": "failed",
                          "finished_at": datetime.now(UTC).replace(tzinfo=None)}, insert=False)
        raise _translate(exc, None) from exc
    except SenError:
        _record_run(ops, {"id": load_id, "status": "failed",
                          "finished_at": datetime.now(UTC).replace(tzinfo=None)}, insert=False)
        raise
    summary = ImportSummary(load_id, mapping.kind, mapping.source, counts.rows_in,
                            counts.accepted, counts.inserted, counts.duplicates, counts.rejected,
                            quarantine, round(time.perf_counter() - started, 3))
    _record_run(ops, {
        "id": load_id, "status": "done", "rows_in": summary.rows_in,
        "accepted": summary.accepted, "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "quarantine_path": str(quarantine) if quarantine else None,
        "finished_at": datetime.now(UTC).replace(tzinfo=None)}, insert=False)
    return summary


__all__ = ["ImportSummary", "StoreError", "events_mapping", "import_file", "new_load_id"]
