"""Parsing rules: every kind of node, YAML, round trips, the builder, and errors that
name the bad node's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sen.errors import ValidationError
from sen.segments import rules
from sen.segments.builder import all_of, any_of, event, message, not_, order, segment, trait

LAPSED = """
all:
  - {trait: days_since_last_purchase, op: ">=", value: 90}
  - {trait: favourite_brand, op: "=", value: Vela Saigon}
  - {trait: region, op: in, value: [South]}
  - not: {message: received, campaign: C1}
  - any:
      - {event: Product Viewed, within_days: 30, where: [{property: brand, op: "=", value: Mira}]}
      - {event: Order Completed, aggregate: {fn: sum, property: revenue, op: ">", value: 1000000},
         between: [2026-01-01, 2026-03-31]}
      - {segment: vip, member: false}
      - {order: completed, within_days: 365, where: [{field: brand, op: "=", value: Mira},
         {field: channel, op: in, value: [web, app]}],
         aggregate: {fn: sum, field: amount, op: ">=", value: 2000000}}
"""


def test_yaml_json_and_the_builder_make_the_same_rule(tmp_path: Path) -> None:
    parsed = rules.parse_yaml(LAPSED)
    built = all_of(
        trait("days_since_last_purchase") >= 90,
        trait("favourite_brand") == "Vela Saigon",
        trait("region").isin(["South"]),
        not_(message("received", campaign="C1")),
        any_of(event("Product Viewed", within_days=30,
                     where=[{"property": "brand", "op": "=", "value": "Mira"}]),
               event("Order Completed", between=["2026-01-01", "2026-03-31"],
                     aggregate={"fn": "sum", "property": "revenue", "op": ">",
                                "value": 1000000}),
               segment("vip", member=False),
               order("completed", within_days=365,
                     where=[{"field": "brand", "op": "=", "value": "Mira"},
                            {"field": "channel", "op": "in", "value": ["web", "app"]}],
                     aggregate={"fn": "sum", "field": "amount", "op": ">=",
                                "value": 2000000})))
    assert built == parsed
    assert rules.parse(rules.dump(parsed)) == parsed  # JSON round trip
    file = tmp_path / "lapsed.yaml"
    file.write_text(LAPSED, encoding="utf-8")
    assert rules.load(file) == parsed
    assert rules.dump(parsed)["all"][3] == {"not": {"message": "received", "campaign": "C1"}}


def test_nodes_lists_every_path_parents_first() -> None:
    paths = [p for p, _ in rules.nodes(rules.parse_yaml(LAPSED))]
    assert paths == ["", "all[0]", "all[1]", "all[2]", "all[3]", "all[3].not", "all[4]",
                     "all[4].any[0]", "all[4].any[1]", "all[4].any[2]", "all[4].any[3]"]


def test_builder_covers_every_trait_operator() -> None:
    age = trait("age")
    ops = [age != 3, age < 3, age <= 3, age > 3, age.between(1, 2), age.notin([1]),
           age.is_set(), age.is_not_set(), trait("name").contains("a"),
           trait("name").startswith("a"), trait("last_purchase_at").within_days(3),
           trait("last_purchase_at").more_than_days_ago(3),
           trait("spend_in_period", period="2025") > 1, trait("clv_12m").top_percent(5)]
    assert [o.op for o in ops] == ["!=", "<", "<=", ">", "between", "not_in", "is_set",
                                   "is_not_set", "contains", "starts_with", "within_days",
                                   "more_than_days_ago", ">", "top_percent"]
    assert ops[-2].period == "2025"


@pytest.mark.parametrize("data, path, words", [
    ({"all": [{"trait": "age", "op": "in", "value": 3}]}, "all[0]", "non-empty list"),
    ({"all": [{"trait": "age", "op": "between", "value": [1, 2, 3]}]}, "all[0]", "[low, high]"),
    ({"all": [{"trait": "age", "op": "is_set", "value": 3}]}, "all[0]", "takes no value"),
    ({"all": [{"trait": "age", "op": ">"}]}, "all[0]", "needs a value"),
    ({"all": [{"trait": "age", "op": ">", "value": [1]}]}, "all[0]", "use 'in'"),
    ({"trait": "last_purchase_at", "op": "within_days", "value": 2.5}, "(rule)", "whole number"),
    ({"any": [{"not": {"trait": "age", "op": "~", "value": 1}}]}, "any[0].not.op", "Input"),
    ({"all": [{"event": "X", "within_days": 7, "since": "2026-01-01"}]}, "all[0]", "one of"),
    ({"event": "X", "between": ["2026-02-01", "2026-01-01"]}, "(rule)", "[earlier, later]"),
    ({"event": "X", "occurrence": "first"}, "(rule)", "needs a window"),
    ({"event": "X", "aggregate": {"fn": "avg"}}, "aggregate", "needs a property"),
    ({"event": "X", "aggregate": {"op": "contains", "value": 1}}, "aggregate", "compared with"),
    ({"event": "X", "where": [{"property": "a b", "op": "=", "value": 1}]},
     "where[0].property", "pattern"),
    ({"message": "bounced"}, "message", "Input should be"),
    ({"trait": "clv_12m", "op": "top_percent", "value": 0}, "(rule)", "percentage above 0"),
    ({"trait": "clv_12m", "op": "top_percent", "value": 101}, "(rule)", "at most 100"),
    ({"trait": "clv_12m", "op": "top_percent"}, "(rule)", "needs a value"),
    ({"event": "X", "where": [{"property": "p", "op": "top_percent", "value": 5}]},
     "where[0]", "use it in a trait condition"),
    ({"order": "any", "where": [{"field": "total", "op": "top_percent", "value": 5}]},
     "where[0]", "use it in a trait condition"),
    ({"event": "X", "aggregate": {"op": "top_percent", "value": 5}}, "aggregate",
     "compared with"),
    ({"order": "shipped"}, "order", "'completed', 'refunded', 'cancelled' or 'any'"),
    ({"order": "any", "where": [{"field": "colour_name", "value": "red"}]},
     "where[0].field", "'brand'"),
    ({"order": "any", "aggregate": {"fn": "sum"}}, "aggregate", "needs a field"),
    ({"order": "any", "aggregate": {"fn": "max", "field": "brand"}}, "aggregate.field",
     "'total'"),
    ({"order": "any", "occurrence": "last"}, "(rule)", "needs a window"),
    ({"order": "any", "occurrence": "last", "within_days": 3, "aggregate": {}}, "(rule)",
     "do not combine"),
    ({"all": []}, "all", "at least 1"),
    ({"all": [{"color": "red"}]}, "all[0]", "one of all, any, not"),
    ({"trait": "spend_in_period", "period": "25", "op": ">", "value": 1}, "period", "pattern"),
    ({"segment": "vip", "extra": 1}, "extra", "Extra inputs"),
])
def test_mistakes_name_the_node_and_the_fix(data: dict, path: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words) as caught:
        rules.parse(data)
    assert caught.value.field == path
    assert str(caught.value).startswith(f"Rule {path}:")


def test_bad_yaml_is_named() -> None:
    with pytest.raises(ValidationError, match="not valid YAML"):
        rules.parse_yaml("all: [unclosed")
