"""From a rule tree to one Ibis expression over the profiles' traits.

Each node becomes a boolean column over ``profile_traits`` (one row per
profile): a trait condition is a predicate on its column; an event, order,
message or segment condition is membership (``isin``) of the profiles a sub-query
finds; ``not`` negates. Every leaf is made two-valued (a missing trait is
false, never NULL), so ``not`` means "everyone else" as a marketer expects.

Values reach SQL only as Ibis literals, typed and escaped by the SQL
generator, never pasted into SQL text; the same expression runs on every
Ibis backend (DuckDB by default, Spark for scale-out).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from sen.errors import ValidationError
from sen.segments import rules
from sen.segments.rules import (
    AllOf,
    AnyOf,
    Comparison,
    EventCondition,
    MessageCondition,
    Not,
    OrderCondition,
    Rule,
    SegmentCondition,
    TraitCondition,
    Window,
)

PERIOD_TRAIT = "spend_in_period"
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


@dataclass
class Context:
    """What a rule is compiled against: the backend's tables and the moment ``as_of``.

    ``custom`` maps each user-defined trait to ``"number"`` or ``"text"`` and
    ``zero_when_missing`` names those a missing value means 0 for (counts,
    sums and distinct counts of nothing).
    """

    backend: Any
    as_of: datetime
    custom: dict[str, str] = field(default_factory=dict)
    zero_when_missing: frozenset[str] = frozenset()
    _tables: dict[str, ir.Table] = field(default_factory=dict)

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            self._tables[name] = self.backend.table(name)
        return self._tables[name]

    @property
    def profiles(self) -> ir.Table:
        return self.table("profile_traits")


def members(rule: Rule, ctx: Context) -> ir.Table:
    """The profiles the rule holds for: one column, ``profile_id``."""
    t = ctx.profiles
    return t.filter(predicate(rule, ctx)).select("profile_id")


def count(rule: Rule, ctx: Context) -> ir.Scalar:
    return members(rule, ctx).count()


def branch_counts(rule: Rule, ctx: Context) -> tuple[list[str], ir.Table]:
    """Each node's own count, in one pass: the paths and a one-row table ``n0, n1, …``."""
    paths, exprs = [], {}
    for i, (path, node) in enumerate(rules.nodes(rule)):
        paths.append(path or "(rule)")
        exprs[f"n{i}"] = predicate(node, ctx).cast("int64").sum()
    return paths, ctx.profiles.aggregate(**exprs)


def predicate(rule: Rule, ctx: Context) -> ir.BooleanValue:
    """The rule as a boolean column of ``profile_traits``."""
    if isinstance(rule, AllOf):
        return _fold(operator.and_, [predicate(r, ctx) for r in rule.all])
    if isinstance(rule, AnyOf):
        return _fold(operator.or_, [predicate(r, ctx) for r in rule.any])
    if isinstance(rule, Not):
        return ~predicate(rule.not_, ctx)
    if isinstance(rule, TraitCondition):
        return _trait(rule, ctx)
    if isinstance(rule, EventCondition):
        return _event(rule, ctx)
    if isinstance(rule, OrderCondition):
        return _order(rule, ctx)
    if isinstance(rule, MessageCondition):
        return _message(rule, ctx)
    if isinstance(rule, SegmentCondition):
        held = ctx.table("segment_members")
        pred = ctx.profiles.profile_id.isin(
            held.filter(held.segment == rule.segment).profile_id)
        return pred if rule.member else ~pred
    raise TypeError(f"not a rule node: {rule!r}")  # pragma: no cover - parse prevents it


def _fold(op: Callable[[Any, Any], Any], parts: Sequence[Any]) -> Any:
    out = parts[0]
    for part in parts[1:]:
        out = op(out, part)
    return out


# -- comparisons --------------------------------------------------------------------------

