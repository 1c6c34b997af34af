"""The segment rule language: a tree of and / or / not over conditions.

Written as JSON or YAML::

    all:
      - {trait: days_since_last_purchase, op: ">=", value: 90}
      - {trait: favourite_brand, op: "=", value: Vela Saigon}
      - {trait: region, op: in, value: [South]}
      - not: {message: received, campaign: C1}
      - not: {order: completed, within_days: 7}

Conditions:

* ``trait``: a built-in trait (``sen.traits.fields``), a user-defined one, or
  ``spend_in_period`` with ``period: "2025"`` / ``"2025-03"``;
* ``event``: did (or, with ``did: false``, did not) do an event, with
  property filters, a time window, an aggregate of a property compared to a
  value, or when its first or last occurrence was;
* ``order``: did (or did not) place an order of a status (``completed``,
  ``refunded``, ``cancelled`` or ``any``), with filters on order fields
  (channel, store, total, coupon…) and line-item fields (brand, category,
  size, price…), a time window, an aggregate (count of orders, sum / avg /
  min / max of a field) compared to a value, or when the first or last such
  order was;
* ``segment``: membership of another saved segment;
* ``message``: received / delivered / opened / clicked / converted, in a
  campaign, a journey, a channel or any, within a window.

Parsing is strict (pydantic); a mistake names the path of the bad node
(``all[1].not.value``) and says what to write instead.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_validator,
)
from pydantic import ValidationError as PydanticError

from sen.errors import ValidationError

Op = Literal["=", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "contains",
             "starts_with", "is_set", "is_not_set", "within_days", "more_than_days_ago",
             "top_percent"]
Scalar = str | int | float | bool | date
Value = Scalar | list[Scalar] | None
NO_VALUE_OPS = frozenset({"is_set", "is_not_set"})
LIST_OPS = frozenset({"in", "not_in"})
DAY_OPS = frozenset({"within_days", "more_than_days_ago"})
# Ranks customers by a trait: "the top 5% by CLV" (ties are in or out together).
RANK_OPS = frozenset({"top_percent"})


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_value(op: str, value: Value) -> None:
    if op in NO_VALUE_OPS:
        if value is not None:
            raise ValueError(f"'{op}' takes no value; remove value")
        return
    if value is None:
        raise ValueError(f"'{op}' needs a value")
    if op in LIST_OPS and (not isinstance(value, list) or not value):
        raise ValueError(f"'{op}' needs a non-empty list of values, e.g. [South, Central]")
    if op == "between" and (not isinstance(value, list) or len(value) != 2):
        raise ValueError("'between' needs [low, high]")
    if op in DAY_OPS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"'{op}' needs a whole number of days, e.g. 30")
    if op in RANK_OPS and (isinstance(value, bool) or not isinstance(value, int | float)
                           or not 0 < value <= 100):
        raise ValueError(f"'{op}' needs a percentage above 0 and at most 100, e.g. 5")
    if op not in LIST_OPS | {"between"} and isinstance(value, list):
        raise ValueError(f"'{op}' compares with one value; use 'in' for a list")


class Comparison(_Node):
    """``op`` and ``value``, shared by traits, property filters and aggregates."""

    op: Op = "="
    value: Value = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Comparison:
        _check_value(self.op, self.value)
        return self


class TraitCondition(Comparison):
    trait: str = Field(min_length=1, max_length=100)
    period: str | None = Field(None, pattern=r"^\d{4}(-\d{2})?$",
                               description="for spend_in_period: 2025 or 2025-03")


def _not_ranked(op: str) -> None:
    if op in RANK_OPS:
        raise ValueError(f"'{op}' ranks customers by a trait; use it in a trait condition")


class PropertyFilter(Comparison):
    """A condition on an event property (``brand``, ``product.category``)."""

    property: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

    @model_validator(mode="after")
    def _per_event(self) -> PropertyFilter:
        _not_ranked(self.op)
        return self


def _check_aggregate(fn: str, target: str | None, name: str, example: str, op: str) -> None:
    if fn != "count" and target is None:
        raise ValueError(f"'{fn}' needs a {name}, e.g. {name}: {example}")
    if op in DAY_OPS | LIST_OPS | NO_VALUE_OPS | RANK_OPS | {"contains", "starts_with"}:
        raise ValueError(f"an aggregate is compared with =, !=, <, <=, >, >= or between, "
                         f"not '{op}'")


class Aggregate(Comparison):
    """count / sum / avg / min / max of a property over the matching events."""

    fn: Literal["count", "sum", "avg", "min", "max"] = "count"
    property: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
    op: Op = ">="
    value: Value = 1

    @model_validator(mode="after")
    def _property_when_needed(self) -> Aggregate:
        _check_aggregate(self.fn, self.property, "property", "revenue", self.op)
        return self


class Window(_Node):
    """When: the last N days, between two dates, or since a date (UTC days)."""

    within_days: int | None = Field(None, ge=1, le=3650)
    between: tuple[date, date] | None = None
    since: date | None = None

    @model_validator(mode="after")
    def _one_window(self) -> Window:
        given = [n for n in ("within_days", "between", "since") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of within_days, between or since, not {given}")
        if self.between is not None and self.between[0] > self.between[1]:
            raise ValueError("between needs [earlier, later]")
        return self


class EventCondition(Window):
    event: str = Field(min_length=1, max_length=200)
    did: bool = True
    where: tuple[PropertyFilter, ...] = ()
    aggregate: Aggregate | None = None
    occurrence: Literal["first", "last"] | None = Field(
        None, description="the window applies to her first (or last) such event ever")

    @model_validator(mode="after")
    def _sensible(self) -> EventCondition:
        _check_occurrence(self)
        return self


def _check_occurrence(c: EventCondition | OrderCondition) -> None:
    if c.occurrence is not None and c.aggregate is not None:
        raise ValueError("occurrence and aggregate do not combine; use one")
    if c.occurrence is not None and not (c.within_days or c.between or c.since):
        raise ValueError("occurrence needs a window: within_days, between or since")


# Order conditions read ``profile_orders`` and ``profile_order_lines`` (written by
# every trait run): the fields a filter or an aggregate may name, per table.
ORDER_FIELDS = ("channel", "store", "source", "total", "subtotal", "discount", "shipping",
                "coupon", "item_count")
LINE_FIELDS = ("brand", "category", "size", "colour", "sku", "product_id", "product_name",
               "quantity", "price", "amount")
NUMERIC_ORDER_FIELDS = ("total", "subtotal", "discount", "shipping", "item_count",
                        "quantity", "price", "amount")
OrderField = Literal[ORDER_FIELDS + LINE_FIELDS]  # type: ignore[valid-type]
NumericOrderField = Literal[NUMERIC_ORDER_FIELDS]  # type: ignore[valid-type]


class OrderFilter(Comparison):
    """A condition on an order field (``channel``, ``total``) or a line-item field
    (``brand``, ``price``): an order matches when one of its lines meets every
    line-item filter."""

    field: OrderField

    @model_validator(mode="after")
    def _per_order(self) -> OrderFilter:
        _not_ranked(self.op)
        return self


class OrderAggregate(Comparison):
    """count of the matching orders, or sum / avg / min / max of a numeric field
    (an order field over the orders, a line-item field over their matching lines)."""

    fn: Literal["count", "sum", "avg", "min", "max"] = "count"
    field: NumericOrderField | None = None
    op: Op = ">="
    value: Value = 1

    @model_validator(mode="after")
    def _field_when_needed(self) -> OrderAggregate:
        _check_aggregate(self.fn, self.field, "field", "total", self.op)
        return self


class OrderCondition(Window):
    order: Literal["completed", "refunded", "cancelled", "any"] = Field(
        description="the orders' status; any counts every order placed")
    did: bool = True
    where: tuple[OrderFilter, ...] = ()
    aggregate: OrderAggregate | None = None
    occurrence: Literal["first", "last"] | None = Field(
        None, description="the window applies to her first (or last) such order ever")

    @model_validator(mode="after")
    def _sensible(self) -> OrderCondition:
        _check_occurrence(self)
        return self


class SegmentCondition(_Node):
    segment: str = Field(min_length=1, max_length=200)
    member: bool = True


MESSAGE_EVENTS = {"received": "Message Sent", "delivered": "Message Delivered",
                  "opened": "Message Opened", "clicked": "Message Clicked",
                  "converted": "Message Converted"}


MESSAGE_CHANNELS = ("sms", "zalo", "email", "push", "webhook")
MessageChannel = Literal[MESSAGE_CHANNELS]  # type: ignore[valid-type]


class MessageCondition(Window):
    message: Literal["received", "delivered", "opened", "clicked", "converted"]
    did: bool = True
    campaign: str | None = None
    journey: str | None = None
    channel: MessageChannel | None = None


class AllOf(_Node):
    all: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Node):
    any: tuple[Rule, ...] = Field(min_length=1)


class Not(_Node):
    not_: Rule = Field(alias="not")


def _kind(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        return type(data).__name__
    if isinstance(data, dict):
        for key, name in (("all", "AllOf"), ("any", "AnyOf"), ("not", "Not"),
                          ("trait", "TraitCondition"), ("event", "EventCondition"),
                          ("order", "OrderCondition"), ("segment", "SegmentCondition"),
                          ("message", "MessageCondition")):
            if key in data:
                return name
    return None


Rule = Annotated[
    Annotated[AllOf, Tag("AllOf")] | Annotated[AnyOf, Tag("AnyOf")] | Annotated[Not, Tag("Not")]
    | Annotated[TraitCondition, Tag("TraitCondition")]
    | Annotated[EventCondition, Tag("EventCondition")]
    | Annotated[OrderCondition, Tag("OrderCondition")]
    | Annotated[SegmentCondition, Tag("SegmentCondition")]
    | Annotated[MessageCondition, Tag("MessageCondition")],
    Discriminator(_kind, custom_error_type="rule_kind",
                  custom_error_message="a rule is one of all, any, not, trait, event, "
                  "order, segment or message"),
]
for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()
_RULE: TypeAdapter[Any] = TypeAdapter(Rule)


_TAGS = frozenset({"AllOf", "AnyOf", "Not", "TraitCondition", "EventCondition",
                   "OrderCondition", "SegmentCondition", "MessageCondition"})


def _path(loc: tuple[Any, ...]) -> str:
    """``all[1].not.value`` from pydantic's location (union tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TAGS:
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(rule)"


