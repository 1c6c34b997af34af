"""User-defined traits: an aggregate of an order, order-line or event property, no SQL.

A marketer names a trait and says what it adds up, in the UI or in YAML::

    traits:
      - name: ecco_revenue_365d
        label: Doanh số ECCO 365 ngày
        source: order_lines            # orders, order_lines or events
        aggregate: sum                 # count, sum, avg, min, max, distinct, most_frequent
        property: amount
        filters:
          - {property: brand, op: "=", value: ECCO}
        window_days: 365

A definition is data (:class:`TraitDefinition`), checked when it is made, with
errors that name the field and say what to write instead. :func:`compile_sql`
turns it into one SELECT over the trait runner's scope tables; every value a
person typed (event names, property paths, filter values, dates) is a bound
parameter and never part of the SQL text. :func:`compute` is what the runner
calls on every run; :func:`compute_one` and :func:`preview` serve the page and
the API that define traits.

Values are rows of ``custom_trait_values``, one per profile that has a value:
a profile with no matching row has none (read it as 0 for count, sum and
distinct).
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from sen.errors import ConfigError, NotFoundError, StoreError, ValidationError
from sen.identity.extract import record_key
from sen.store.schema import DDL
from sen.traits.scope import prepare_scope

__all__ = [
    "BUILTIN_NAMES", "COLUMNS", "Filter", "Preview", "TraitDefinition", "apply_yaml",
    "compile_sql", "compute", "compute_one", "counts", "definitions", "definitions_on",
    "delete", "get", "load_yaml", "parse", "preview", "save",
]

Source = Literal["orders", "order_lines", "events"]
Aggregate = Literal["count", "sum", "avg", "min", "max", "distinct", "most_frequent"]
Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "starts_with",
             "is_set", "is_not_set"]
Status = Literal["completed", "refunded", "cancelled"]
Scalar = str | int | float | bool
SOURCES: tuple[str, ...] = get_args(Source)
AGGREGATES: tuple[str, ...] = get_args(Aggregate)
OPS: tuple[str, ...] = get_args(Op)
STATUSES: tuple[str, ...] = get_args(Status)

NUMBER, TEXT, TIME, JSON = "number", "text", "time", "json"
# The properties of the runner's scope relations a trait may read, with their kind.
_ORDER = {"order_id": TEXT, "source": TEXT, "channel": TEXT, "store_code": TEXT,
          "ordered_at": TIME, "status": TEXT, "subtotal": NUMBER, "discount": NUMBER,
          "shipping": NUMBER, "total": NUMBER, "coupon": TEXT, "item_count": NUMBER}
_LINE = {"order_id": TEXT, "ordered_at": TIME, "channel": TEXT, "store_code": TEXT,
         "status": TEXT, "product_id": TEXT, "sku": TEXT, "name": TEXT, "brand": TEXT,
         "category": TEXT, "size": TEXT, "colour": TEXT, "quantity": NUMBER,
         "price": NUMBER, "discount": NUMBER, "coupon": TEXT, "amount": NUMBER}
COLUMNS: dict[str, dict[str, str]] = {"orders": _ORDER, "order_lines": _LINE}
_TABLES = {"orders": "_trait_orders", "order_lines": "_trait_lines"}

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
# An event property: names joined by dots (``revenue``, ``product.brand``), at most 8 deep.
PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}")
_ORDERING = ("<", "<=", ">", ">=")
_MAX_TEXT, _MAX_LIST, _MAX_FILTERS = 1000, 1000, 20
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # times as text sort as they happened
_EXAMPLE_PROPERTY = {"orders": "total", "order_lines": "amount", "events": "revenue"}


def _builtin_names() -> tuple[str, ...]:
    """The columns of ``profile_traits``, read from its DDL: names a trait cannot take."""
    ddl = next((d for d in DDL if "TABLE IF NOT EXISTS profile_traits (" in d), "")
    body = ddl[ddl.find("(") + 1:ddl.rfind(")")]
    return tuple(part.split()[0] for part in body.split(",") if part.strip())


BUILTIN_NAMES: tuple[str, ...] = _builtin_names()


class Filter(BaseModel):
    """One condition a row must meet: ``{property: brand, op: "=", value: ECCO}``.

    ``!=`` and ``not_in`` keep rows without the property; ``contains`` and
    ``starts_with`` ignore case; ``is_set`` means present and not empty.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    property: str
    op: Op = "="
    value: Scalar | list[Scalar] | None = None


