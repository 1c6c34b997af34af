"""User-defined traits on hand-built customers with known answers.

The runner's scope tables are built here from rows written out below, as the
contract with :mod:`sen.traits.runner` describes them, so every aggregate,
filter and window is checked against numbers one can work out by hand. A few
tests at the end go through the real runner (``sen.traits.scope.prepare_scope``, ``refresh``).
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sen.errors import ConfigError, NotFoundError, ValidationError
from sen.store.analytics import DuckDBEngine
from sen.traits import custom, runner
from sen.traits.custom import TraitDefinition, compile_sql, compute, parse

AS_OF = datetime(2026, 6, 30, 12, 0, 0)
DAY = timedelta(days=1)

# profile -> records. p5 exists but is outside the scope of an incremental run.
RECORDS = {"p1": ["u:1", "a:x1"], "p2": ["u:2"], "p3": ["u:3"], "p4": ["u:4"], "p5": ["u:5"]}
SCOPE = ("p1", "p2", "p3", "p4")

# profile, order, source, channel, store, ordered_at, status, total, coupon, items
ORDERS = [
    ("p1", "O1", "pos", "store", "HCM-01", datetime(2026, 6, 1, 10), "completed",
     1_000_000, "SALE10", 3),
    ("p1", "O2", "web", "web", None, datetime(2025, 7, 1, 12), "completed", 500_000, None, 1),
    ("p1", "O3", "web", "web", None, datetime(2026, 6, 10, 9), "refunded", 300_000, None, 1),
    ("p1", "O4", "app", "app", None, datetime(2026, 6, 20, 9), "cancelled", 200_000, None, 1),
    ("p2", "O5", "app", "app", None, datetime(2026, 1, 15, 8), "completed", 2_000_000,
     "VIP", 1),
    ("p2", "O6", "shopee", "marketplace", None, AS_OF, "completed", 100_000, "", 1),
    ("p3", "O7", "pos", "store", "HN-02", AS_OF + timedelta(seconds=1), "completed", 999,
     None, 1),
]
# order, product, brand, category, size, colour, quantity, price, discount
LINES = [
    ("O1", "SP1", "ECCO", "Giày", "38", "Đen", 1, 800_000, 0),
    ("O1", "SP2", "Biti's", "Dép", "38", "Trắng", 2, 100_000, 0),
    ("O2", "SP1", "ECCO", "Giày", "39", "Đen", 1, 500_000, 0),
    ("O3", "SP1", "ECCO", "Giày", "38", "Nâu", 1, 300_000, 0),
    ("O5", "SP3", "Aldo", "Túi", None, "Đỏ", 1, 2_100_000, 100_000),
    ("O6", "SP2", "Biti's", "Dép", "40", "", 1, 100_000, 0),
    ("O6", "SP4", None, "Tất", "", None, 3, 10_000, 30_000),
]
# user_id, anonymous_id, type, event, timestamp, properties
EVENTS = [
    ("1", None, "track", "Product Viewed", datetime(2026, 6, 29, 9),
     {"product": {"brand": "ECCO"}, "price": 800000}),
    (None, "x1", "track", "Product Viewed", datetime(2026, 6, 28, 9),
     {"product": {"brand": "Biti's"}, "price": "100000"}),
    ("1", None, "track", "Product Viewed", datetime(2026, 6, 27, 9),
     {"product": {"brand": "ECCO"}, "price": 900000.5, "on_sale": True}),
    ("1", None, "track", "Product Added", datetime(2026, 6, 27, 10),
     {"product": {"brand": "ECCO"}, "price": 1}),
    ("2", None, "track", "Product Viewed", datetime(2026, 6, 1, 9),
     {"product": {"brand": "Vascara"}, "price": None, "on_sale": False}),
    ("2", None, "page", "Product Viewed", datetime(2026, 6, 1, 9), {"price": 5}),
    ("2", None, "track", "Product Viewed", AS_OF + DAY, {"price": 7}),
    ("5", None, "track", "Product Viewed", datetime(2026, 6, 1, 9), {"price": 5}),
    ("9", None, "track", "Product Viewed", datetime(2026, 6, 1, 9), {"price": 5}),
]


def _orders_row(o: tuple) -> tuple:
    pid, oid, source, channel, store, at, status, total, coupon, items = o
    return (pid, oid, source, channel, store, at, status, total, 0, 0, total, coupon, items)


def _line_rows() -> list[tuple]:
    orders = {o[1]: o for o in ORDERS}
    rows = []
    for oid, product, brand, category, size, colour, qty, price, discount in LINES:
        pid, _, _, channel, store, at, status, *_ = orders[oid]
        rows.append((pid, oid, at, channel, store, status, product, f"{product}-{size}",
                     f"{brand} {category}", brand, category, size, colour, qty, price,
                     discount, None, price * qty - discount))
    return rows


def build_scope(cur: Any, scope: tuple[str, ...] = SCOPE) -> None:
    """The four temp tables the runner creates, from the rows above."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _trait_scope (profile_id VARCHAR)")
    cur.execute("CREATE OR REPLACE TEMP TABLE _trait_records (record VARCHAR, "
                "profile_id VARCHAR)")
    cur.execute("""CREATE OR REPLACE TEMP TABLE _trait_orders (profile_id VARCHAR,
        order_id VARCHAR, source VARCHAR, channel VARCHAR, store_code VARCHAR,
        ordered_at TIMESTAMP, status VARCHAR, subtotal BIGINT, discount BIGINT,
        shipping BIGINT, total BIGINT, coupon VARCHAR, item_count INTEGER)""")
    cur.execute("""CREATE OR REPLACE TEMP TABLE _trait_lines (profile_id VARCHAR,
        order_id VARCHAR, ordered_at TIMESTAMP, channel VARCHAR, store_code VARCHAR,
        status VARCHAR, product_id VARCHAR, sku VARCHAR, name VARCHAR, brand VARCHAR,
        category VARCHAR, size VARCHAR, colour VARCHAR, quantity INTEGER, price BIGINT,
        discount BIGINT, coupon VARCHAR, amount BIGINT)""")
    for pid in scope:
        cur.execute("INSERT INTO _trait_scope VALUES (?)", [pid])
        for record in RECORDS[pid]:
            cur.execute("INSERT INTO _trait_records VALUES (?, ?)", [record, pid])
    for o in ORDERS:
        if o[0] in scope:
            cur.execute(f"INSERT INTO _trait_orders VALUES ({', '.join('?' * 13)})",
                        list(_orders_row(o)))
    for line in _line_rows():
        if line[0] in scope:
            cur.execute(f"INSERT INTO _trait_lines VALUES ({', '.join('?' * 18)})", list(line))