def _day(value: Any) -> Any:
    """A date value compared with a timestamp column means that day's start."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


def compare(column: ir.Value, c: Comparison, as_of: datetime) -> ir.BooleanValue:
    """``column op value`` (NULL where the column is); see :data:`rules.Op`."""
    op, value = c.op, c.value
    if op == "is_set":
        return column.notnull()
    if op == "is_not_set":
        return column.isnull()
    if op in ("within_days", "more_than_days_ago"):
        days = ibis.interval(days=int(value))
        moment = ibis.literal(as_of)
        if op == "within_days":
            return (column >= moment - days) & (column <= moment + days)
        return column < moment - days
    if op == "between":
        low, high = (_day(v) for v in value)
        return column.between(low, high)
    if op in ("in", "not_in"):
        found = column.isin([_day(v) for v in value])
        return found if op == "in" else ~found
    if op in ("contains", "starts_with"):
        text, needle = column.cast("string").lower(), str(value).lower()
        return text.contains(needle) if op == "contains" else text.startswith(needle)
    return _COMPARE[op](column, _day(value))


def _holds_for_zero(c: Comparison) -> bool:
    """Whether a missing count or sum (0) meets the comparison."""
    v = c.value
    if c.op == "between":
        return float(v[0]) <= 0 <= float(v[1])
    if c.op in _COMPARE and isinstance(v, int | float) and not isinstance(v, bool):
        return bool(_COMPARE[c.op](0, v))
    return False


def typed(c: Comparison, column: ir.Value, name: str) -> Comparison:
    """``c`` with its value(s) checked against the column's type (ISO text read as a
    date for a date column); a mismatch names the trait and what it holds."""
    kind = column.type()
    if c.op in rules.NO_VALUE_OPS:
        return c
    if c.op in rules.DAY_OPS:
        if not kind.is_temporal():
            raise ValidationError(f"'{c.op}' compares dates, and {name} is {kind}.",
                                  field="op")
        return c
    if c.op in ("contains", "starts_with"):
        if not kind.is_string():
            raise ValidationError(f"'{c.op}' searches text, and {name} is {kind}.", field="op")
        return c
    values = c.value if isinstance(c.value, list) else [c.value]
    checked = [_typed_value(v, kind, name) for v in values]
    return c.model_copy(update={"value": checked if isinstance(c.value, list) else checked[0]})


def _typed_value(value: Any, kind: Any, name: str) -> Any:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind.is_boolean() and isinstance(value, bool):
        return value
    if kind.is_numeric() and number:
        return value
    if kind.is_string() and isinstance(value, str):
        return value
    if kind.is_temporal():
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
    raise ValidationError(f"{name} holds {_words(kind)}; {value!r} cannot be compared with it.",
                          field="value")


def _words(kind: Any) -> str:
    if kind.is_numeric():
        return "numbers"
    if kind.is_temporal():
        return "dates (write 2026-01-31)"
    if kind.is_boolean():
        return "true or false"
    return "text"


def _two_valued(pred: ir.BooleanValue) -> ir.BooleanValue:
    return pred.fill_null(False)


# -- traits -------------------------------------------------------------------------------

def _trait(c: TraitCondition, ctx: Context) -> ir.BooleanValue:
    t = ctx.profiles
    if c.trait == PERIOD_TRAIT:
        return _period_spend(c, ctx)
    if c.op in rules.RANK_OPS:
        return _top_percent(c, ctx)
    if c.trait in t.columns:
        column = t[c.trait]
        if column.type().is_array():
            return _two_valued(_list_trait(column, c))
        return _two_valued(compare(column, typed(c, column, c.trait), ctx.as_of))
    if c.trait in ctx.custom:
        return _custom(c, ctx)
    raise ValidationError(f"Unknown trait '{c.trait}': use a built-in trait "
                          "(GET /api/traits/fields) or define it on the traits page.",
                          field="trait")


def _top_percent(c: TraitCondition, ctx: Context) -> ir.BooleanValue:
    """Customers in the top ``value`` % by a numeric trait, among those who have one:
    cumulative distribution from the highest down, so ties are in or out together
    and "top 5%" never holds more than 5% of them."""
    if c.trait in ctx.profiles.columns and c.period is None:
        t, key, column = ctx.profiles, "profile_id", ctx.profiles[c.trait]
    elif ctx.custom.get(c.trait) == "number":
        values = ctx.table("custom_trait_values")
        t = values.filter(values.trait == c.trait)
        key, column = "profile_id", t.value_num
    else:
        raise ValidationError(f"'top_percent' ranks customers by a number trait; {c.trait} is "
                              "not one.", field="trait")
    if not column.type().is_numeric():
        raise ValidationError(f"'top_percent' ranks customers by a number trait, and "
                              f"{c.trait} holds {_words(column.type())}.", field="op")
    # The set is every value at or above a threshold (the cumulative share falls as
    # values rise), so it is a comparison with one number rather than a semi-join.
    name = column.get_name()
    have = t.filter(column.notnull())
    ranked = have.select(name, share=ibis.cume_dist().over(
        ibis.window(order_by=ibis.desc(have[name]))))
    threshold = ranked.filter(ranked.share <= float(c.value) / 100)[name].min().as_scalar()
    if t is ctx.profiles:
        return _two_valued(column >= threshold)
    return ctx.profiles.profile_id.isin(t.filter(column >= threshold)[key])


def _list_trait(column: ir.ArrayValue, c: TraitCondition) -> ir.BooleanValue:
    """Lists (``channels``): contains / in = has any of; not_in = has none of."""
    if c.op in ("is_set", "is_not_set"):
        has = column.length() > 0
        return has if c.op == "is_set" else ~has.fill_null(False)
    wanted = c.value if isinstance(c.value, list) else [c.value]
    if c.op not in ("contains", "=", "in", "not_in"):
        raise ValidationError(f"A list trait takes contains, in, not_in, is_set or "
                              f"is_not_set, not '{c.op}'.", field="op")
    has_any = _fold(operator.or_, [column.contains(str(v)) for v in wanted])
    return ~has_any.fill_null(False) if c.op == "not_in" else has_any


def _custom(c: TraitCondition, ctx: Context) -> ir.BooleanValue:
    values = ctx.table("custom_trait_values")
    mine = values.filter(values.trait == c.trait)
    pid = ctx.profiles.profile_id
    if c.op in ("is_set", "is_not_set"):
        found = pid.isin(mine.profile_id)
        return found if c.op == "is_set" else ~found
    column = mine.value_num if ctx.custom[c.trait] == "number" else mine.value_text
    c = typed(c, column, c.trait)
    pred = pid.isin(mine.filter(compare(column, c, ctx.as_of)).profile_id)
    if c.trait in ctx.zero_when_missing and _holds_for_zero(c):
        pred = pred | ~pid.isin(mine.profile_id)
    return pred


def _period_spend(c: TraitCondition, ctx: Context) -> ir.BooleanValue:
    if c.period is None:
        raise ValidationError("spend_in_period needs a period: 2025 or 2025-03.",
                              field="period")
    periods = ctx.table("profile_trait_periods")
    mine = periods.filter(periods.period == c.period)
    pid = ctx.profiles.profile_id
    c = typed(c, mine.spend, PERIOD_TRAIT)
    pred = pid.isin(mine.filter(compare(mine.spend, c, ctx.as_of)).profile_id)
    if _holds_for_zero(c):
        pred = pred | ~pid.isin(mine.profile_id)
    return pred


# -- events and messages ------------------------------------------------------------------

def _window(ts: ir.TimestampValue, w: Window, as_of: datetime) -> ir.BooleanValue | None:
    if w.within_days is not None:
        return (ts > ibis.literal(as_of) - ibis.interval(days=w.within_days)) & (
            ts <= ibis.literal(as_of))
    if w.between is not None:
        start, end = w.between
        return (ts >= _day(start)) & (ts < _day(end + timedelta(days=1)))
    if w.since is not None:
        return ts >= _day(w.since)
    return ts <= ibis.literal(as_of)


@ibis.udf.scalar.builtin(signature=((dt.json, dt.string), dt.string))
def json_extract_string(value, path):  # noqa: ANN001, ANN201 - the engine's own function
    """A JSON value's text at ``path`` (DuckDB ``->>``, Spark ``get_json_object``)."""


