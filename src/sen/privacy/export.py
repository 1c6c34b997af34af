"""A customer's data on request (decree 13/2023): one document, or a zip a clerk opens.

:func:`export` gathers every section (:mod:`sen.privacy.export_read`) and records
the request. :meth:`Export.to_json` is one JSON document; :meth:`Export.to_zip`
holds the same document and one CSV per section, UTF-8 with a byte-order mark
so that Excel shows Vietnamese text as it is. Times are UTC.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.errors import NotFoundError
from sen.privacy import export_read, ledger, ops_rows
from sen.privacy.ops_rows import Scope
from sen.privacy.subject import find, with_endpoints
from sen.store.analytics import DuckDBEngine

FORMAT = "sen.personal-data/1"
_JSON_TEXT = {"events": ("properties", "traits", "context", "extra"), "consents": ("proof",)}
_FORMULA = ("=", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    """Everything held about one customer, by section (each a list of rows)."""

    requested: str
    profile_id: str
    exported_at: datetime
    sections: dict[str, list[dict[str, Any]]]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.sections.items()}

    def document(self) -> dict[str, Any]:
        return {"format": FORMAT, "profile_id": self.profile_id, "requested": self.requested,
                "exported_at": self.exported_at, "sections": self.sections}

    def to_json(self) -> bytes:
        return orjson.dumps(self.document(), default=str,
                            option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC)

    def to_zip(self) -> bytes:
        """The JSON document and ``<section>.csv`` for every section."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("personal-data.json", self.to_json())
            for name, rows in self.sections.items():
                z.writestr(f"{name}.csv", to_csv(rows))
        return buf.getvalue()


def cell(value: Any) -> str:
    """One CSV cell: JSON for nested values, ISO times; text that a spreadsheet would
    run as a formula (``=…``, ``@…``, ``+``/``-`` not followed by a number) gets a
    leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(value, default=str).decode()
    text = str(value)
    if text.startswith(_FORMULA) or (
            text[:1] in "+-" and not text[1:].replace(" ", "").replace(".", "").isdigit()):
        return "'" + text
    return text


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """Rows as CSV, UTF-8 with a byte-order mark; columns in order of first appearance."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(columns))
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _parse_json_text(sections: dict[str, list[dict[str, Any]]]) -> None:
    for name, columns in _JSON_TEXT.items():
        for row in sections.get(name, []):
            for col in columns:
                if isinstance(row.get(col), str):
                    row[col] = orjson.loads(row[col])


def export(engine: DuckDBEngine, ops: sa.Engine, profile_id: str, *, actor: str | None = None,
           now: datetime | None = None) -> Export:
    """Everything Sen holds about the customer ``profile_id`` names (a merged-away id is
    followed), with the request recorded in ``privacy_requests``.

    Reads only: it runs on the caller's thread, in a read transaction of its own.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    erased = ledger.erased_at(ops, profile_id)
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        subject = find(cur, profile_id, follow=erased is None)
        if subject is None:
            hint = (f"It was erased on {erased:%Y-%m-%d}; nothing is left to export."
                    if erased else "Look the customer up by phone, email or name.")
            raise NotFoundError(f"There is no profile {profile_id!r}.", hint=hint)
        with ops.connect() as con:
            subject = with_endpoints(cur, subject,
                                     ops_rows.endpoints_of(con, subject.records))
        sections = export_read.analytics_sections(cur, subject)
    finally:
        cur.execute("ROLLBACK")
    with ops.begin() as con:
        sections |= export_read.ops_sections(con, Scope.of(subject))
        _parse_json_text(sections)
        result = Export(profile_id, subject.profile_id, now, sections)
        ledger.write(con, kind=ledger.EXPORT, profile_id=subject.profile_id,
                     records=subject.records,
                     summary={"requested": profile_id, "sections": result.counts()},
                     actor=actor, now=now)
    return result