class TraitDefinition(BaseModel):
    """A user-defined trait. Constructing one checks every rule (see :func:`parse`)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: str
    """Slug used in segments and templates: lower-case letters, digits, ``_``."""
    label: str = ""
    """What people read in the UI; the name if empty."""
    description: str = ""
    source: Source
    event: str | None = None
    """The tracked event's name; required for ``source: events`` only."""
    aggregate: Aggregate
    property: str | None = None
    """An order or line column, or an event property path (``product.brand``)."""
    filters: list[Filter] = Field(default_factory=list)
    window_days: int | None = None
    """Only rows in the last N days before the run's moment: ``(as_of - N days, as_of]``."""
    since: Annotated[date | None, Field(strict=False)] = None
    """First day counted (UTC), inclusive."""
    until: Annotated[date | None, Field(strict=False)] = None
    """Last day counted (UTC), inclusive."""
    statuses: list[Status] | None = None
    """Order statuses counted; ``[completed]`` when not given. Order sources only."""

    @model_validator(mode="after")
    def _rules(self) -> TraitDefinition:
        _check(self)
        return self

    # ``property`` is a field here, so the decorator is spelt in full.
    @builtins.property
    def title(self) -> str:
        return self.label or self.name

    @builtins.property
    def result_type(self) -> str:
        """``number`` or ``text``: the column of ``custom_trait_values`` that holds it."""
        if self.aggregate == "most_frequent":
            return TEXT
        if self.aggregate in ("min", "max"):
            return NUMBER if _value_kind(self) == NUMBER else TEXT
        return NUMBER

    @builtins.property
    def order_statuses(self) -> list[str]:
        return list(self.statuses) if self.statuses is not None else ["completed"]


# -- rules ---------------------------------------------------------------------------------

def _bad(field: str, message: str, rule: str = "invalid") -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field, rule=rule)


def _check(d: TraitDefinition) -> None:
    if not NAME.fullmatch(d.name):
        raise _bad("name", f"{d.name!r} cannot be a trait name: use lower-case letters, "
                   "digits and _, starting with a letter, at most 63 characters "
                   "(e.g. ecco_revenue_365d).", "slug")
    if d.name in BUILTIN_NAMES:
        raise _bad("name", f"{d.name!r} is a built-in trait; choose another name "
                   f"(e.g. {d.name}_custom).", "builtin")
    for field, text, limit in (("label", d.label, 200), ("description", d.description, 2000)):
        if len(text) > limit:
            raise _bad(field, f"is {len(text)} characters long; keep it under {limit}.",
                       "too_long")
    _check_source(d)
    _check_property(d)
    if len(d.filters) > _MAX_FILTERS:
        raise _bad("filters", f"has {len(d.filters)} conditions; at most {_MAX_FILTERS}.",
                   "too_many")
    for i, f in enumerate(d.filters):
        _check_filter(d, f, f"filters[{i}]")
    _check_window(d)


def _check_source(d: TraitDefinition) -> None:
    if d.source == "events":
        if d.event is None or not d.event.strip():
            raise _bad("event", "a trait over events needs the event's name "
                       "(e.g. Product Viewed).", "required")
        if len(d.event) > 200:
            raise _bad("event", "is too long for an event name (at most 200 characters).",
                       "too_long")
        if d.statuses is not None:
            raise _bad("statuses", "only traits over orders or order lines take statuses; "
                       "remove them.", "not_allowed")
    elif d.event is not None:
        raise _bad("event", f"only traits over events take an event; remove it, or set "
                   f"source to events (this one reads {d.source}).", "not_allowed")
    if d.statuses is not None and not d.statuses:
        raise _bad("statuses", "give at least one of completed, refunded, cancelled, or "
                   "leave statuses out to count completed orders only.", "required")