def _property(events: ir.Table, path: str, value: Any) -> ir.Value:
    """A JSON property, read as a number when compared with one, else as text.

    ``path`` passed the rule's identifier pattern, so ``$.a.b`` is well formed.
    """
    text = json_extract_string(events.properties, "$." + path)
    sample = value[0] if isinstance(value, list) and value else value
    numeric = isinstance(sample, int | float) and not isinstance(sample, bool)
    return text.try_cast("float64") if numeric else text


def _event(c: EventCondition, ctx: Context) -> ir.BooleanValue:
    ev = ctx.table("profile_events")
    pid = ctx.profiles.profile_id
    # The name and the window first: the table is sorted by them, so they prune.
    if c.occurrence is not None:
        mine = _where(ev.filter(ev.event == c.event), c, ctx)
        first = mine.group_by("profile_id").aggregate(
            at=mine.timestamp.min() if c.occurrence == "first" else mine.timestamp.max())
        pred = pid.isin(first.filter(_window(first.at, c, ctx.as_of)).profile_id)
    else:
        mine = _where(ev.filter(ev.event == c.event, _window(ev.timestamp, c, ctx.as_of)), c,
                      ctx)
        pred = _aggregate(c, mine, pid, ctx) if c.aggregate is not None else \
            pid.isin(mine.profile_id)
    return pred if c.did else ~pred


def _where(events: ir.Table, c: EventCondition, ctx: Context) -> ir.Table:
    """The condition's property filters, in one filter."""
    if not c.where:
        return events
    return events.filter(*[compare(_property(events, f.property, f.value), f, ctx.as_of)
                           for f in c.where])


