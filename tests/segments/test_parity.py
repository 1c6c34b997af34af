"""Saved segments give the same members on DuckDB and on Spark.

Every operator and condition kind is checked against known members on both
engines in ``test_compiler``; here the segments a marketer would save, which
nest them, must find on Spark exactly the members the store's own evaluation
finds, and count every branch the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from sen.segments import backends, compiler, evaluate, rules
from tests.segments.test_compiler import store  # noqa: F401 - the shop, as a fixture
from tests.traits.test_runner import AS_OF

RULES: list[dict[str, Any]] = [
    # Lapsed 90 days, favourite brand Vela, region North, not in campaign C1.
    {"all": [{"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
             {"trait": "favourite_brand", "op": "=", "value": "Vela Saigon"},
             {"trait": "region", "op": "in", "value": ["North"]},
             {"not": {"message": "received", "campaign": "C1"}}]},
    # Clicked in the last 7 days but did not buy.
    {"all": [{"message": "clicked", "within_days": 7},
             {"order": "completed", "did": False, "within_days": 7}]},
    # Viewed Mira in 90 days and never bought Mira.
    {"all": [{"event": "Product Viewed", "within_days": 90,
              "where": [{"property": "brand", "op": "=", "value": "Mira"}],
              "aggregate": {"fn": "count", "op": ">=", "value": 1}},
             {"not": {"order": "completed",
                      "where": [{"field": "brand", "op": "=", "value": "Mira"}]}}]},
    # Store buyers who also bought online in 2025, or spent over 3M that year.
    {"any": [{"all": [{"order": "completed", "where": [
                          {"field": "channel", "op": "=", "value": "store"}]},
                      {"order": "any", "between": ["2025-01-01", "2025-12-31"], "where": [
                          {"field": "channel", "op": "in", "value": ["web", "app"]}]}]},
             {"trait": "spend_in_period", "period": "2025", "op": ">", "value": 3_000_000}]},
    {"any": [{"trait": "region", "op": "=", "value": "North"},
             {"all": [{"trait": "orders", "op": "=", "value": 1},
                      {"not": {"segment": "vip"}}]}]},
    {"all": [{"trait": "bags", "op": "=", "value": 0}, {"not": {"segment": "other"}},
             {"not": {"trait": "age", "op": ">", "value": 30}}]},
]


@pytest.mark.parametrize("rule", [pytest.param(r, id=f"{n:02d}") for n, r in enumerate(RULES)])
def test_the_same_members_on_each_engine(both_backends: tuple[str, Any], store,  # noqa: F811
                                         rule: dict[str, Any]) -> None:
    _, backend = both_backends
    parsed = rules.parse(rule)
    ctx = evaluate.context(backend, store.cursor(), AS_OF)
    expected = set(evaluate.member_ids(store, parsed, as_of=AS_OF))
    assert backends.execute_ids(backend, compiler.members(parsed, ctx)) == expected


def test_every_branch_counts_the_same(both_backends: tuple[str, Any], store) -> None:  # noqa: F811
    _, backend = both_backends
    parsed = rules.parse(RULES[3])
    ctx = evaluate.context(backend, store.cursor(), AS_OF)
    paths, counts = compiler.branch_counts(parsed, ctx)
    got = backends.rows(backend, counts)[0]
    expected = evaluate.preview(store, parsed, as_of=AS_OF).branches
    assert list(zip(paths, [int(n or 0) for n in got], strict=True)) == expected