def _check_property(d: TraitDefinition) -> None:
    if d.aggregate == "count":
        if d.property is not None:
            raise _bad("property", "count counts rows and takes no property; remove it, or "
                       "use distinct to count different values of a property.", "not_allowed")
        return
    if d.property is None:
        raise _bad("property", f"{d.aggregate} needs a property to read "
                   f"(e.g. {_EXAMPLE_PROPERTY[d.source]}).", "required")
    kind = _kind(d, d.property, "property")
    if d.aggregate in ("sum", "avg") and kind not in (NUMBER, JSON):
        raise _bad("property", f"{d.aggregate} adds up numbers and {d.property} is "
                   f"{'a time' if kind == TIME else 'text'}; use distinct or most_frequent "
                   "for it, or pick a number property.", "not_a_number")


def _kind(d: TraitDefinition, prop: str, field: str) -> str:
    """What a property holds: number, text, time, or json (an event property)."""
    if d.source == "events":
        if prop == "timestamp":
            return TIME
        if not PATH.fullmatch(prop):
            raise _bad(field, f"{prop!r} is not an event property: write property names "
                       "joined by dots, e.g. revenue or product.brand (letters, digits and "
                       "_ only).", "path")
        return JSON
    columns = COLUMNS[d.source]
    if prop not in columns:
        raise _bad(field, f"{d.source.replace('_', ' ')} have no property {prop!r}; use "
                   f"one of {', '.join(columns)}.", "unknown_property")
    return columns[prop]


def _scalar_kind(value: Scalar) -> str:
    if isinstance(value, bool):
        return "bool"
    return NUMBER if isinstance(value, int | float) else TEXT


def _check_filter(d: TraitDefinition, f: Filter, where: str) -> None:
    kind = _kind(d, f.property, f"{where}.property")
    field = f"{where}.value"
    if kind == TIME:
        raise _bad(f"{where}.property", "times are chosen with window_days or since/until, "
                   "not with a filter.", "time_filter")
    if f.op in ("is_set", "is_not_set"):
        if f.value is not None:
            raise _bad(field, f"{f.op} takes no value; remove it.", "not_allowed")
        return
    if f.value is None:
        raise _bad(field, f"{f.op} needs a value to compare with.", "required")
    if f.op in ("in", "not_in"):
        if not isinstance(f.value, list) or not f.value:
            raise _bad(field, f"{f.op} needs a list of values, e.g. [ECCO, Vascara].",
                       "list")
        if len(f.value) > _MAX_LIST:
            raise _bad(field, f"has {len(f.value)} values; at most {_MAX_LIST}.", "too_many")
        items = f.value
    elif isinstance(f.value, list):
        raise _bad(field, f"{f.op} compares with one value; use in for a list.", "scalar")
    else:
        items = [f.value]
    for item in items:
        if item == "":
            raise _bad(field, "is empty; write a value, or use is_not_set for rows without "
                       f"{f.property}.", "empty")
        if isinstance(item, str) and len(item) > _MAX_TEXT:
            raise _bad(field, f"is too long (at most {_MAX_TEXT} characters).", "too_long")
        if isinstance(item, float) and not math.isfinite(item):
            raise _bad(field, "must be a finite number.", "number")
    kinds = {_scalar_kind(item) for item in items}
    if len(kinds) > 1:
        raise _bad(field, "mixes numbers and text; write them all as numbers or all in "
                   "quotes.", "mixed")
    value_kind = kinds.pop()
    if f.op in _ORDERING and value_kind != NUMBER:
        raise _bad(field, f"{f.op} compares numbers; write a number such as 500000 (no "
                   "dots or commas).", "number")
    if f.op in ("contains", "starts_with") and value_kind != TEXT:
        raise _bad(field, f"{f.op} looks for text; write the value in quotes.", "text")
    if kind == NUMBER and value_kind != NUMBER:
        raise _bad(field, f"{f.property} is a number; compare it with a number such as "
                   "500000.", "number")
    if kind == TEXT and value_kind != TEXT:
        raise _bad(field, f"{f.property} is text; write the value in quotes "
                   f"(\"{items[0]}\").", "text")