def _aggregate(c: EventCondition, rows: ir.Table, pid: ir.StringValue,
               ctx: Context) -> ir.BooleanValue:
    agg = c.aggregate
    if agg.fn == "count":
        value = rows.count()
    else:
        column = _property(rows, agg.property, 0)
        value = getattr(column, "mean" if agg.fn == "avg" else agg.fn)()
    per = rows.group_by("profile_id").aggregate(v=value)
    pred = pid.isin(per.filter(compare(per.v, agg, ctx.as_of)).profile_id)
    if agg.fn in ("count", "sum") and _holds_for_zero(agg):
        pred = pred | ~pid.isin(rows.profile_id)
    return pred


def _message(c: MessageCondition, ctx: Context) -> ir.BooleanValue:
    ev = ctx.table("profile_events")
    conditions = [ev.event == rules.MESSAGE_EVENTS[c.message],
                  _window(ev.timestamp, c, ctx.as_of)]
    for column, wanted in (("campaign_id", c.campaign), ("journey_id", c.journey),
                           ("channel", c.channel)):
        if wanted is not None:
            conditions.append(ev[column] == wanted)
    pred = ctx.profiles.profile_id.isin(ev.filter(*conditions).profile_id)
    return pred if c.did else ~pred


# -- orders -------------------------------------------------------------------------------

def _order(c: OrderCondition, ctx: Context) -> ir.BooleanValue:
    """Orders of the status, in the window, meeting the order filters, with a line
    meeting every line-item filter. Line-item aggregates are over those lines."""
    on_lines = [f for f in c.where if f.field in rules.LINE_FIELDS]
    on_orders = [f for f in c.where if f.field not in rules.LINE_FIELDS]
    line_agg = (c.aggregate is not None and c.aggregate.fn != "count"
                and c.aggregate.field in rules.LINE_FIELDS)
    orders = _order_rows(ctx.table("profile_orders"), c, on_orders, ctx)
    lines, only_orders = None, on_orders
    if on_lines or line_agg:
        table = ctx.table("profile_order_lines")
        # Lines carry their order's channel and store: those filters apply to them directly.
        carried = [f for f in on_orders if f.field in table.columns]
        only_orders = [f for f in on_orders if f.field not in table.columns]
        lines = _order_rows(table, c, on_lines + carried, ctx)
        if only_orders:
            lines = lines.filter(lines.order_id.isin(orders.order_id))
        if on_lines:
            orders = orders.filter(orders.order_id.isin(lines.order_id))
    pid = ctx.profiles.profile_id
    # When the lines alone say who ordered, one table is read.
    found = lines if on_lines and not only_orders else orders
    if c.occurrence is not None:
        when = found.group_by("profile_id").aggregate(
            at=found.ordered_at.min() if c.occurrence == "first" else found.ordered_at.max())
        pred = pid.isin(when.filter(_window(when.at, c, ctx.as_of)).profile_id)
    elif c.aggregate is not None:
        rows = found if c.aggregate.fn == "count" else lines if line_agg else orders
        pred = _order_aggregate(c, rows, pid, ctx, of_lines=rows is lines)
    else:
        pred = pid.isin(found.profile_id)
    return pred if c.did else ~pred


def _order_rows(t: ir.Table, c: OrderCondition, filters: list[rules.OrderFilter],
                ctx: Context) -> ir.Table:
    conditions = [] if c.order == "any" else [t.status == c.order]
    if c.occurrence is None:
        conditions.append(_window(t.ordered_at, c, ctx.as_of))
    for f in filters:
        column = t[f.field]
        conditions.append(compare(column, typed(f, column, f.field), ctx.as_of))
    return t.filter(*conditions) if conditions else t


def _order_aggregate(c: OrderCondition, rows: ir.Table, pid: ir.StringValue,
                     ctx: Context, *, of_lines: bool) -> ir.BooleanValue:
    agg = c.aggregate
    if agg.fn == "count":  # of orders, also when the rows are their lines
        value = rows.order_id.nunique() if of_lines else rows.count()
    else:
        value = getattr(rows[agg.field], "mean" if agg.fn == "avg" else agg.fn)()
    per = rows.group_by("profile_id").aggregate(v=value)
    pred = pid.isin(per.filter(compare(per.v, typed(agg, per.v, agg.fn), ctx.as_of)).profile_id)
    if agg.fn in ("count", "sum") and _holds_for_zero(agg):
        pred = pred | ~pid.isin(rows.profile_id)
    return pred