def insert_event(cur: Any, n: int, user_id: str | None, anonymous_id: str | None, type_: str,
                 event: str, at: datetime, properties: dict) -> None:
    cur.execute("""INSERT INTO events (message_id, message_key, type, event, user_id,
                   anonymous_id, source, timestamp, received_at, properties)
                   VALUES (?, ?, ?, ?, ?, ?, 'test', ?, ?, ?)""",
                [f"m{n}", n, type_, event, user_id, anonymous_id, at, at,
                 json.dumps(properties)])


@pytest.fixture
def engine() -> Any:
    """A store with the profiles and events above and the scope tables on its cursor."""
    eng = DuckDBEngine(":memory:")
    cur = eng.cursor()
    for pid, records in RECORDS.items():
        cur.execute("INSERT INTO profiles (profile_id, record, identified, records) "
                    "VALUES (?, ?, true, ?)", [pid, records[0], len(records)])
        for record in records:
            cur.execute("INSERT INTO identity_profiles VALUES (?, ?, ?)", [record, pid, pid])
    for n, e in enumerate(EVENTS):
        insert_event(cur, n, *e)
    build_scope(cur)
    yield eng
    eng.close()


def trait(**fields: Any) -> TraitDefinition:
    return parse({"name": "t", **fields})


def values(engine: Any, as_of: datetime = AS_OF, **fields: Any) -> dict[str, Any]:
    """Compute one definition over the scope; {profile: value}."""
    defn = trait(**fields)
    cur = engine.cursor()
    compute(cur, [defn], as_of)
    rows = cur.execute("SELECT profile_id, value_num, value_text FROM custom_trait_values "
                       "WHERE trait = ? ORDER BY profile_id", [defn.name]).fetchall()
    return {pid: num if num is not None else text for pid, num, text in rows}


# -- aggregates on each source ----------------------------------------------------------------

def test_count_of_completed_orders_up_to_the_moment(engine):
    # O7 is a second after as_of; refunded and cancelled orders are left out.
    assert values(engine, source="orders", aggregate="count") == {"p1": 2, "p2": 2}


@pytest.mark.parametrize("aggregate,expected", [
    ("sum", {"p1": 1_500_000, "p2": 2_100_000}),
    ("avg", {"p1": 750_000, "p2": 1_050_000}),
    ("min", {"p1": 500_000, "p2": 100_000}),
    ("max", {"p1": 1_000_000, "p2": 2_000_000}),
    ("distinct", {"p1": 2, "p2": 2}),
    ("most_frequent", {"p1": "1000000", "p2": "100000"}),
])
def test_each_aggregate_of_order_totals(engine, aggregate, expected):
    assert values(engine, source="orders", aggregate=aggregate, property="total") == expected


