"""Saved segments give the same members on DuckDB and on Spark.

The rules are compiled by :mod:`sen.segments.compiler` against each engine's
Ibis backend over the compiler tests' shop, and must find exactly the members
the store's own evaluation finds: one rule of every condition kind and
operator, and nestings of and, or and not.
"""

from __future__ import annotations

from typing import Any

import pytest

from sen.segments import backends, compiler, evaluate, rules
from tests.segments.test_compiler import store  # noqa: F401 - the shop, as a fixture
from tests.traits.test_runner import AS_OF

RULES: list[dict[str, Any]] = [
    {"trait": "orders", "op": "=", "value": 4},
    {"trait": "orders", "op": "!=", "value": 4},
    {"trait": "orders", "op": "<", "value": 1},
    {"trait": "orders", "op": "<=", "value": 1},
    {"trait": "spend", "op": ">", "value": 700_000},
    {"trait": "spend", "op": ">=", "value": 700_000},
    {"trait": "age", "op": "between", "value": [18, 35]},
    {"trait": "region", "op": "in", "value": ["South", "Central"]},
    {"trait": "region", "op": "not_in", "value": ["South"]},
    {"trait": "favourite_brand", "op": "contains", "value": "SAIGON"},
    {"trait": "province", "op": "starts_with", "value": "đà"},
    {"trait": "age", "op": "is_set"},
    {"trait": "age", "op": "is_not_set"},
    {"trait": "last_purchase_at", "op": "within_days", "value": 30},
    {"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
    {"trait": "first_purchase_at", "op": ">=", "value": "2026-06-01"},
    {"trait": "first_purchase_at", "op": "between", "value": ["2026-01-01", "2026-06-30"]},
    {"trait": "omnichannel", "op": "=", "value": True},
    {"trait": "channels", "op": "contains", "value": "marketplace"},
    {"trait": "channels", "op": "in", "value": ["web", "marketplace"]},
    {"trait": "channels", "op": "not_in", "value": ["store"]},
    {"trait": "channels", "op": "is_not_set"},
    {"trait": "lifecycle_stage", "op": "=", "value": "prospect"},
    {"trait": "spend_in_period", "period": "2025", "op": ">", "value": 3_000_000},
    {"trait": "spend_in_period", "period": "2026-06", "op": "<", "value": 1_000_000},
    {"trait": "bags", "op": ">=", "value": 1},
    {"trait": "bags", "op": "=", "value": 0},
    {"trait": "top_brand", "op": "=", "value": "Mira"},
    {"trait": "top_brand", "op": "is_set"},
    {"event": "Product Viewed"},
    {"event": "Product Viewed", "did": False},
    {"event": "Product Viewed", "within_days": 7},
    {"event": "Product Viewed", "between": ["2026-05-01", "2026-05-01"]},
    {"event": "Product Viewed", "since": "2026-06-29"},
    {"event": "Product Viewed", "where": [{"property": "brand", "op": "=",
                                           "value": "Vela Saigon"}]},
    {"event": "Product Viewed", "where": [{"property": "price", "op": "<",
                                           "value": 600_000}]},
    {"event": "Product Added", "where": [{"property": "product.category", "op": "contains",
                                          "value": "túi"}]},
    {"event": "Product Viewed", "aggregate": {"fn": "count", "op": ">=", "value": 3}},
    {"event": "Product Viewed", "aggregate": {"fn": "count", "op": "<", "value": 2}},
    {"event": "Product Viewed", "aggregate": {"fn": "sum", "property": "price", "op": ">",
                                              "value": 3_000_000}},
    {"event": "Product Viewed", "aggregate": {"fn": "avg", "property": "price",
                                              "op": "between", "value": [400_000, 600_000]}},
    {"event": "Product Viewed", "aggregate": {"fn": "max", "property": "price", "op": ">=",
                                              "value": 2_000_000}},
    {"event": "Product Viewed", "aggregate": {"fn": "min", "property": "price", "op": "<=",
                                              "value": 500_000}},
    {"event": "Product Viewed", "occurrence": "first", "within_days": 3},
    {"event": "Product Viewed", "occurrence": "last", "since": "2026-06-29"},
    {"segment": "vip"},
    {"segment": "vip", "member": False},
    {"message": "received", "campaign": "C1"},
    {"message": "received", "did": False},
    {"message": "clicked", "campaign": "C1", "within_days": 7},
    {"message": "clicked", "channel": "email"},
    {"message": "clicked", "journey": "J1"},
    {"all": [{"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
             {"trait": "favourite_brand", "op": "=", "value": "Vela Saigon"},
             {"not": {"message": "received", "campaign": "C1"}}]},
    {"any": [{"trait": "region", "op": "=", "value": "North"},
             {"all": [{"trait": "orders", "op": "=", "value": 1},
                      {"not": {"segment": "vip"}}]}]},
    {"not": {"trait": "age", "op": ">", "value": 30}},
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
    parsed = rules.parse(RULES[-2])
    ctx = evaluate.context(backend, store.cursor(), AS_OF)
    paths, counts = compiler.branch_counts(parsed, ctx)
    got = backends.rows(backend, counts)[0]
    expected = evaluate.preview(store, parsed, as_of=AS_OF).branches
    assert list(zip(paths, [int(n or 0) for n in got], strict=True)) == expected