def _check_window(d: TraitDefinition) -> None:
    if d.window_days is not None:
        if not 1 <= d.window_days <= 36500:
            raise _bad("window_days", "is a number of days from 1 to 36500; leave it out to "
                       "count all time.", "range")
        if d.since is not None or d.until is not None:
            raise _bad("window_days", "give either window_days or since/until, not both.",
                       "exclusive")
    if d.since is not None and d.until is not None and d.since > d.until:
        raise _bad("until", f"{d.until} is before since ({d.since}); swap them.", "order")


def parse(data: Any, *, where: str = "") -> TraitDefinition:
    """A definition from parsed JSON or YAML; a mistake is a ValidationError naming the
    field (prefixed with ``where``, e.g. ``traits[2].property``) and what to write."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ValidationError(f"{where or 'A trait definition'} must be a mapping of fields "
                              "(name, source, aggregate, ...).", field=where or None,
                              rule="mapping")
    try:
        return TraitDefinition.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        field = prefix + _loc(first["loc"])
        raise ValidationError(_explain(field, first), field=field,
                              rule=first["type"]) from None
    except ValidationError as exc:
        if not where:
            raise
        field = prefix + (exc.field or "")
        raise ValidationError(f"{where}.{exc.message}", field=field.rstrip("."),
                              rule=exc.rule) from None


def _loc(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def _explain(field: str, error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return f"{field} is required."
    if kind == "extra_forbidden":
        fields = Filter.model_fields if "filters[" in field else TraitDefinition.model_fields
        return f"{field} is not a field here; the fields are {', '.join(fields)}."
    return f"{field}: {error['msg']}."


def _value_kind(d: TraitDefinition) -> str:
    """How the aggregated property is read: a number, text or a time."""
    if d.aggregate in ("sum", "avg"):
        return NUMBER
    if d.aggregate in ("distinct", "most_frequent") or d.property is None:
        return TEXT
    kind = _kind(d, d.property, "property")
    return NUMBER if kind == JSON else kind


# -- SQL -------------------------------------------------------------------------------------

Frag = tuple[str, list[Any]]


def _cat(*parts: str | Frag, sep: str = "") -> Frag:
    """Join SQL fragments, keeping each fragment's parameters in textual order."""
    texts: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        else:
            texts.append(part[0])
            params.extend(part[1])
    return sep.join(texts), params


def _expr(d: TraitDefinition, prop: str, want: str) -> Frag:
    """A property of one row read as ``want`` (number, text or time)."""
    if d.source == "events":
        if prop == "timestamp":
            return _time("e.timestamp", want), []
        path = f"$.{prop}"
        if want == NUMBER:
            return "TRY_CAST(json_extract_string(e.properties, ?) AS DOUBLE)", [path]
        return "NULLIF(json_extract_string(e.properties, ?), '')", [path]
    kind = COLUMNS[d.source][prop]  # a whitelisted name, so safe as an identifier
    column = f"t.{prop}"
    if kind == TIME:
        return _time(column, want), []
    if kind == NUMBER:
        return (f"CAST({column} AS DOUBLE)" if want == NUMBER
                else f"CAST({column} AS VARCHAR)"), []
    return f"NULLIF({column}, '')", []


def _time(column: str, want: str) -> str:
    return column if want == TIME else f"strftime({column}, '{_TIME_FORMAT}')"


def _bound(value: Scalar) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"  # how json_extract_string reads a boolean
    return value


def _filter_sql(d: TraitDefinition, f: Filter) -> Frag:
    items = f.value if isinstance(f.value, list) else [f.value]
    numeric = f.value is not None and _scalar_kind(items[0]) == NUMBER
    x = _expr(d, f.property, NUMBER if numeric else TEXT)
    if f.op in ("is_set", "is_not_set"):
        return _cat(x, " IS NOT NULL" if f.op == "is_set" else " IS NULL")
    if f.op in ("in", "not_in"):
        bound = [float(v) if numeric else _bound(v) for v in items]
        test = _cat(("coalesce(list_contains(?, ", [bound]), x, "), false)")
        return _cat("NOT ", test) if f.op == "not_in" else test
    value = [_bound(items[0])]
    if f.op == "contains":
        return _cat("contains(lower(", x, ("), lower(?))", value))
    if f.op == "starts_with":
        return _cat("starts_with(lower(", x, ("), lower(?))", value))
    op = "IS DISTINCT FROM" if f.op == "!=" else f.op
    return _cat(x, (f" {op} ?", value))