def test_revenue_from_ecco_in_the_last_365_days(engine):
    # O1's ECCO line, and O2's: 2025-07-01 12:00 is 364 days before as_of, inside 365
    # days but on the excluded edge of a 364-day window. O3's ECCO line was refunded.
    got = values(engine, source="order_lines", aggregate="sum", property="amount",
                 filters=[{"property": "brand", "op": "=", "value": "ECCO"}], window_days=365)
    assert got == {"p1": 1_300_000}
    got = values(engine, source="order_lines", aggregate="sum", property="amount",
                 filters=[{"property": "brand", "op": "=", "value": "ECCO"}], window_days=364)
    assert got == {"p1": 800_000}


def test_line_aggregates(engine):
    lines = {"source": "order_lines"}
    assert values(engine, **lines, aggregate="count") == {"p1": 3, "p2": 3}
    assert values(engine, **lines, aggregate="sum", property="quantity") == {"p1": 4, "p2": 5}
    # O6's sock line: 3 x 10.000 - 30.000 = 0, a real value.
    assert values(engine, **lines, aggregate="min", property="amount") == {"p1": 200_000,
                                                                           "p2": 0}
    assert values(engine, **lines, aggregate="distinct", property="brand") == {"p1": 2,
                                                                               "p2": 2}
    assert values(engine, **lines, aggregate="min", property="brand") == {"p1": "Biti's",
                                                                          "p2": "Aldo"}
    assert values(engine, **lines, aggregate="max", property="colour") == {"p1": "Đen",
                                                                           "p2": "Đỏ"}


def test_first_and_last_purchase_time_as_text(engine):
    got = values(engine, source="orders", aggregate="max", property="ordered_at",
                 filters=[{"property": "channel", "op": "=", "value": "web"}])
    assert got == {"p1": "2025-07-01 12:00:00"}
    assert trait(source="orders", aggregate="max", property="ordered_at").result_type == "text"
    got = values(engine, source="orders", aggregate="min", property="ordered_at")
    assert got == {"p1": "2025-07-01 12:00:00", "p2": "2026-01-15 08:00:00"}


def test_events_are_joined_through_every_record_of_the_profile(engine):
    # p1's anonymous view (a:x1) counts; a page call, another event, a later event, an
    # out-of-scope profile and an unknown record do not.
    views = {"source": "events", "event": "Product Viewed"}
    assert values(engine, **views, aggregate="count") == {"p1": 3, "p2": 1}
    assert values(engine, **views, aggregate="sum", property="price") == {"p1": 1_800_000.5}
    assert values(engine, **views, aggregate="max", property="price") == {"p1": 900_000.5}
    assert values(engine, **views, aggregate="min", property="price") == {"p1": 100_000}
    assert values(engine, **views, aggregate="avg", property="price") == \
        pytest.approx({"p1": 1_800_000.5 / 3})
    assert values(engine, **views, aggregate="distinct", property="product.brand") == \
        {"p1": 2, "p2": 1}
    assert values(engine, **views, aggregate="most_frequent", property="product.brand") == \
        {"p1": "ECCO", "p2": "Vascara"}
    assert values(engine, **views, aggregate="max", property="timestamp") == \
        {"p1": "2026-06-29 09:00:00", "p2": "2026-06-01 09:00:00"}


def test_result_types():
    assert trait(source="orders", aggregate="count").result_type == "number"
    assert trait(source="orders", aggregate="distinct", property="coupon").result_type == \
        "number"
    assert trait(source="order_lines", aggregate="max", property="brand").result_type == "text"
    assert trait(source="order_lines", aggregate="max", property="price").result_type == \
        "number"
    assert trait(source="events", event="e", aggregate="max", property="x").result_type == \
        "number"
    assert trait(source="orders", aggregate="most_frequent",
                 property="total").result_type == "text"


# -- most frequent: ties and nulls -------------------------------------------------------------

def test_most_frequent_tie_goes_to_the_most_recent(engine):
    # p2 bought Aldo in January and Biti's on as_of: one each, Biti's is more recent
    # (and NULL and empty brands are not values).
    got = values(engine, source="order_lines", aggregate="most_frequent", property="brand")
    assert got["p2"] == "Biti's"
    got = values(engine, source="order_lines", aggregate="most_frequent", property="size")
    assert got == {"p1": "38", "p2": "40"}


def test_most_frequent_tie_at_the_same_moment_goes_alphabetically(engine):
    # O1 holds one ECCO and one Biti's line at the same moment.
    got = values(engine, source="order_lines", aggregate="most_frequent", property="brand",
                 window_days=30)
    assert got == {"p1": "Biti's", "p2": "Biti's"}
    got = values(engine, source="order_lines", aggregate="most_frequent", property="colour",
                 window_days=30)
    assert got == {"p1": "Trắng"}  # Đen vs Trắng: "T" sorts before "Đ"


