"""Every operator and condition kind on a hand-built shop with known members.

The shop is tests.traits' (four customers whose traits and orders are worked
out by hand), refreshed by the real trait runner; events are written to
``profile_events`` as the projection would. Each rule with known members runs
on DuckDB and on Spark (``both_backends``) and must find exactly them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sen.errors import ValidationError
from sen.segments import backends, compiler, evaluate, rules
from sen.traits import custom, runner
from tests.traits.test_runner import AS_OF, build_shop

PROFILE_EVENTS = """
    CREATE TABLE IF NOT EXISTS profile_events (
        profile_id VARCHAR NOT NULL, event VARCHAR NOT NULL, timestamp TIMESTAMP NOT NULL,
        source VARCHAR, channel VARCHAR, campaign_id VARCHAR, journey_id VARCHAR,
        properties JSON, record VARCHAR NOT NULL, event_rowid BIGINT NOT NULL
    )
"""

EVENTS = (  # profile, event, when, properties
    ("p_lan", "Product Viewed", datetime(2026, 6, 28), {"brand": "Mira", "price": 800_000}),
    ("p_lan", "Product Viewed", datetime(2026, 6, 29), {"brand": "Mira", "price": 900_000}),
    ("p_lan", "Product Viewed", datetime(2026, 6, 29, 5), {"brand": "Vela Saigon",
                                                            "price": 2_000_000}),
    ("p_minh", "Product Viewed", datetime(2026, 5, 1), {"brand": "Mira", "price": 500_000}),
    ("p_hoa", "Product Added", datetime(2026, 6, 25), {"brand": "Mira",
                                                        "product": {"category": "Túi xách"}}),
    ("p_lan", "Message Clicked", datetime(2026, 6, 27),
     {"channel": "zalo", "campaign_id": "C1", "journey_id": "J1"}),
    ("p_minh", "Message Sent", datetime(2026, 6, 20), {"channel": "sms", "campaign_id": "C1"}),
    ("p_hoa", "Message Sent", datetime(2026, 6, 20), {"channel": "sms", "campaign_id": "C2"}),
    ("p_tuan", "Message Clicked", datetime(2026, 3, 1), {"channel": "email",
                                                          "campaign_id": "C1"}),
    ("p_minh", "Message Delivered", datetime(2026, 6, 20, 0, 1), {"channel": "sms",
                                                                 "campaign_id": "C1"}),
    ("p_hoa", "Message Delivered", datetime(2026, 6, 20, 0, 1), {"channel": "sms",
                                                                "campaign_id": "C2"}),
    ("p_minh", "Message Opened", datetime(2026, 6, 21), {"channel": "sms", "campaign_id": "C1"}),
    ("p_hoa", "Message Converted", datetime(2026, 6, 22), {"channel": "sms",
                                                           "campaign_id": "C2",
                                                           "journey_id": "J2"}),
)
EVERYONE = ["p_hoa", "p_lan", "p_minh", "p_tuan"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    shop = build_shop(tmp_path_factory.mktemp("segments"))
    custom.save(shop.engine, custom.parse({"name": "bags", "source": "order_lines",
                                           "aggregate": "count", "filters": [
                                               {"property": "category", "op": "=",
                                                "value": "Túi xách"}]}), "test")
    custom.save(shop.engine, custom.parse({"name": "top_brand", "source": "order_lines",
                                           "aggregate": "most_frequent",
                                           "property": "brand"}), "test")
    runner.refresh(shop.engine, as_of=AS_OF)
    cur = shop.engine.cursor()
    cur.execute(PROFILE_EVENTS)
    for n, (pid, event, at, props) in enumerate(EVENTS):
        cur.execute("INSERT INTO profile_events VALUES (?, ?, ?, 'test', ?, ?, ?, ?, ?, ?)",
                    [pid, event, at, props.get("channel"), props.get("campaign_id"),
                     props.get("journey_id"), json.dumps(props), f"u:{pid}", n])
    cur.execute("INSERT INTO segment_members VALUES ('vip', 'p_lan'), ('vip', 'p_tuan'), "
                "('other', 'p_hoa')")
    yield shop.engine
    shop.engine.close()


def members(engine, rule: dict) -> list[str]:
    return evaluate.member_ids(engine, rules.parse(rule), as_of=AS_OF)


def members_on(engines: tuple[str, Any], store, rule: dict) -> list[str]:
    """The rule's members as the engine finds them (DuckDB or Spark)."""
    _, backend = engines
    ctx = evaluate.context(backend, store.cursor(), AS_OF)
    return sorted(backends.execute_ids(backend, compiler.members(rules.parse(rule), ctx)))