def _window(d: TraitDefinition, as_of: datetime, column: str) -> list[Frag]:
    conds: list[Frag] = [(f"{column} <= ?", [as_of])]
    if d.window_days is not None:
        conds.append((f"{column} > ?", [as_of - timedelta(days=d.window_days)]))
    if d.since is not None:
        conds.append((f"{column} >= ?", [datetime.combine(d.since, time())]))
    if d.until is not None:
        conds.append((f"{column} < ?", [datetime.combine(d.until + timedelta(days=1), time())]))
    return conds


def _rows_sql(d: TraitDefinition, as_of: datetime) -> Frag:
    """The rows a trait aggregates: ``(profile_id, ts, v)`` for the runner's scope."""
    value: Frag = ("NULL", []) if d.property is None else _expr(d, d.property, _value_kind(d))
    filters = [_filter_sql(d, f) for f in d.filters]
    if d.source == "events":
        # Only the named event's rows are joined to the scope's records, on a record
        # column: joined on the record's expression, DuckDB plans a cross product.
        events = _cat((f"SELECT {record_key()} AS record, timestamp, properties FROM events "
                       "WHERE type = 'track' AND event = ? AND ", [d.event]),
                      _cat(*_window(d, as_of, "timestamp"), sep=" AND "))
        source = _cat("(", events, ") e JOIN _trait_records r ON r.record = e.record")
        return _cat("SELECT r.profile_id, e.timestamp AS ts, ", value, " AS v FROM ", source,
                    *((" WHERE ", _cat(*filters, sep=" AND ")) if filters else ()))
    conds = [("list_contains(?, t.status)", [d.order_statuses]),
             *_window(d, as_of, "t.ordered_at"), *filters]
    return _cat("SELECT t.profile_id, t.ordered_at AS ts, ", value,
                f" AS v FROM {_TABLES[d.source]} t WHERE ", _cat(*conds, sep=" AND "))


def _aggregate(d: TraitDefinition) -> tuple[str, str]:
    """SQL for (value_num, value_text) over the matched rows of one profile."""
    if d.aggregate == "count":
        return "count(*)", "NULL::VARCHAR"
    if d.aggregate == "distinct":
        return "NULLIF(count(DISTINCT v), 0)", "NULL::VARCHAR"
    if d.aggregate in ("sum", "avg"):
        return f"{d.aggregate}(v)", "NULL::VARCHAR"
    kind = _value_kind(d)
    if kind == NUMBER:
        return f"{d.aggregate}(v)", "NULL::VARCHAR"
    if kind == TIME:
        return "NULL::DOUBLE", f"strftime({d.aggregate}(v), '{_TIME_FORMAT}')"
    return "NULL::DOUBLE", f"{d.aggregate}(v)"


def compile_sql(defn: TraitDefinition, as_of: datetime) -> tuple[str, list[Any]]:
    """One SELECT of ``(profile_id, trait, value_num, value_text)`` for the profiles of
    the runner's scope tables, as of ``as_of``, and its parameters (``?``).

    The SQL text depends only on the definition's shape (source, aggregate, which
    properties and operators); every value is a parameter.
    """
    rows, params = _rows_sql(defn, _utc(as_of))
    if defn.aggregate == "most_frequent":
        # Ties: the value seen most recently, then the first alphabetically.
        sql = f"""
            WITH matched AS ({rows}), tally AS (
                SELECT profile_id, v, count(*) AS n, max(ts) AS last
                FROM matched WHERE v IS NOT NULL GROUP BY profile_id, v)
            SELECT profile_id, ? AS trait, NULL::DOUBLE AS value_num, v AS value_text
            FROM tally
            QUALIFY row_number() OVER (PARTITION BY profile_id
                                       ORDER BY n DESC, last DESC, v) = 1
        """
    else:
        num, text = _aggregate(defn)
        sql = f"""
            WITH matched AS ({rows}), agg AS (
                SELECT profile_id, {num} AS value_num, {text} AS value_text
                FROM matched GROUP BY profile_id)
            SELECT profile_id, ? AS trait, value_num, value_text FROM agg
            WHERE value_num IS NOT NULL OR value_text IS NOT NULL
        """
    return sql, [*params, defn.name]


