"""Readers: a tabular file (CSV, Excel, NDJSON, Parquet) into one staging table.

Every reader produces the same shape, a temp table ``_sen_src`` with ``_row``
(the row number a person sees: for CSV and Excel the header is row 1, so the
first data row is row 2; for NDJSON the line number; for Parquet the record
number from 1) and every column of the file as VARCHAR. Converting and
validating then happens once, in SQL, whatever the format was.
"""

from __future__ import annotations

import codecs
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sen.errors import ImportError_
from sen.ingest.mapping import Format, ReadOptions

STAGE = "_sen_src"
_NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16",
                     "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1"}
_XLSX_CHUNK = 50_000


def quote_ident(name: str) -> str:
    """``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _transcode(path: Path, encoding: str, into: Path) -> Path:
    """Copy a file in an encoding DuckDB cannot read (e.g. cp1258) to UTF-8, streaming."""
    out = into / (path.stem + ".utf8.csv")
    with path.open("r", encoding=encoding, newline="") as src, \
            out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return out


def _csv_source(path: Path, options: ReadOptions, scratch: Path) -> tuple[str, int]:
    enc = codecs.lookup(options.encoding).name
    native = _NATIVE_ENCODINGS.get(enc) or _NATIVE_ENCODINGS.get(options.encoding.lower())
    if native is None:
        path, native = _transcode(path, options.encoding, scratch), "utf-8"
    return (f"read_csv({sql_str(str(path))}, header = true, all_varchar = true, "
            f"delim = {sql_str(options.delimiter)}, encoding = {sql_str(native)}, "
            f"null_padding = true, strict_mode = false)", 2)


def _cell(value: Any) -> str | None:
    """An Excel cell as the text a person sees, so every format converts alike."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _xlsx_batches(path: Path, sheet: str | int | None) -> Iterator[tuple[list[str], list[list]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise ImportError_(f"Cannot open {path.name} as an Excel workbook: {exc}.",
                           hint="Save it as .xlsx or export it as CSV.") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            ws = book.worksheets[sheet]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise ImportError_(f"The workbook has no sheet {sheet!r}; it has "
                               f"{', '.join(book.sheetnames)}.",
                               hint="Set options.sheet in the mapping to one of them.")
        rows = ws.iter_rows(values_only=True)
        header = [_cell(v) or f"column{i + 1}" for i, v in enumerate(next(rows, ()) or ())]
        batch: list[list] = []
        for row in rows:
            cells = [_cell(v) for v in row[: len(header)]]
            if any(c is not None for c in cells):
                batch.append(cells + [None] * (len(header) - len(cells)))
            else:
                batch.append([None] * len(header))
            if len(batch) >= _XLSX_CHUNK:
                yield header, batch
                batch = []
        yield header, batch
    finally:
        book.close()


def _stage_xlsx(cur: duckdb.DuckDBPyConnection, path: Path, sheet: str | int | None) -> None:
    created = False
    for header, batch in _xlsx_batches(path, sheet):
        columns = list(zip(*batch, strict=True)) if batch else [[] for _ in header]
        table = pa.table({h: pa.array(col, type=pa.string()) for h, col in
                          zip(_dedupe(header), columns, strict=True)})
        cur.register("_sen_xlsx", table)
        if not created:
            cur.execute("CREATE OR REPLACE TEMP TABLE _sen_raw AS SELECT * FROM _sen_xlsx")
            created = True
        else:
            cur.execute("INSERT INTO _sen_raw SELECT * FROM _sen_xlsx")
        cur.unregister("_sen_xlsx")
    # Blank rows still count as rows (a person sees them) but carry nothing.
    _number(cur, "_sen_raw", first=2)
    cur.execute(f"DELETE FROM {STAGE} WHERE {_all_null(cur)}")


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _all_null(cur: duckdb.DuckDBPyConnection) -> str:
    cols = [c for c in columns_of(cur) if c != "_row"]
    return " AND ".join(f"{quote_ident(c)} IS NULL" for c in cols) or "false"


def _number(cur: duckdb.DuckDBPyConnection, raw: str, *, first: int) -> None:
    """``raw`` with every column as VARCHAR and ``_row`` from insertion order."""
    cols = [r[0] for r in cur.execute(f"DESCRIBE {raw}").fetchall()]
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in cols)
    # A streaming row_number() follows insertion order; rowid does not inside a
    # transaction (uncommitted rows get provisional ids).
    cur.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS "
                f"SELECT (row_number() OVER () + {first - 1})::BIGINT AS _row, {select} "
                f"FROM {raw}")
    cur.execute(f"DROP TABLE IF EXISTS {raw}")


def columns_of(cur: duckdb.DuckDBPyConnection, table: str = STAGE) -> list[str]:
    """Column names of a staged table."""
    return [r[0] for r in cur.execute(f"DESCRIBE {table}").fetchall()]


def stage_table(cur: duckdb.DuckDBPyConnection, path: Path, fmt: Format,
                options: ReadOptions) -> list[str]:
    """Load a tabular file into ``_sen_src``; return the file's column names."""
    if not path.is_file():
        raise ImportError_(f"There is no file at {path}.", hint="Check the path.")
    with tempfile.TemporaryDirectory(prefix="sen-import-") as scratch:
        try:
            if fmt == "xlsx":
                _stage_xlsx(cur, path, options.sheet)
            else:
                if fmt == "csv":
                    source, first = _csv_source(path, options, Path(scratch))
                elif fmt == "ndjson":
                    source, first = (f"read_json({sql_str(str(path))}, "
                                     "format = 'newline_delimited')", 1)
                else:
                    source, first = f"read_parquet({sql_str(str(path))})", 1
                cur.execute(f"CREATE OR REPLACE TEMP TABLE _sen_raw AS SELECT * FROM {source}")
                _number(cur, "_sen_raw", first=first)
        except duckdb.Error as exc:
            raise ImportError_(f"Cannot read {path.name} as {fmt}: {exc}",
                               hint="Check the format, delimiter and encoding in the "
                               "mapping (options.delimiter, options.encoding).") from None
        except UnicodeDecodeError as exc:
            raise ImportError_(f"Cannot read {path.name} as {options.encoding}: {exc}.",
                               hint="Set options.encoding in the mapping (e.g. utf-16, "
                               "cp1258).") from None
    return [c for c in columns_of(cur) if c != "_row"]