# Lan: 4 orders, spend 6.5M, last 2026-02-01 (149 days), Hà Nội/North, 35, channels
# app/store/web, favourite brand Vela Saigon; Minh: no orders, HCM/South, no age;
# Hoa: 1 marketplace order 10 days ago, Đà Nẵng/Central; Tuan: 1 store order, 18, in
# Đà Nẵng through his store.
@pytest.mark.parametrize("rule, expected", [
    ({"trait": "orders", "op": "=", "value": 4}, ["p_lan"]),
    ({"trait": "orders", "op": "!=", "value": 4}, ["p_hoa", "p_minh", "p_tuan"]),
    ({"trait": "orders", "op": "<", "value": 1}, ["p_minh"]),
    ({"trait": "orders", "op": "<=", "value": 1}, ["p_hoa", "p_minh", "p_tuan"]),
    ({"trait": "spend", "op": ">", "value": 700_000}, ["p_lan", "p_tuan"]),
    ({"trait": "spend", "op": ">=", "value": 700_000}, ["p_hoa", "p_lan", "p_tuan"]),
    ({"trait": "age", "op": "between", "value": [18, 35]}, ["p_lan", "p_tuan"]),
    ({"trait": "region", "op": "in", "value": ["South", "Central"]},
     ["p_hoa", "p_minh", "p_tuan"]),
    ({"trait": "region", "op": "not_in", "value": ["South"]}, ["p_hoa", "p_lan", "p_tuan"]),
    ({"trait": "favourite_brand", "op": "contains", "value": "SAIGON"}, ["p_lan"]),
    ({"trait": "province", "op": "starts_with", "value": "đà"}, ["p_hoa", "p_tuan"]),
    ({"trait": "age", "op": "is_set"}, ["p_lan", "p_tuan"]),
    ({"trait": "age", "op": "is_not_set"}, ["p_hoa", "p_minh"]),
    ({"trait": "last_purchase_at", "op": "within_days", "value": 30}, ["p_hoa", "p_tuan"]),
    ({"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90}, ["p_lan"]),
    ({"trait": "first_purchase_at", "op": ">=", "value": "2026-06-01"}, ["p_hoa", "p_tuan"]),
    ({"trait": "omnichannel", "op": "=", "value": True}, ["p_lan"]),
    ({"trait": "channels", "op": "contains", "value": "marketplace"}, ["p_hoa"]),
    ({"trait": "channels", "op": "in", "value": ["web", "marketplace"]}, ["p_hoa", "p_lan"]),
    ({"trait": "channels", "op": "not_in", "value": ["store"]}, ["p_hoa", "p_minh"]),
    ({"trait": "channels", "op": "is_not_set"}, ["p_minh"]),
    ({"trait": "lifecycle_stage", "op": "=", "value": "prospect"}, ["p_minh"]),
    ({"trait": "spend_in_period", "period": "2025", "op": ">", "value": 3_000_000},
     ["p_lan"]),
    ({"trait": "spend_in_period", "period": "2026-06", "op": "<", "value": 1_000_000},
     ["p_hoa", "p_lan", "p_minh"]),  # nothing in a period is 0
    ({"trait": "bags", "op": ">=", "value": 1}, ["p_hoa", "p_lan"]),
    ({"trait": "bags", "op": "=", "value": 0}, ["p_minh", "p_tuan"]),  # missing count is 0
    ({"trait": "top_brand", "op": "=", "value": "Mira"}, ["p_hoa"]),
    ({"trait": "top_brand", "op": "is_set"}, ["p_hoa", "p_lan", "p_tuan"]),
    # The top N% by spend (6.5M, 2.0M, 0.7M, 0): never more than N% of those with a value.
    ({"trait": "spend", "op": "top_percent", "value": 25}, ["p_lan"]),
    ({"trait": "spend", "op": "top_percent", "value": 50}, ["p_lan", "p_tuan"]),
    ({"trait": "spend", "op": "top_percent", "value": 74.9}, ["p_lan", "p_tuan"]),
    ({"trait": "spend", "op": "top_percent", "value": 100}, EVERYONE),
    ({"trait": "age", "op": "top_percent", "value": 50}, ["p_lan"]),  # of the two with an age
    # Ties are in or out together: Hoa and Lan have one bag each, Minh and Tuan none.
    ({"trait": "bags", "op": "top_percent", "value": 50}, []),
    ({"trait": "bags", "op": "top_percent", "value": 100}, ["p_hoa", "p_lan"]),
])
def test_trait_operators(both_backends, store, rule: dict, expected: list[str]) -> None:
    assert members_on(both_backends, store, rule) == expected


@pytest.mark.parametrize("rule, expected", [
    ({"event": "Product Viewed"}, ["p_lan", "p_minh"]),
    ({"event": "Product Viewed", "did": False}, ["p_hoa", "p_tuan"]),
    ({"event": "Product Viewed", "within_days": 7}, ["p_lan"]),
    ({"event": "Product Viewed", "between": ["2026-05-01", "2026-05-01"]}, ["p_minh"]),
    ({"event": "Product Viewed", "since": "2026-06-29"}, ["p_lan"]),
    ({"event": "Product Viewed", "where": [{"property": "brand", "op": "=",
                                            "value": "Vela Saigon"}]}, ["p_lan"]),
    ({"event": "Product Viewed", "where": [{"property": "price", "op": "<",
                                            "value": 600_000}]}, ["p_minh"]),
    ({"event": "Product Added", "where": [{"property": "product.category", "op": "contains",
                                           "value": "túi"}]}, ["p_hoa"]),
    ({"event": "Product Viewed", "aggregate": {"fn": "count", "op": ">=", "value": 3}},
     ["p_lan"]),
    ({"event": "Product Viewed", "aggregate": {"fn": "count", "op": "<", "value": 2}},
     ["p_hoa", "p_minh", "p_tuan"]),  # none counts as 0
    ({"event": "Product Viewed", "aggregate": {"fn": "sum", "property": "price",
                                               "op": ">", "value": 3_000_000}}, ["p_lan"]),
    ({"event": "Product Viewed", "aggregate": {"fn": "avg", "property": "price",
                                               "op": "between", "value": [400_000, 600_000]}},
     ["p_minh"]),
    ({"event": "Product Viewed", "aggregate": {"fn": "max", "property": "price",
                                               "op": ">=", "value": 2_000_000}}, ["p_lan"]),
    ({"event": "Product Viewed", "aggregate": {"fn": "min", "property": "price",
                                               "op": "<=", "value": 500_000}}, ["p_minh"]),
    ({"event": "Product Viewed", "occurrence": "first", "within_days": 2}, []),
    ({"event": "Product Viewed", "occurrence": "first", "within_days": 3}, ["p_lan"]),
    ({"event": "Product Viewed", "occurrence": "last", "since": "2026-06-29"}, ["p_lan"]),
    ({"segment": "vip"}, ["p_lan", "p_tuan"]),
    ({"segment": "vip", "member": False}, ["p_hoa", "p_minh"]),
    ({"message": "received", "campaign": "C1"}, ["p_minh"]),
    ({"message": "received", "did": False}, ["p_lan", "p_tuan"]),
    ({"message": "clicked", "campaign": "C1", "within_days": 7}, ["p_lan"]),
    ({"message": "clicked", "campaign": "C1"}, ["p_lan", "p_tuan"]),
    ({"message": "clicked", "channel": "email"}, ["p_tuan"]),
    ({"message": "clicked", "journey": "J1"}, ["p_lan"]),
    ({"message": "delivered"}, ["p_hoa", "p_minh"]),
    ({"message": "delivered", "campaign": "C1", "channel": "sms"}, ["p_minh"]),
    ({"message": "opened", "within_days": 10}, ["p_minh"]),
    ({"message": "opened", "did": False}, ["p_hoa", "p_lan", "p_tuan"]),
    ({"message": "converted", "journey": "J2", "since": "2026-06-22"}, ["p_hoa"]),
    ({"message": "converted", "between": ["2026-06-01", "2026-06-21"]}, []),
])
def test_event_segment_and_message_conditions(both_backends, store, rule: dict,
                                              expected: list[str]) -> None:
    assert members_on(both_backends, store, rule) == expected


# Orders as of 2026-06-30 (the 2026-07-15 one is after as_of and absent):
# Lan: 2025-01-10 store HN01 1.0M (Vela Giày nữ 36); 2025-03-05 web 2.0M (Vela Túi xách
# 1.2M, Mira Giày nữ 37 0.8M); 2025-03-05 store HN02 0.5M (Mira Sandal 36 ×2); 2026-02-01
# app 3.0M (Vela Giày nữ 36); 2026-05-01 store refunded 0.8M (no lines); 2026-06-01 web
# cancelled 0.4M. Hoa: 2026-06-20 marketplace 0.7M (Mira Túi xách). Tuan: 2026-06-01 store
# DN01 2.0M (Bravo 42, Alpha 41, 1.0M each). Minh: none.
@pytest.mark.parametrize("rule, expected", [
    ({"order": "completed"}, ["p_hoa", "p_lan", "p_tuan"]),
    ({"order": "completed", "did": False}, ["p_minh"]),
    ({"order": "any", "within_days": 30}, ["p_hoa", "p_lan", "p_tuan"]),
    ({"order": "completed", "within_days": 30}, ["p_hoa", "p_tuan"]),
    ({"order": "completed", "did": False, "within_days": 90}, ["p_lan", "p_minh"]),
    ({"order": "refunded"}, ["p_lan"]),
    ({"order": "cancelled", "between": ["2026-06-01", "2026-06-01"]}, ["p_lan"]),
    ({"order": "completed", "since": "2026-06-10"}, ["p_hoa"]),
    ({"order": "completed", "where": [{"field": "channel", "op": "=", "value": "store"}]},
     ["p_lan", "p_tuan"]),
    ({"order": "completed", "where": [{"field": "store", "op": "in",
                                       "value": ["HN02", "DN01"]}]}, ["p_lan", "p_tuan"]),
    ({"order": "completed", "where": [{"field": "total", "op": ">=", "value": 2_000_000}]},
     ["p_lan", "p_tuan"]),
    ({"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Mira"}]},
     ["p_hoa", "p_lan"]),
    ({"order": "completed", "where": [{"field": "category", "op": "contains",
                                       "value": "TÚI"}]}, ["p_hoa", "p_lan"]),
    ({"order": "completed", "where": [{"field": "size", "op": "is_not_set"}]},
     ["p_hoa", "p_lan"]),
    # One line must meet both line filters: Lan's Mira lines are sizes 37 and 36 but her
    # Mira 36 is a Sandal, her Mira Giày nữ is 37.
    ({"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Mira"},
                                      {"field": "size", "op": "=", "value": "36"}]},
     ["p_lan"]),
    ({"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Mira"},
                                      {"field": "category", "op": "=", "value": "Giày nữ"},
                                      {"field": "size", "op": "=", "value": "36"}]}, []),
    # Order and line filters together: a store order with a Mira line (Lan's HN02 Sandal).
    ({"order": "completed", "where": [{"field": "channel", "op": "=", "value": "store"},
                                      {"field": "brand", "op": "=", "value": "Mira"}]},
     ["p_lan"]),
    ({"order": "completed", "within_days": 365, "where": [
        {"field": "brand", "op": "starts_with", "value": "vela"}]}, ["p_lan"]),
    ({"order": "completed", "aggregate": {"fn": "count", "op": ">=", "value": 2}},
     ["p_lan"]),
    ({"order": "completed", "aggregate": {"fn": "count", "op": "<", "value": 1}},
     ["p_minh"]),  # none counts as 0
    ({"order": "completed", "aggregate": {"fn": "sum", "field": "total", "op": ">",
                                          "value": 5_000_000}}, ["p_lan"]),
    ({"order": "completed", "aggregate": {"fn": "avg", "field": "total", "op": "between",
                                          "value": [1_000_000, 2_000_000]}},
     ["p_lan", "p_tuan"]),
    ({"order": "completed", "aggregate": {"fn": "max", "field": "item_count", "op": ">=",
                                          "value": 2}}, ["p_lan", "p_tuan"]),
    # Line aggregates are over the matching lines: Mira quantities, Lan 1 + 2.
    ({"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Mira"}],
      "aggregate": {"fn": "sum", "field": "quantity", "op": ">=", "value": 2}}, ["p_lan"]),
    ({"order": "completed", "aggregate": {"fn": "min", "field": "price", "op": "<=",
                                          "value": 250_000}}, ["p_lan"]),
    ({"order": "completed", "where": [{"field": "channel", "op": "=", "value": "store"}],
      "aggregate": {"fn": "sum", "field": "amount", "op": "=", "value": 2_000_000}},
     ["p_tuan"]),  # Lan's store lines are 1.0M + 0.5M
    ({"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Mira"}],
      "aggregate": {"fn": "count", "op": "=", "value": 2}}, ["p_lan"]),
    ({"order": "completed", "occurrence": "first", "since": "2026-01-01"},
     ["p_hoa", "p_tuan"]),
    ({"order": "completed", "occurrence": "last", "between": ["2026-01-01", "2026-03-01"]},
     ["p_lan"]),
])
def test_order_conditions(both_backends, store, rule: dict, expected: list[str]) -> None:
    assert members_on(both_backends, store, rule) == expected