def parse(data: Any) -> Rule:
    """A rule tree from JSON-like data; errors name the bad node's path and the fix."""
    try:
        return _RULE.validate_python(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = _path(tuple(first["loc"]))
        message = first["msg"].removeprefix("Value error, ")
        raise ValidationError(f"Rule {where}: {message}.", field=where,
                              rule=first["type"]) from exc


def parse_yaml(text: str) -> Rule:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"The rule is not valid YAML: {exc}") from exc
    return parse(data)


def load(path: Path) -> Rule:
    """A rule from a .json, .yaml or .yml file."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def dump(rule: Rule) -> dict[str, Any]:
    """The rule as JSON-ready data (``not`` spelt as written), defaults left out."""
    return _RULE.dump_python(rule, mode="json", by_alias=True, exclude_defaults=True)


def nodes(rule: Rule) -> list[tuple[str, Rule]]:
    """Every node with its path, parents before children (the preview counts each)."""
    out: list[tuple[str, Rule]] = []

    def walk(node: Rule, path: str) -> None:
        out.append((path, node))
        if isinstance(node, AllOf | AnyOf):
            key = "all" if isinstance(node, AllOf) else "any"
            for i, child in enumerate(node.all if isinstance(node, AllOf) else node.any):
                walk(child, f"{path}.{key}[{i}]" if path else f"{key}[{i}]")
        elif isinstance(node, Not):
            walk(node.not_, f"{path}.not" if path else "not")

    walk(rule, "")
    return out