def test_nulls_are_skipped_and_empty_results_store_nothing(engine):
    # p2's only Vascara view has price null: no sum, so no value at all.
    got = values(engine, source="events", event="Product Viewed", aggregate="sum",
                 property="price", filters=[{"property": "product.brand", "op": "=",
                                             "value": "Vascara"}])
    assert got == {}
    # Coupons: SALE10 (p1), VIP and "" (p2) -> "" is not a value.
    assert values(engine, source="orders", aggregate="distinct", property="coupon") == \
        {"p1": 1, "p2": 1}
    assert values(engine, source="events", event="Never Sent", aggregate="count") == {}


# -- filters ----------------------------------------------------------------------------------

LINE_COUNT = {"source": "order_lines", "aggregate": "count"}


@pytest.mark.parametrize("flt,expected", [
    ({"property": "brand", "op": "=", "value": "ECCO"}, {"p1": 2}),
    ({"property": "brand", "op": "!=", "value": "ECCO"}, {"p1": 1, "p2": 3}),
    ({"property": "price", "op": "<", "value": 100_000}, {"p2": 1}),
    ({"property": "price", "op": "<=", "value": 100_000}, {"p1": 1, "p2": 2}),
    ({"property": "price", "op": ">", "value": 800_000}, {"p2": 1}),
    ({"property": "price", "op": ">=", "value": 800_000}, {"p1": 1, "p2": 1}),
    ({"property": "amount", "op": "=", "value": 0}, {"p2": 1}),
    ({"property": "brand", "op": "in", "value": ["ECCO", "Aldo"]}, {"p1": 2, "p2": 1}),
    ({"property": "brand", "op": "not_in", "value": ["ECCO", "Aldo"]}, {"p1": 1, "p2": 2}),
    ({"property": "quantity", "op": "in", "value": [2, 3.0]}, {"p1": 1, "p2": 1}),
    ({"property": "brand", "op": "contains", "value": "cc"}, {"p1": 2}),
    ({"property": "name", "op": "contains", "value": "GIÀY"}, {"p1": 2}),
    ({"property": "brand", "op": "starts_with", "value": "bi"}, {"p1": 1, "p2": 1}),
    ({"property": "size", "op": "is_set"}, {"p1": 3, "p2": 1}),
    ({"property": "size", "op": "is_not_set"}, {"p2": 2}),
    ({"property": "colour", "op": "is_not_set"}, {"p2": 2}),
])
def test_each_filter_operator(engine, flt, expected):
    assert values(engine, **LINE_COUNT, filters=[flt]) == expected


def test_filters_on_event_properties(engine):
    views = {"source": "events", "event": "Product Viewed", "aggregate": "count"}
    brand = {"property": "product.brand"}
    assert values(engine, **views, filters=[{**brand, "op": "=", "value": "ECCO"}]) == {"p1": 2}
    assert values(engine, **views, filters=[{**brand, "op": "!=", "value": "ECCO"}]) == \
        {"p1": 1, "p2": 1}
    # A price sent as text ("100000") compares as a number too.
    assert values(engine, **views, filters=[{"property": "price", "op": "<=",
                                             "value": 100000}]) == {"p1": 1}
    assert values(engine, **views, filters=[{"property": "price", "op": "=",
                                             "value": 100000}]) == {"p1": 1}
    assert values(engine, **views, filters=[{"property": "on_sale", "op": "=",
                                             "value": True}]) == {"p1": 1}
    assert values(engine, **views, filters=[{"property": "on_sale", "op": "=",
                                             "value": False}]) == {"p2": 1}
    assert values(engine, **views, filters=[{"property": "price", "op": "is_not_set"}]) == \
        {"p2": 1}
    assert values(engine, **views, filters=[{**brand, "op": "in",
                                             "value": ["Biti's", "Vascara"]}]) == \
        {"p1": 1, "p2": 1}
    assert values(engine, **views, filters=[{**brand, "op": "starts_with", "value": "e"},
                                            {"property": "price", "op": ">",
                                             "value": 850000}]) == {"p1": 1}


def test_statuses(engine):
    orders = {"source": "orders", "aggregate": "sum", "property": "total"}
    assert values(engine, **orders, statuses=["refunded"]) == {"p1": 300_000}
    assert values(engine, **orders, statuses=["refunded", "cancelled"]) == {"p1": 500_000}
    assert values(engine, **orders, statuses=["completed", "refunded", "cancelled"]) == \
        {"p1": 2_000_000, "p2": 2_100_000}
    assert values(engine, source="order_lines", aggregate="count",
                  statuses=["refunded"]) == {"p1": 1}


# -- time windows -----------------------------------------------------------------------------