def test_and_or_not_nesting(both_backends, store) -> None:
    def members(_: Any, rule: dict) -> list[str]:
        return members_on(both_backends, store, rule)

    # Lapsed 90 days, favourite brand Vela, not in campaign C1 (Lan has not received it).
    assert members(store, {"all": [
        {"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
        {"trait": "favourite_brand", "op": "=", "value": "Vela Saigon"},
        {"not": {"message": "received", "campaign": "C1"}}]}) == ["p_lan"]
    # Clicked in the last 7 days but did not buy in them.
    assert members(store, {"all": [{"message": "clicked", "within_days": 7},
                                   {"not": {"trait": "last_purchase_at", "op": "within_days",
                                            "value": 7}}]}) == ["p_lan"]
    assert members(store, {"any": [{"trait": "region", "op": "=", "value": "North"},
                                   {"all": [{"trait": "orders", "op": "=", "value": 1},
                                            {"not": {"segment": "vip"}}]}]}) == [
        "p_hoa", "p_lan"]
    # not of a trait some profiles lack keeps them ("everyone else").
    assert members(store, {"not": {"trait": "age", "op": ">", "value": 30}}) == [
        "p_hoa", "p_minh", "p_tuan"]
    # Did not buy in 90 days but bought Vela before, and is not a member of vip.
    assert members(store, {"all": [
        {"order": "completed", "did": False, "within_days": 90},
        {"order": "completed", "where": [{"field": "brand", "op": "=", "value": "Vela Saigon"}]},
        {"not": {"segment": "vip"}}]}) == []
    assert members(store, {"all": [
        {"order": "completed", "did": False, "within_days": 90},
        {"order": "completed", "where": [{"field": "brand", "op": "=",
                                          "value": "Vela Saigon"}]}]}) == ["p_lan"]


def test_preview_counts_every_branch_and_samples(store) -> None:
    rule = rules.parse({"all": [{"trait": "orders", "op": ">=", "value": 1},
                                {"not": {"trait": "region", "op": "=", "value": "North"}}]})
    p = evaluate.preview(store, rule, as_of=AS_OF)
    assert p.count == 2
    assert p.branches == [("(rule)", 2), ("all[0]", 3), ("all[1]", 3), ("all[1].not", 1)]
    assert [s["profile_id"] for s in p.sample] == ["p_hoa", "p_tuan"]
    assert evaluate.count(store, rule, as_of=AS_OF) == 2


def test_the_sql_is_one_statement_over_the_store(store) -> None:
    import sqlglot

    text = evaluate.sql(store, rules.parse({"all": [
        {"trait": "region", "op": "=", "value": "South"}, {"event": "Product Viewed"}]}),
        as_of=AS_OF)
    assert len(sqlglot.parse(text, read="duckdb")) == 1
    assert "profile_events" in text and "profile_traits" in text


@pytest.mark.parametrize("rule, words", [
    ({"trait": "orders", "op": "=", "value": "four"}, "orders holds numbers"),
    ({"trait": "region", "op": "<", "value": 3}, "region holds text"),
    ({"trait": "last_purchase_at", "op": "=", "value": "yesterday"}, "dates"),
    ({"trait": "orders", "op": "within_days", "value": 3}, "compares dates"),
    ({"trait": "nope", "op": "=", "value": 1}, "Unknown trait 'nope'"),
    ({"trait": "spend_in_period", "op": ">", "value": 1}, "needs a period"),
    ({"trait": "channels", "op": ">", "value": "web"}, "list trait"),
    ({"order": "any", "where": [{"field": "total", "op": ">", "value": "big"}]},
     "total holds numbers"),
    ({"trait": "region", "op": "top_percent", "value": 5}, "region holds text"),
    ({"trait": "top_brand", "op": "top_percent", "value": 5}, "top_brand is not one"),
    ({"order": "any", "where": [{"field": "brand", "op": "within_days", "value": 3}]},
     "compares dates"),
])
def test_rules_that_cannot_run_say_why(store, rule: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        members(store, rule)


def test_values_are_matched_literally_whatever_they_contain(store, tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    cur = store.cursor()
    baseline = members(store, {"trait": "region", "op": "is_set"})

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(min_size=1, max_size=30))
    def check(value: str) -> None:
        rule = rules.parse({"any": [{"trait": "favourite_brand", "op": "=", "value": value},
                                    {"event": "Product Viewed", "where": [
                                        {"property": "brand", "op": "in", "value": [value]}]},
                                    {"order": "any", "where": [
                                        {"field": "category", "op": "contains",
                                         "value": value}]}]})
        got = evaluate.member_ids(store, rule, as_of=AS_OF)
        expected = sorted({r[0] for r in cur.execute(
            "SELECT profile_id FROM profile_traits WHERE favourite_brand = ? UNION "
            "SELECT profile_id FROM profile_events WHERE event = 'Product Viewed' AND "
            "json_extract_string(properties, '$.brand') = ? UNION "
            "SELECT profile_id FROM profile_order_lines WHERE ordered_at <= ? AND "
            "contains(lower(category), lower(?))", [value, value, AS_OF, value]).fetchall()})
        assert got == expected

    check()
    for hostile in ("'; DROP TABLE profile_traits; --", "Vela Saigon' OR '1'='1", "\\", "%"):
        assert members(store, {"trait": "favourite_brand", "op": "=", "value": hostile}) == []
    assert members(store, {"trait": "region", "op": "is_set"}) == baseline
