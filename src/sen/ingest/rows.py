"""Tabular rows → checked, typed Sen fields, as SQL over the staging table.

Functions here only *build* SQL from a :class:`Mapping`; the importer runs it.
Each kind gets one ``SELECT`` over ``_sen_src`` that yields ``_row``, the
typed fields and a rejection (``_field``, ``_rule``, ``_reason``) that is NULL
for a good row, so a million-row file is checked in one vectorised pass.

Rules (a rejected row names its row number, the field and the rule):
required field missing; date or time that cannot be read; money that is not a
whole, non-negative number of VND (``150000``, ``150.000`` and ``150,000 đ``
are read as 150000); quantity that is not a whole number above 0; unknown
channel or status; coordinates that are not numbers. A badly shaped email is
kept: identity normalisation decides about it later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sen.errors import ImportError_
from sen.ingest.mapping import REQUIRED, Mapping
from sen.ingest.readers import STAGE, quote_ident, sql_str

CHANNELS = ("store", "web", "app", "marketplace")
STATUSES = ("completed", "refunded", "cancelled")
DATETIME_FIELDS = frozenset({"ordered_at", "created_at"})
DATE_FIELDS = frozenset({"birth_date", "opened_on"})
MONEY_FIELDS = frozenset({"shipping", "order_discount", "total", "unit_price",
                          "line_discount", "list_price"})
NUMBER_FIELDS = frozenset({"latitude", "longitude"})


@dataclass(frozen=True)
class Check:
    """One rule: when ``broken`` (SQL) holds, the row is rejected."""

    field: str
    rule: str
    broken: str
    message: str  # SQL expression for the sentence


def raw(mapping: Mapping, field: str) -> str:
    """SQL for the text of ``field``: its column (blank as NULL), else its default."""
    if field in mapping.columns:
        return f"NULLIF(trim({quote_ident(mapping.columns[field])}), '')"
    if field in mapping.defaults and mapping.defaults[field] is not None:
        value = mapping.defaults[field]
        if isinstance(value, bool):
            value = "true" if value else "false"
        return sql_str(str(value))
    return "CAST(NULL AS VARCHAR)"


def _naive(mapping: Mapping, v: str, *, date_only: bool) -> str:
    """SQL parsing text ``v`` to a TIMESTAMP as written (no zone applied)."""
    fmts = []
    if mapping.date_format:
        fmts.append(mapping.date_format)
        date_part = mapping.date_format.split(" ")[0]
        if date_part != mapping.date_format:
            fmts.append(date_part)
    tries = [f"try_strptime({v}, {sql_str(f)})" for f in fmts]
    tries.append(f"TRY_CAST({v} AS TIMESTAMP)")
    if date_only:
        return f"CAST(coalesce({', '.join(tries)}) AS DATE)"
    return f"coalesce({', '.join(tries)})"


def datetime_utc(mapping: Mapping, v: str, zone: str) -> str:
    """SQL for text ``v`` as naive UTC: zone-less times are read in ``zone``."""
    with_offset = f"regexp_matches({v}, '([zZ]|[+-][0-9]{{2}}:?[0-9]{{2}})$')"
    return (f"CASE WHEN {with_offset} THEN timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) "
            f"ELSE timezone('UTC', timezone({sql_str(zone)}, {_naive(mapping, v, date_only=False)}"
            f")) END")


def money_decimal(v: str) -> str:
    """SQL reading money text as DECIMAL: thousands separators, đ/₫/VND allowed."""
    clean = f"regexp_replace({v}, '\\s|đ|₫|VND|vnd|VNĐ', '', 'g')"
    grouped = f"regexp_full_match({clean}, '-?[0-9]{{1,3}}([.,][0-9]{{3}})+')"
    plain = f"CASE WHEN {grouped} THEN regexp_replace({clean}, '[.,]', '', 'g') ELSE {clean} END"
    return f"TRY_CAST({plain} AS DECIMAL(38, 4))"


def _said(field: str, v: str, text: str) -> str:
    return f"'{field} ' || {sql_str(text)} || ' (got \"' || {v} || '\")'"


def checks(mapping: Mapping, zone: str) -> list[Check]:
    """The rules for every field this mapping fills, in the order they are reported."""
    out: list[Check] = []
    for field in REQUIRED[mapping.kind]:
        out.append(Check(field, "required", f"{raw(mapping, field)} IS NULL",
                         sql_str(f"{field} is required but empty")))
    filled = set(mapping.columns)
    for field in sorted(filled & (DATETIME_FIELDS | DATE_FIELDS)):
        v = raw(mapping, field)
        how = f" with date_format {mapping.date_format}" if mapping.date_format else \
            " (set date_format in the mapping, e.g. \"%d/%m/%Y %H:%M\")"
        parsed = (datetime_utc(mapping, v, zone) if field in DATETIME_FIELDS
                  else _naive(mapping, v, date_only=True))
        out.append(Check(field, "unparseable_date", f"{v} IS NOT NULL AND {parsed} IS NULL",
                         _said(field, v, f"is not a date/time Sen can read{how}")))
    for field in sorted(filled & MONEY_FIELDS):
        v, d = raw(mapping, field), money_decimal(raw(mapping, field))
        out += [
            Check(field, "money_not_number", f"{v} IS NOT NULL AND {d} IS NULL",
                  _said(field, v, "is not an amount of VND")),
            Check(field, "money_negative", f"{d} < 0", _said(field, v, "must not be negative")),
            Check(field, "money_not_whole", f"{d} <> round({d})",
                  _said(field, v, "must be a whole number of VND")),
        ]
    if "quantity" in filled or "quantity" in mapping.defaults:
        v, d = raw(mapping, "quantity"), money_decimal(raw(mapping, "quantity"))
        out.append(Check("quantity", "quantity_not_positive",
                         f"{v} IS NOT NULL AND ({d} IS NULL OR {d} <= 0 OR {d} <> round({d}))",
                         _said("quantity", v, "must be a whole number above 0")))
    for field in sorted(filled & NUMBER_FIELDS):
        v = raw(mapping, field)
        out.append(Check(field, "not_a_number",
                         f"{v} IS NOT NULL AND TRY_CAST({v} AS DOUBLE) IS NULL",
                         _said(field, v, "is not a number")))
    if mapping.kind == "orders":
        for field, allowed in (("channel", CHANNELS), ("status", STATUSES)):
            v = f"lower({raw(mapping, field)})"
            out.append(Check(field, f"unknown_{field}",
                             f"{v} IS NOT NULL AND {v} NOT IN {allowed!r}",
                             _said(field, raw(mapping, field),
                                   f"must be one of {', '.join(allowed)}")))
    return out


def reason_columns(rules: Sequence[Check]) -> str:
    """SQL select items ``_field``, ``_rule``, ``_reason`` (the first broken rule)."""
    if not rules:
        return "CAST(NULL AS VARCHAR) AS _field, CAST(NULL AS VARCHAR) AS _rule, " \
               "CAST(NULL AS VARCHAR) AS _reason"
    field = " ".join(f"WHEN {c.broken} THEN {sql_str(c.field)}" for c in rules)
    rule = " ".join(f"WHEN {c.broken} THEN {sql_str(c.rule)}" for c in rules)
    reason = " ".join(
        f"WHEN {c.broken} THEN 'row ' || _row || ': ' || {c.message} || ' [{c.rule}]'"
        for c in rules)
    return (f"CASE {field} END AS _field, CASE {rule} END AS _rule, "
            f"CASE {reason} END AS _reason")


def typed(mapping: Mapping, field: str, zone: str) -> str:
    """SQL for the typed value of ``field`` (NULL when empty or broken)."""
    v = raw(mapping, field)
    if field in DATETIME_FIELDS:
        return datetime_utc(mapping, v, zone)
    if field in DATE_FIELDS:
        return _naive(mapping, v, date_only=True)
    if field in MONEY_FIELDS:
        return f"TRY_CAST({money_decimal(v)} AS BIGINT)"
    if field == "quantity":
        return f"TRY_CAST({money_decimal(v)} AS INTEGER)"
    if field in NUMBER_FIELDS:
        return f"TRY_CAST({v} AS DOUBLE)"
    if field in ("channel", "status", "marketplace", "gender"):
        return f"lower({v})"
    return v


def check_columns(mapping: Mapping, file_columns: Sequence[str], file_name: str) -> None:
    """Every column the mapping names must be in the file."""
    missing = [(k, c) for k, c in mapping.columns.items() if c not in file_columns]
    missing += [("traits", c) for c in mapping.traits if c not in file_columns]
    if missing:
        key, col = missing[0]
        where = f"columns.{key}" if key != "traits" else "traits"
        raise ImportError_(
            f"{where} names the column {col!r}, which is not in {file_name}; the file has: "
            f"{', '.join(file_columns)}.",
            hint="Correct the column name in the mapping (it must match the header exactly).")


def checked_rows_sql(mapping: Mapping, zone: str) -> str:
    """``SELECT`` of ``_row``, every Sen field typed, and the rejection columns."""
    from sen.ingest.mapping import FIELDS

    fields = ", ".join(f"{typed(mapping, f, zone)} AS {f}" for f in FIELDS[mapping.kind])
    trait_cols = ""
    if mapping.traits:
        pairs = ", ".join(f"{sql_str(c)}, NULLIF(trim({quote_ident(c)}), '')"
                          for c in mapping.traits)
        trait_cols = f", json_object({pairs}) AS _extra_traits"
    return (f"SELECT _row, {fields}{trait_cols}, {reason_columns(checks(mapping, zone))} "
            f"FROM {STAGE}")
