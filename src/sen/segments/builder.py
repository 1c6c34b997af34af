"""A small Python builder for rules, for notebooks and tests::

    from sen.segments.builder import all_of, message, not_, order, trait

    lapsed_vela_south = all_of(
        trait("days_since_last_purchase") >= 90,
        trait("favourite_brand") == "Vela Saigon",
        trait("region").isin(["South"]),
        not_(message("received", campaign="C1")),
        not_(order("completed", within_days=7)),
    )

Each call returns the same pydantic nodes :func:`sen.segments.rules.parse`
makes, so a built rule dumps to the JSON a marketer would have written.
"""

from __future__ import annotations

from typing import Any

from sen.segments import rules
from sen.segments.rules import Rule


class trait:  # noqa: N801 - reads as a function in rules: trait("age") >= 30
    """A trait to compare: ``trait("age") >= 30``, ``trait("region").isin([...])``."""

    def __init__(self, name: str, *, period: str | None = None) -> None:
        self.name, self.period = name, period

    def _node(self, op: str, value: Any = None) -> rules.TraitCondition:
        data = {"trait": self.name, "op": op, "value": value}
        if self.period is not None:
            data["period"] = self.period
        return rules.parse(data)

    def __eq__(self, value: object) -> rules.TraitCondition:  # type: ignore[override]
        return self._node("=", value)

    def __ne__(self, value: object) -> rules.TraitCondition:  # type: ignore[override]
        return self._node("!=", value)

    def __lt__(self, value: Any) -> rules.TraitCondition:
        return self._node("<", value)

    def __le__(self, value: Any) -> rules.TraitCondition:
        return self._node("<=", value)

    def __gt__(self, value: Any) -> rules.TraitCondition:
        return self._node(">", value)

    def __ge__(self, value: Any) -> rules.TraitCondition:
        return self._node(">=", value)

    __hash__ = None  # type: ignore[assignment]

    def between(self, low: Any, high: Any) -> rules.TraitCondition:
        return self._node("between", [low, high])

    def isin(self, values: list[Any]) -> rules.TraitCondition:
        return self._node("in", list(values))

    def notin(self, values: list[Any]) -> rules.TraitCondition:
        return self._node("not_in", list(values))

    def contains(self, text: str) -> rules.TraitCondition:
        return self._node("contains", text)

    def startswith(self, text: str) -> rules.TraitCondition:
        return self._node("starts_with", text)

    def is_set(self) -> rules.TraitCondition:
        return self._node("is_set")

    def is_not_set(self) -> rules.TraitCondition:
        return self._node("is_not_set")

    def within_days(self, days: int) -> rules.TraitCondition:
        return self._node("within_days", days)

    def more_than_days_ago(self, days: int) -> rules.TraitCondition:
        return self._node("more_than_days_ago", days)

    def top_percent(self, percent: float) -> rules.TraitCondition:
        """The customers in the top ``percent`` % by this trait (``clv_12m`` for a
        lookalike seed of the most valuable)."""
        return self._node("top_percent", percent)


def event(name: str, **options: Any) -> rules.EventCondition:
    """``event("Product Viewed", within_days=7, where=[...], aggregate={...})``."""
    return rules.parse({"event": name, **options})


def order(status: str = "completed", **options: Any) -> rules.OrderCondition:
    """``order("completed", within_days=90, where=[{"field": "brand", "value": "Mira"}])``."""
    return rules.parse({"order": status, **options})


def message(kind: str, **options: Any) -> rules.MessageCondition:
    """``message("clicked", campaign="C1", within_days=7)``."""
    return rules.parse({"message": kind, **options})


def segment(name: str, *, member: bool = True) -> rules.SegmentCondition:
    return rules.parse({"segment": name, "member": member})


def all_of(*parts: Rule) -> rules.AllOf:
    return rules.AllOf(all=parts)


def any_of(*parts: Rule) -> rules.AnyOf:
    return rules.AnyOf(any=parts)


def not_(part: Rule) -> rules.Not:
    return rules.Not(not_=part)