def test_window_days_boundaries_are_exclusive_then_inclusive(engine):
    # O2 is at 2025-07-01 12:00, exactly 364 days before as_of: outside a 364-day window
    # (as_of - 364 days is excluded), inside one a second longer.
    count = {"source": "orders", "aggregate": "count"}
    assert values(engine, **count, window_days=364) == {"p1": 1, "p2": 2}
    assert values(engine, AS_OF + timedelta(seconds=-1), **count, window_days=364) == \
        {"p1": 2, "p2": 1}
    # O6 is exactly at as_of: in. O7 is a second later: out until as_of moves.
    assert values(engine, **count, window_days=1) == {"p2": 1}
    assert values(engine, AS_OF + timedelta(seconds=1), **count, window_days=1) == \
        {"p2": 1, "p3": 1}


def test_since_and_until_are_whole_days(engine):
    count = {"source": "orders", "aggregate": "count"}
    assert values(engine, **count, since="2026-01-15", until="2026-06-01") == {"p1": 1,
                                                                               "p2": 1}
    assert values(engine, **count, since=date(2026, 1, 16)) == {"p1": 1, "p2": 1}
    assert values(engine, **count, until="2025-07-01") == {"p1": 1}
    assert values(engine, **count, until="2025-06-30") == {}


def test_an_aware_as_of_is_read_as_utc(engine):
    from zoneinfo import ZoneInfo

    local = AS_OF.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert values(engine, local, source="orders", aggregate="count", window_days=1) == \
        {"p2": 1}


# -- scope ------------------------------------------------------------------------------------

def test_only_the_scope_is_recomputed(engine):
    cur = engine.cursor()
    cur.execute("INSERT INTO custom_trait_values VALUES ('p5', 'orders_n', 9, NULL), "
                "('p1', 'orders_n', 99, NULL), ('p1', 'gone', 1, NULL), "
                "('p_merged_away', 'orders_n', 3, NULL)")
    build_scope(cur, ("p1",))
    got = compute(cur, [trait(name="orders_n", source="orders", aggregate="count")], AS_OF)
    assert got == {"orders_n": 1}
    rows = cur.execute("SELECT profile_id, trait, value_num FROM custom_trait_values "
                       "ORDER BY ALL").fetchall()
    # p1 was recomputed (its old rows of every trait went); p5 is outside the scope and
    # kept, and so is a profile merged away until the next full run.
    assert rows == [("p1", "orders_n", 2.0), ("p5", "orders_n", 9.0),
                    ("p_merged_away", "orders_n", 3.0)]
    build_scope(cur, tuple(RECORDS))
    compute(cur, [trait(name="orders_n", source="orders", aggregate="count")], AS_OF)
    rows = cur.execute("SELECT profile_id FROM custom_trait_values ORDER BY ALL").fetchall()
    assert rows == [("p1",), ("p2",)]


def test_compute_returns_counts_for_several_definitions(engine):
    defs = [trait(name="n_orders", source="orders", aggregate="count"),
            trait(name="n_views", source="events", event="Product Viewed", aggregate="count"),
            trait(name="top_brand", source="order_lines", aggregate="most_frequent",
                  property="brand")]
    assert compute(engine.cursor(), defs, AS_OF) == {"n_orders": 2, "n_views": 2,
                                                     "top_brand": 2}


# -- SQL and its parameters -------------------------------------------------------------------

def test_the_sql_binds_every_value():
    defn = trait(source="events", event="Product Viewed", aggregate="sum", property="price",
                 filters=[{"property": "product.brand", "op": "in", "value": ["ECCO"]},
                          {"property": "sku", "op": "contains", "value": "x"}],
                 window_days=30)
    sql, params = compile_sql(defn, AS_OF)
    assert sql.count("?") == len(params)
    for word in ("Product Viewed", "price", "product.brand", "ECCO"):
        assert word not in sql
    assert params[0] == "$.price" and params[1] == "Product Viewed"


def _stored(s: str) -> bool:
    return "\x00" not in s


@functools.cache
def _fuzz_engine() -> Any:
    eng = DuckDBEngine(":memory:")
    build_scope(eng.cursor(), ())
    return eng