def _utc(moment: datetime) -> datetime:
    """A moment as the store keeps it: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


# -- running ---------------------------------------------------------------------------------

def _exec(cur: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    try:
        return cur.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"A user-defined trait failed: {exc}", sql=sql) from exc


_INSERT = "INSERT INTO custom_trait_values (profile_id, trait, value_num, value_text) "


def compute(cur: Any, definitions: Iterable[TraitDefinition], as_of: datetime
            ) -> dict[str, int]:
    """Recompute every definition for the profiles of ``_trait_scope`` (the runner's
    scope tables must exist on ``cur``). The scope's old values go first, of every
    trait; a scope of every profile replaces the whole table, which also drops the
    values of profiles merged away since. Returns, per trait, how many profiles of the
    scope have a value. Runs inside the caller's transaction."""
    [(scope, everyone)] = _exec(cur, "SELECT (SELECT count(*) FROM _trait_scope), "
                                     "(SELECT count(*) FROM profiles)")
    if scope >= everyone:
        _exec(cur, "DELETE FROM custom_trait_values")
    else:  # an anti-join with every profile would cost more than a small update
        _exec(cur, "DELETE FROM custom_trait_values "
                   "WHERE profile_id IN (SELECT profile_id FROM _trait_scope)")
    found = {}
    for defn in definitions:
        sql, params = compile_sql(defn, as_of)
        found[defn.name] = int(_exec(cur, _INSERT + sql, params)[0][0])
    return found


