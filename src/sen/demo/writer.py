"""All file I/O of the generator: data files, mapping files, ground truth, manifest.

Everything written is byte-for-byte reproducible from the seed: CSV and
Parquet carry no timestamps, and the Excel workbook's zip entries and document
properties are pinned to a fixed date.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml
from openpyxl import Workbook

_FIXED = datetime(2020, 1, 1)


def write_csv(path: Path, table: pa.Table) -> None:
    """UTF-8 CSV with a header, quoting only where needed, as spreadsheets export."""
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    pacsv.write_csv(table, str(path), write_options=options)


def write_xlsx(path: Path, table: pa.Table, sheet: str) -> None:
    """A one-sheet workbook (small tables only), with reproducible bytes."""
    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = _FIXED
    ws = wb.create_sheet(sheet)
    ws.append(table.column_names)
    for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    _pin_zip_dates(buffer.getvalue(), path)


def _pin_zip_dates(data: bytes, path: Path) -> None:
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _pin_core_dates(body)
            pinned = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            pinned.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(pinned, body)


def _pin_core_dates(body: bytes) -> bytes:
    return re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2020-01-01T00:00:00Z", body)


def write_parquet(path: Path, table: pa.Table) -> None:
    pq.write_table(table, str(path), compression="zstd")


def write_lines(path: Path, chunks: Iterable[pa.Array]) -> int:
    """Concatenate string arrays (each element one newline-terminated line) into a file."""
    count = 0
    with open(path, "wb") as fh:
        for chunk in chunks:
            chunk = chunk.cast(pa.large_string()) if chunk.type != pa.large_string() else chunk
            offsets = chunk.buffers()[1]
            data = chunk.buffers()[2]
            off = np.frombuffer(offsets, dtype=np.int64)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ]
            fh.write(memoryview(data)[int(off[0]) : int(off[-1])])
            count += len(chunk)
    return count


def write_mapping(path: Path, mapping: dict[str, Any]) -> None:
    """A ``*.mapping.yaml`` in the importer's format."""
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