SNEAKY = st.one_of(st.text(min_size=1, max_size=40).filter(_stored),
                   st.sampled_from(["'; DROP TABLE orders; --", "%", "_", "\\", "?", "$1",
                                    "' OR '1'='1", "Biti's", "\"", "Đồng hồ 🕰", "a\nb"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=SNEAKY, op=st.sampled_from(["=", "contains", "starts_with", "in", "!="]))
def test_values_never_change_the_sql_and_match_literally(value, op):
    def defn(v: str) -> TraitDefinition:
        return trait(source="order_lines", aggregate="count",
                     filters=[{"property": "brand", "op": op,
                               "value": [v] if op == "in" else v}])

    sql, params = compile_sql(defn(value), AS_OF)
    assert sql == compile_sql(defn("plain"), AS_OF)[0]
    assert sql.count("?") == len(params)
    cur = _fuzz_engine().cursor()
    cur.execute("DELETE FROM _trait_lines")
    cur.execute("DELETE FROM custom_trait_values")
    for pid, brand in (("exact", value), ("around", f"«{value}»"), ("other", "zz-other")):
        cur.execute("INSERT INTO _trait_lines (profile_id, ordered_at, status, brand) "
                    "VALUES (?, ?, 'completed', ?)", [pid, AS_OF, brand])
    got = dict(cur.execute(f"SELECT profile_id, value_num FROM ({sql})", params).fetchall())
    found = {p for p, v in got.items() if v}
    expected = {"=": {"exact"}, "in": {"exact"}, "!=": {"around", "other"},
                "contains": {"exact", "around"}, "starts_with": {"exact"}}[op]
    # A value that also occurs in the surrounding text would find more rows.
    assume(op not in ("contains", "starts_with") or value.lower() not in "«»zz-other")
    assert found == expected
    assert cur.execute("SELECT count(*) FROM orders").fetchall() == [(0,)]


# -- rules and their messages -----------------------------------------------------------------

@pytest.mark.parametrize("fields,field,words", [
    ({"name": "Revenue ECCO"}, "name", "lower-case"),
    ({"name": "1st"}, "name", "starting with a letter"),
    ({"name": "a" * 64}, "name", "63"),
    ({"name": "spend"}, "name", "built-in"),
    ({"name": "rfm_group"}, "name", "built-in"),
    ({"source": "events", "event": None}, "event", "event's name"),
    ({"source": "events", "event": "  "}, "event", "event's name"),
    ({"event": "Product Viewed"}, "event", "only traits over events"),
    ({"property": "total"}, "property", "takes no property"),
    ({"aggregate": "sum"}, "property", "needs a property"),
    ({"aggregate": "sum", "property": "revenue"}, "property", "have no property 'revenue'"),
    ({"aggregate": "sum", "property": "coupon"}, "property", "adds up numbers"),
    ({"aggregate": "avg", "property": "ordered_at"}, "property", "a time"),
    ({"source": "events", "event": "x", "aggregate": "sum", "property": "a b"}, "property",
     "not an event property"),
    ({"source": "events", "event": "x", "aggregate": "sum", "property": "$.a"}, "property",
     "not an event property"),
    ({"source": "events", "event": "x", "aggregate": "sum", "property": "a')"}, "property",
     "not an event property"),
    ({"source": "events", "event": "x", "statuses": ["completed"]}, "statuses",
     "only traits over orders"),
    ({"statuses": []}, "statuses", "at least one"),
    ({"statuses": ["paid"]}, "statuses[0]", "completed"),
    ({"window_days": 0}, "window_days", "from 1 to 36500"),
    ({"window_days": 30, "since": "2026-01-01"}, "window_days", "not both"),
    ({"since": "2026-02-01", "until": "2026-01-01"}, "until", "before since"),
    ({"window_days": "30"}, "window_days", "valid integer"),
    ({"aggregate": "median"}, "aggregate", "'most_frequent'"),
    ({"source": "crm"}, "source", "'order_lines'"),
    ({"colour": "red"}, "colour", "not a field"),
    ({"label": "x" * 201}, "label", "under 200"),
])
def test_invalid_definitions_name_the_field(fields, field, words):
    data = {"name": "t", "source": "orders", "aggregate": "count", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        parse(data)
    assert caught.value.field == field
    assert words in caught.value.message
    assert caught.value.message.startswith(field)


@pytest.mark.parametrize("flt,field,words", [
    ({"property": "nope", "value": 1}, "filters[0].property", "one of"),
    ({"property": "ordered_at", "op": ">", "value": 1}, "filters[0].property", "window_days"),
    ({"property": "brand"}, "filters[0].value", "needs a value"),
    ({"property": "brand", "value": ""}, "filters[0].value", "is_not_set"),
    ({"property": "brand", "op": "in", "value": ["a", ""]}, "filters[0].value", "empty"),
    ({"property": "brand", "op": "is_set", "value": "x"}, "filters[0].value", "no value"),
    ({"property": "brand", "op": "in", "value": "ECCO"}, "filters[0].value", "list"),
    ({"property": "brand", "op": "in", "value": []}, "filters[0].value", "list"),
    ({"property": "brand", "value": ["ECCO"]}, "filters[0].value", "use in"),
    ({"property": "price", "op": ">", "value": "1.000.000"}, "filters[0].value",
     "compares numbers"),
    ({"property": "price", "op": "=", "value": "100000"}, "filters[0].value", "is a number"),
    ({"property": "size", "op": "=", "value": 38}, "filters[0].value", "in quotes"),
    ({"property": "brand", "op": "contains", "value": 1}, "filters[0].value", "text"),
    ({"property": "brand", "op": "in", "value": ["a", 1]}, "filters[0].value", "mixes"),
    ({"property": "price", "op": ">", "value": float("nan")}, "filters[0].value", "finite"),
    ({"property": "brand", "op": "like", "value": "x"}, "filters[0].op", "'starts_with'"),
    ({"property": "brand", "value": "x", "extra": 1}, "filters[0].extra", "property, op"),
])
def test_invalid_filters_name_the_filter(flt, field, words):
    with pytest.raises(ValidationError) as caught:
        parse({"name": "t", "source": "order_lines", "aggregate": "count", "filters": [flt]})
    assert caught.value.field == field
    assert words in caught.value.message


def test_builtin_names_are_the_profile_traits_columns(engine):
    columns = [r[1] for r in engine.execute("PRAGMA table_info('profile_traits')").fetchall()]
    assert list(custom.BUILTIN_NAMES) == columns
    assert "favourite_brand" in custom.BUILTIN_NAMES


def test_public_api():
    assert set(custom.__all__) == {
        "BUILTIN_NAMES", "COLUMNS", "Filter", "Preview", "TraitDefinition", "apply_yaml",
        "compile_sql", "compute", "compute_one", "counts", "definitions", "definitions_on",
        "delete", "get", "load_yaml", "parse", "preview", "save"}


# -- storage and YAML -------------------------------------------------------------------------

ECCO = {"name": "ecco_revenue_365d", "label": "Doanh số ECCO 365 ngày", "source": "order_lines",
        "aggregate": "sum", "property": "amount",
        "filters": [{"property": "brand", "op": "=", "value": "ECCO"}], "window_days": 365}


def test_save_keeps_the_creation_and_drops_values_of_a_changed_definition(engine):
    defn = parse(ECCO)
    custom.save(engine, defn, "lan")
    first = engine.execute("SELECT created_at, created_by, updated_at FROM trait_definitions"
                           ).fetchall()
    engine.execute("INSERT INTO custom_trait_values VALUES ('p1', 'ecco_revenue_365d', 1, "
                   "NULL)")
    custom.save(engine, defn, "minh")  # the same definition: its values stay
    assert custom.counts(engine) == {"ecco_revenue_365d": 1}
    changed = parse({**ECCO, "window_days": 30})
    custom.save(engine, changed, "minh")
    [(created, by, updated)] = engine.execute(
        "SELECT created_at, created_by, updated_at FROM trait_definitions").fetchall()
    assert (created, by) == first[0][:2] and updated >= first[0][2]
    assert custom.definitions(engine) == [changed]
    assert custom.get(engine, "ecco_revenue_365d").window_days == 30
    assert custom.counts(engine) == {}


def test_delete_removes_the_values_too(engine):
    custom.save(engine, parse(ECCO), "lan")
    engine.execute("INSERT INTO custom_trait_values VALUES ('p1', 'ecco_revenue_365d', 1, "
                   "NULL), ('p1', 'other', 2, NULL)")
    custom.delete(engine, "ecco_revenue_365d")
    assert custom.definitions(engine) == []
    assert custom.counts(engine) == {"other": 1}
    with pytest.raises(NotFoundError):
        custom.delete(engine, "ecco_revenue_365d")
    with pytest.raises(NotFoundError):
        custom.get(engine, "ecco_revenue_365d")


YAML = """
traits:
  - name: ecco_revenue_365d
    label: Doanh số ECCO 365 ngày
    source: order_lines
    aggregate: sum
    property: amount
    filters:
      - {property: brand, op: "=", value: ECCO}
    window_days: 365
  - name: views_30d
    source: events
    event: Product Viewed
    aggregate: count
    since: 2026-06-01
"""


def test_yaml_definitions_are_applied(engine, tmp_path):
    path = tmp_path / "traits.yaml"
    path.write_text(YAML, encoding="utf-8")
    saved = custom.apply_yaml(engine, path, "admin")
    assert [d.name for d in saved] == ["ecco_revenue_365d", "views_30d"]
    assert saved[0] == parse(ECCO)
    assert saved[1].since == date(2026, 6, 1)
    assert custom.definitions(engine) == saved


@pytest.mark.parametrize("text,field,words", [
    ("traits:\n  - {name: a, source: orders, aggregate: sum}\n", "traits[0].property",
     "needs a property"),
    ("traits:\n  - {name: a, source: orders, aggregate: count}\n"
     "  - {name: b, source: orders, aggregate: count, window_days: -1}\n",
     "traits[1].window_days", "from 1"),
    ("traits:\n  - {name: a, source: orders, aggregate: count}\n"
     "  - {name: a, source: orders, aggregate: count}\n", "traits[1].name", "twice"),
    ("traits:\n  - {name: a, source: orders, aggregate: count, filters: [{property: x}]}\n",
     "traits[0].filters[0].property", "one of"),
    ("traits:\n  - {name: a, source: orders}\n", "traits[0].aggregate", "required"),
    ("traits:\n  - just a string\n", "traits[0]", "mapping"),
    ("- {name: a}\n", "traits", "one key"),
    ("traits: {name: a}\n", "traits", "one key"),
    ("trait:\n  - {name: a}\n", "traits", "one key"),
])
def test_invalid_yaml_names_the_item_and_field(tmp_path, engine, text, field, words):
    path = tmp_path / "traits.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        custom.apply_yaml(engine, path, "admin")
    assert caught.value.field == field
    assert words in caught.value.message
    assert custom.definitions(engine) == []  # nothing saved when one item is wrong


def test_unreadable_yaml(tmp_path):
    with pytest.raises(ConfigError):
        custom.load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("traits: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Cannot read"):
        custom.load_yaml(bad)


# -- through the real runner ------------------------------------------------------------------

def store_orders(engine: Any) -> None:
    """ORDERS and LINES as the store's own tables, for the runner's prepare_scope."""
    users = {pid: records[0][2:] for pid, records in RECORDS.items()}
    for pid, oid, source, channel, store, at, status, total, coupon, items in ORDERS:
        engine.execute("""INSERT INTO orders (order_id, message_id, source, channel,
                          store_code, user_id, ordered_at, status, total, coupon, item_count)
                          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                       [oid, oid, source, channel, store, users[pid], at, status, total,
                        coupon, items])
    for n, (oid, product, brand, category, size, colour, qty, price, discount) in \
            enumerate(LINES):
        engine.execute("""INSERT INTO order_items (order_id, line_no, product_id, brand,
                          category, size, colour, quantity, price, discount)
                          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                       [oid, n, product, brand, category, size, colour, qty, price, discount])


def test_compute_one_and_preview_use_the_runners_scope(engine):
    store_orders(engine)
    custom.save(engine, parse(ECCO), "lan")
    engine.execute("INSERT INTO custom_trait_values VALUES ('p9', 'ecco_revenue_365d', 5, "
                   "NULL), ('p5', 'other', 1, NULL)")
    assert custom.compute_one(engine, "ecco_revenue_365d", AS_OF) == 1
    rows = engine.execute("SELECT * FROM custom_trait_values ORDER BY ALL").fetchall()
    assert rows == [("p1", "ecco_revenue_365d", 1_300_000.0, None), ("p5", "other", 1.0, None)]
    shown = custom.preview(engine, parse({**ECCO, "window_days": 364}), AS_OF)
    assert (shown.profiles, shown.samples) == (1, [("p1", 800_000.0)])
    top = custom.preview(engine, parse({"name": "x", "source": "orders", "aggregate": "sum",
                                        "property": "total"}), AS_OF, limit=1)
    assert (top.profiles, top.samples) == (2, [("p2", 2_100_000.0)])
    # Nothing was written by the previews, and no scope table is left behind.
    assert engine.execute("SELECT count(*) FROM custom_trait_values").fetchall() == [(2,)]
    with pytest.raises(NotFoundError):
        custom.compute_one(engine, "nope", AS_OF)


def test_compute_one_defaults_to_the_last_runs_moment(engine):
    store_orders(engine)
    engine.execute("INSERT INTO trait_runs VALUES (?, ?, 'full', 5, 1.0, NULL)",
                   [datetime(2026, 7, 1), AS_OF - 200 * DAY])
    custom.save(engine, parse({"name": "n", "source": "orders", "aggregate": "count",
                               "window_days": 365}), None)
    assert custom.compute_one(engine, "n") == 1  # as of mid-December 2025: only O2
    assert custom.preview(engine, custom.get(engine, "n")).as_of == AS_OF - 200 * DAY


def test_a_refresh_computes_the_stored_definitions(engine):
    store_orders(engine)
    custom.save(engine, parse(ECCO), "lan")
    custom.save(engine, parse({"name": "views", "source": "events", "event": "Product Viewed",
                               "aggregate": "count"}), "lan")
    runner.refresh(engine, as_of=AS_OF)
    rows = engine.execute("SELECT profile_id, trait, value_num FROM custom_trait_values "
                          "ORDER BY ALL").fetchall()
    assert rows == [("p1", "ecco_revenue_365d", 1_300_000.0), ("p1", "views", 3.0),
                    ("p2", "views", 1.0), ("p5", "views", 1.0)]