def _as_of(cur: Any, as_of: datetime | None) -> datetime:
    """``as_of``, else the moment of the last trait run (so the built-ins and this trait
    see the same days), else now."""
    if as_of is not None:
        return _utc(as_of)
    last = _exec(cur, "SELECT as_of FROM trait_runs ORDER BY started_at DESC LIMIT 1")
    return last[0][0] if last else datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def _transaction(cur: Any, *, commit: bool = True) -> Iterator[None]:
    _exec(cur, "BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        _exec(cur, "ROLLBACK")
        raise
    _exec(cur, "COMMIT" if commit else "ROLLBACK")


def compute_one(engine: Any, name: str, as_of: datetime | None = None) -> int:
    """Compute the stored definition ``name`` for every profile now; how many have a
    value. Writes, so call it where the store's writes happen (the writer thread)."""
    cur = engine.cursor()
    defn = get(engine, name)
    with _transaction(cur):
        at = _as_of(cur, as_of)
        prepare_scope(cur, at)
        _exec(cur, "DELETE FROM custom_trait_values WHERE trait = ?", [name])
        sql, params = compile_sql(defn, at)
        return int(_exec(cur, _INSERT + sql, params)[0][0])


@dataclass(frozen=True)
class Preview:
    """What an unsaved definition would give: profiles with a value and a few of them."""

    profiles: int
    samples: list[tuple[str, float | str]]
    as_of: datetime


def preview(engine: Any, defn: TraitDefinition, as_of: datetime | None = None,
            limit: int = 10) -> Preview:
    """Compute ``defn`` for every profile without storing anything (all in a rolled-back
    transaction on this thread's cursor): the count and the ``limit`` highest values."""
    cur = engine.cursor()
    with _transaction(cur, commit=False):
        at = _as_of(cur, as_of)
        prepare_scope(cur, at)
        sql, params = compile_sql(defn, at)
        rows = _exec(cur, f"""
            WITH computed AS ({sql})
            SELECT count(*) OVER (), profile_id, value_num, value_text FROM computed
            ORDER BY value_num DESC NULLS LAST, value_text, profile_id LIMIT ?
        """, [*params, limit])
    samples = [(pid, num if num is not None else text) for _, pid, num, text in rows]
    return Preview(profiles=rows[0][0] if rows else 0, samples=samples, as_of=at)


# -- storage ---------------------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def save(engine: Any, defn: TraitDefinition, actor: str | None) -> None:
    """Create or replace a definition (its creation time and author are kept). Values
    computed by a different definition of the same name are dropped: they no longer
    mean what the name says."""
    cur = engine.cursor()
    stored = defn.model_dump_json(exclude_defaults=True)
    with _transaction(cur):
        old = _exec(cur, "SELECT definition FROM trait_definitions WHERE name = ?",
                    [defn.name])
        if old and TraitDefinition.model_validate_json(old[0][0]) != defn:
            _exec(cur, "DELETE FROM custom_trait_values WHERE trait = ?", [defn.name])
        now = _now()
        _exec(cur, """
            INSERT INTO trait_definitions VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
                                             updated_at = excluded.updated_at
        """, [defn.name, stored, now, actor, now])


def delete(engine: Any, name: str) -> None:
    """Remove a definition and its values; NotFoundError if there is none."""
    cur = engine.cursor()
    with _transaction(cur):
        if not _exec(cur, "SELECT 1 FROM trait_definitions WHERE name = ?", [name]):
            raise NotFoundError(f"There is no user-defined trait {name!r}.",
                                hint="GET /api/traits/definitions lists them.")
        _exec(cur, "DELETE FROM trait_definitions WHERE name = ?", [name])
        _exec(cur, "DELETE FROM custom_trait_values WHERE trait = ?", [name])


def definitions_on(cur: Any) -> list[TraitDefinition]:
    """Every stored definition, by name, read on ``cur`` (the runner's cursor)."""
    rows = _exec(cur, "SELECT definition FROM trait_definitions ORDER BY name")
    return [TraitDefinition.model_validate_json(r[0]) for r in rows]


def definitions(engine: Any) -> list[TraitDefinition]:
    """Every stored definition, by name."""
    return definitions_on(engine.cursor())


def get(engine: Any, name: str) -> TraitDefinition:
    rows = _exec(engine.cursor(), "SELECT definition FROM trait_definitions WHERE name = ?",
                 [name])
    if not rows:
        raise NotFoundError(f"There is no user-defined trait {name!r}.",
                            hint="GET /api/traits/definitions lists them.")
    return TraitDefinition.model_validate_json(rows[0][0])


def counts(engine: Any) -> dict[str, int]:
    """How many profiles have a value, per user-defined trait."""
    rows = _exec(engine.cursor(), "SELECT trait, count(*) FROM custom_trait_values "
                                  "GROUP BY trait")
    return {trait: int(n) for trait, n in rows}


def load_yaml(path: Path | str) -> list[TraitDefinition]:
    """The definitions listed under ``traits:`` in a YAML file; a mistake names the item
    (``traits[2].property``) and what to write instead."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the trait definitions in {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) != {"traits"} or \
            not isinstance(data["traits"], list):
        raise ValidationError(f"{path} must hold one key, traits, with a list of "
                              "definitions under it.", field="traits", rule="shape")
    found: list[TraitDefinition] = []
    for i, item in enumerate(data["traits"]):
        defn = parse(item, where=f"traits[{i}]")
        if any(d.name == defn.name for d in found):
            raise ValidationError(f"traits[{i}].name: {defn.name!r} is defined twice in "
                                  f"{path}; rename or remove one.", field=f"traits[{i}].name",
                                  rule="unique")
        found.append(defn)
    return found


def apply_yaml(engine: Any, path: Path | str, actor: str | None) -> list[TraitDefinition]:
    """Save every definition of a YAML file (all checked before any is saved). Others
    stay; values appear with the next trait run, or :func:`compute_one`."""
    found = load_yaml(path)
    for defn in found:
        save(engine, defn, actor)
    return found
