"""The same Ibis expressions on DuckDB and on Spark give the same answers.

Six profiles' traits and events are written by hand, with the edges where
engines differ: NULLs, an empty list, letters with and without diacritics and
in both cases, a purchase a microsecond before midnight, a JSON property that
holds a number as text. Each case is an expression over the backend's tables
and the rows it must return; ``both_backends`` runs it on each engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import pytest

from sen.errors import StoreError
from sen.segments import backends
from sen.store.analytics import DuckDBEngine
from tests.traits.shop import Shop

AS_OF = datetime(2026, 6, 30)
PROFILE_EVENTS = """
    CREATE TABLE IF NOT EXISTS profile_events (
        profile_id VARCHAR NOT NULL, event VARCHAR NOT NULL, timestamp TIMESTAMP NOT NULL,
        source VARCHAR, channel VARCHAR, campaign_id VARCHAR, journey_id VARCHAR,
        properties JSON, record VARCHAR NOT NULL, event_rowid BIGINT NOT NULL
    )
"""

# profile: orders, spend, aov, last purchase, province, age, channels, brand, returns rate
TRAITS: dict[str, tuple[Any, ...]] = {
    "p1": (4, 6_500_000, 1_625_000, datetime(2026, 6, 25, 10), "Hà Nội", 35,
           ["app", "store", "web"], "Vela Saigon", 0.25),
    "p2": (0, 0, None, None, "TP. Hồ Chí Minh", None, [], None, None),
    "p3": (1, 900_000, 900_000, datetime(2026, 6, 20), "Đà Nẵng", 18, ["marketplace"],
           "mira", 0.0),
    "p4": (2, 2_000_000, 1_000_000, datetime(2026, 3, 1), "Đà Nẵng", 60, None, "Mira", 0.5),
    "p5": (3, 3_000_001, 1_000_000, datetime(2026, 6, 29, 23, 59, 59, 999_999), "hà nội", 25,
           ["web"], "Ánh", 0.0),
    "p6": (1, 150_000, 150_000, datetime(2025, 12, 31, 23, 59, 59), None, 41, ["store"],
           "Zed", 1.0),
}
BIRTHS = {"p1": date(1991, 6, 30), "p3": date(2008, 2, 29), "p4": date(1966, 6, 1),
          "p6": date(1985, 1, 15)}
EVENTS = (  # profile, event, when, properties
    ("p1", "Product Viewed", datetime(2026, 6, 28), {"brand": "Mira", "price": 800_000}),
    ("p1", "Product Viewed", datetime(2026, 6, 29), {"brand": "Mira", "price": 900_000.5}),
    ("p1", "Product Viewed", datetime(2026, 6, 29, 5), {"brand": "Vela Saigon",
                                                        "price": 2_000_000}),
    ("p2", "Product Viewed", datetime(2026, 5, 1), {"brand": "Mira", "price": "500000"}),
    ("p3", "Product Added", datetime(2026, 6, 25), {"brand": "Mira",
                                                    "product": {"category": "Túi xách"}}),
    ("p3", "Product Viewed", datetime(2026, 6, 23), {"brand": "O'Neil \"x\"", "price": 10}),
    ("p4", "Message Clicked", datetime(2026, 6, 27), {"channel": "zalo", "tags": ["a", "b"]}),
    ("p5", "Product Viewed", datetime(2026, 6, 30), {"brand": None, "price": 1_000}),
)
EVERYONE = set(TRAITS)


def build_store(path: Path) -> DuckDBEngine:
    shop = Shop(path)
    for pid in TRAITS:
        shop.customer(pid, f"u:{pid}", birth_date=BIRTHS.get(pid))
    shop.order("u:p1", datetime(2026, 6, 25, 10), 1_500_000)
    shop.order("u:p1", datetime(2026, 1, 5), 5_000_000)
    shop.order("u:p4", datetime(2026, 3, 1), 2_000_000, status="refunded")
    cur = shop.cur
    for pid, (orders, spend, aov, last, province, age, channels, brand, rate) in TRAITS.items():
        cur.execute("""
            INSERT INTO profile_traits (profile_id, as_of, computed_at, orders, spend, aov,
                orders_12m, spend_12m, items, last_purchase_at, province, age, channels,
                omnichannel, favourite_brand, returned_orders, returns_rate)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, 0, ?)
        """, [pid, AS_OF, AS_OF, orders, spend, aov, orders, spend, last, province, age,
              channels, len(channels or []) > 1, brand, rate])
    cur.execute(PROFILE_EVENTS)
    for n, (pid, event, at, props) in enumerate(EVENTS):
        cur.execute("INSERT INTO profile_events VALUES (?, ?, ?, 'test', ?, NULL, NULL, ?, ?, ?)",
                    [pid, event, at, props.get("channel"), json.dumps(props), f"u:{pid}", n])
    cur.execute("INSERT INTO segment_members VALUES ('vip', 'p1'), ('vip', 'p6'), "
                "('lapsed', 'p4')")
    return shop.engine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    engine = build_store(tmp_path_factory.mktemp("backends") / "sen.duckdb")
    yield engine
    engine.close()


def traits(b: Any) -> Any:
    return b.table("profile_traits")


def events(b: Any) -> Any:
    return b.table("profile_events")


def where(pred: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The ids of the profiles whose traits meet ``pred``."""
    return lambda b: traits(b).filter(pred(traits(b))).select("profile_id")


def _semi(b: Any) -> Any:
    t, ev = traits(b), events(b)
    return t.filter(t.profile_id.isin(ev.filter(ev.event == "Product Viewed").profile_id))


def _anti(b: Any) -> Any:
    t, ev = traits(b), events(b)
    return t.filter(~t.profile_id.isin(ev.filter(ev.event == "Product Viewed").profile_id))


def _within(days: int) -> Callable[[Any], Any]:
    moment, span = ibis.literal(AS_OF), ibis.interval(days=days)
    return where(lambda t: (t.last_purchase_at >= moment - span)
                 & (t.last_purchase_at <= moment + span))


def _prop(path: str, kind: str) -> Callable[[Any], Any]:
    def build(b: Any) -> Any:
        ev = events(b)
        node = ev.properties
        for part in path.split("."):
            node = node[part]
        return ev.select("event_rowid", v=node.unwrap_as(kind))
    return build


MEMBERS: list[tuple[str, Callable[[Any], Any], set[str]]] = [
    ("eq", where(lambda t: t.orders == 1), {"p3", "p6"}),
    ("ne", where(lambda t: t.orders != 1), {"p1", "p2", "p4", "p5"}),
    ("lt", where(lambda t: t.spend < 900_000), {"p2", "p6"}),
    ("le", where(lambda t: t.spend <= 900_000), {"p2", "p3", "p6"}),
    ("gt", where(lambda t: t.spend > 3_000_000), {"p1", "p5"}),
    ("ge", where(lambda t: t.spend >= 3_000_001), {"p1", "p5"}),
    ("ne skips null", where(lambda t: t.age != 35), {"p3", "p4", "p5", "p6"}),
    ("not skips null", where(lambda t: ~(t.age > 30)), {"p3", "p5"}),
    ("two-valued not", where(lambda t: ~(t.age > 30).fill_null(False)), {"p2", "p3", "p5"}),
    ("float compare", where(lambda t: t.returns_rate >= 0.5), {"p4", "p6"}),
    ("between", where(lambda t: t.spend.between(900_000, 3_000_000)), {"p3", "p4"}),
    ("between dates", where(lambda t: t.last_purchase_at.between(
        datetime(2026, 6, 20), datetime(2026, 6, 25, 10))), {"p1", "p3"}),
    ("isin", where(lambda t: t.province.isin(["Hà Nội", "Đà Nẵng"])), {"p1", "p3", "p4"}),
    ("notin skips null", where(lambda t: t.province.notin(["Hà Nội", "Đà Nẵng"])),
     {"p2", "p5"}),
    ("text equality is exact", where(lambda t: t.favourite_brand == "Mira"), {"p4"}),
    ("lower folds diacritics' case", where(lambda t: t.province.lower() == "hà nội"),
     {"p1", "p5"}),
    ("contains", where(lambda t: t.favourite_brand.contains("ir")), {"p3", "p4"}),
    ("contains any case", where(lambda t: t.favourite_brand.lower().contains("mi")),
     {"p3", "p4"}),
    ("startswith", where(lambda t: t.favourite_brand.startswith("M")), {"p4"}),
    ("startswith diacritic", where(lambda t: t.province.startswith("Đ")), {"p3", "p4"}),
    ("text order is by code point", where(lambda t: t.favourite_brand > "Vela"),
     {"p1", "p3", "p5", "p6"}),
    ("isnull", where(lambda t: t.aov.isnull()), {"p2"}),
    ("notnull", where(lambda t: t.age.notnull()), EVERYONE - {"p2"}),
    ("null list", where(lambda t: t.channels.isnull()), {"p4"}),
    ("within 5 days", _within(5), {"p1", "p5"}),
    ("within 10 days", _within(10), {"p1", "p3", "p5"}),
    ("more than 90 days ago", where(
        lambda t: t.last_purchase_at < ibis.literal(AS_OF) - ibis.interval(days=90)),
     {"p4", "p6"}),
    ("to the microsecond", where(
        lambda t: t.last_purchase_at == datetime(2026, 6, 29, 23, 59, 59, 999_999)), {"p5"}),
    ("day of a timestamp", where(lambda t: t.last_purchase_at.date() == date(2026, 6, 29)),
     {"p5"}),
    ("year of a timestamp", where(lambda t: t.last_purchase_at.year() == 2025), {"p6"}),
    ("list contains", where(lambda t: t.channels.contains("web")), {"p1", "p5"}),
    ("list does not contain", where(lambda t: ~t.channels.contains("web").fill_null(False)),
     {"p2", "p3", "p4", "p6"}),
    ("list length", where(lambda t: t.channels.length() > 0), {"p1", "p3", "p5", "p6"}),
    ("semi-join", _semi, {"p1", "p2", "p3", "p5"}),
    ("anti-join", _anti, {"p4", "p6"}),
    ("semi_join method", lambda b: traits(b).semi_join(
        b.table("segment_members").filter(lambda s: s.segment == "vip"), "profile_id"),
     {"p1", "p6"}),
    ("anti_join method", lambda b: traits(b).anti_join(
        b.table("segment_members"), "profile_id"), {"p2", "p3", "p5"}),
    ("join to profiles", lambda b: traits(b).join(
        b.table("profiles"), "profile_id").filter(
            lambda t: t.birth_date.month() == 6).select("profile_id"), {"p1", "p4"}),
    ("date arithmetic", lambda b: b.table("profiles").filter(
        lambda p: p.birth_date + ibis.interval(years=18) <= AS_OF.date()).select("profile_id"),
     {"p1", "p3", "p4", "p6"}),  # p3, born on 29 February 2008, is 18 since 28 February
    ("orders in a window", lambda b: b.table("orders").filter(
        lambda o: (o.ordered_at > ibis.literal(AS_OF) - ibis.interval(days=30))
        & (o.status == "completed")).select("user_id"), {"p1"}),
    ("JSON text property", lambda b: events(b).filter(
        events(b).properties["brand"].unwrap_as("string") == "Mira").select("profile_id"),
     {"p1", "p2", "p3"}),
    ("JSON number property", lambda b: events(b).filter(
        events(b).properties["price"].unwrap_as("float64") >= 900_000).select("profile_id"),
     {"p1"}),
    ("JSON nested property", lambda b: events(b).filter(
        events(b).properties["product"]["category"].unwrap_as("string").contains("Túi")
    ).select("profile_id"), {"p3"}),
    ("JSON quotes in a value", lambda b: events(b).filter(
        events(b).properties["brand"].unwrap_as("string") == "O'Neil \"x\"").select(
            "profile_id"), {"p3"}),
    ("JSON missing property", lambda b: events(b).filter(
        events(b).properties["nothing"].isnull()).select("profile_id"), EVERYONE - {"p6"}),
]


@pytest.mark.parametrize("build, expected", [pytest.param(b, e, id=i) for i, b, e in MEMBERS])
def test_members(both_backends: tuple[str, Any], build: Callable[[Any], Any],
                 expected: set[str]) -> None:
    _, backend = both_backends
    assert backends.execute_ids(backend, build(backend)) == expected


def _per_profile(b: Any) -> Any:
    ev = events(b).filter(lambda e: e.event == "Product Viewed")
    price = ev.properties["price"].unwrap_as("float64")
    return ev.group_by("profile_id").aggregate(
        n=ev.count(), total=price.sum(), mean=price.mean(), low=price.min(), high=price.max(),
        last=ev.timestamp.max(), brands=ev.properties["brand"].unwrap_as("string").nunique(),
    ).order_by("profile_id")


def _having(b: Any) -> Any:
    o = b.table("orders")
    per = o.group_by("user_id").aggregate(n=o.count(), spend=o.total.sum())
    return per.filter(per.n >= 2).select("user_id", "n", "spend")


def _traits_summary(b: Any) -> Any:
    t = traits(b)
    return t.group_by("province").aggregate(
        n=t.count(), spend=t.spend.sum(), aov=t.aov.mean(), oldest=t.age.max(),
        youngest=t.age.min(), first=t.last_purchase_at.min(),
    ).order_by(ibis.asc("province", nulls_first=True))


def _arithmetic(b: Any) -> Any:
    t = traits(b)
    return t.filter(t.orders > 0).select(
        "profile_id", per_order=t.spend / t.orders, floor=t.spend // t.orders,
        rest=t.spend % t.orders, share=(t.spend * 100 / t.spend.sum().over()).round(2),
    ).order_by("profile_id")


def _ordered(b: Any) -> Any:
    t = traits(b)
    return t.order_by([t.age.desc(), "profile_id"]).select("profile_id", "age")


def _counts(b: Any) -> Any:
    t = traits(b)
    web = t.channels.contains("web").fill_null(False).cast("int64").sum()
    days = ibis.literal(AS_OF.date()).delta(t.last_purchase_at.date(), unit="day").max()
    return t.aggregate(n=t.count(), web=web, days=days)


ROWS: list[tuple[str, Callable[[Any], Any], list[tuple[Any, ...]]]] = [
    ("aggregates of a JSON number", _per_profile, [
        ("p1", 3, 3_700_000.5, 3_700_000.5 / 3, 800_000.0, 2_000_000.0,
         datetime(2026, 6, 29, 5), 2),
        ("p2", 1, None, None, None, None, datetime(2026, 5, 1), 1),  # "500000" is text
        ("p3", 1, 10.0, 10.0, 10.0, 10.0, datetime(2026, 6, 23), 1),
        ("p5", 1, 1_000.0, 1_000.0, 1_000.0, 1_000.0, datetime(2026, 6, 30), 0),
    ]),
    ("group by with having", _having, [("p1", 2, 6_500_000)]),
    ("group by with nulls first", _traits_summary, [
        (None, 1, 150_000, 150_000.0, 41, 41, datetime(2025, 12, 31, 23, 59, 59)),
        ("Hà Nội", 1, 6_500_000, 1_625_000.0, 35, 35, datetime(2026, 6, 25, 10)),
        ("TP. Hồ Chí Minh", 1, 0, None, None, None, None),
        ("hà nội", 1, 3_000_001, 1_000_000.0, 25, 25,
         datetime(2026, 6, 29, 23, 59, 59, 999_999)),
        ("Đà Nẵng", 2, 2_900_000, 950_000.0, 60, 18, datetime(2026, 3, 1)),
    ]),
    ("division", _arithmetic, [
        ("p1", 1_625_000.0, 1_625_000, 0, 51.79),
        ("p3", 900_000.0, 900_000, 0, 7.17),
        ("p4", 1_000_000.0, 1_000_000, 0, 15.94),
        ("p5", 3_000_001 / 3, 1_000_000, 1, 23.9),
        ("p6", 150_000.0, 150_000, 0, 1.2),
    ]),
    ("nulls sort last", _ordered, [
        ("p4", 60), ("p6", 41), ("p1", 35), ("p5", 25), ("p3", 18), ("p2", None)]),
    ("whole-table aggregates", _counts, [(6, 2, 181)]),
]


@pytest.mark.parametrize("build, expected", [pytest.param(b, e, id=i) for i, b, e in ROWS])
def test_rows(both_backends: tuple[str, Any], build: Callable[[Any], Any],
              expected: list[tuple[Any, ...]]) -> None:
    _, backend = both_backends
    got = backends.rows(backend, build(backend))
    assert [_plain(r) for r in got] == [_plain(r) for r in expected]


def _plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Numbers as floats rounded to a micro-unit: engines may sum in other orders."""
    return tuple(round(float(v), 6) if isinstance(v, int | float) and not isinstance(v, bool)
                 else v for v in row)


def test_ibis_execute_gives_the_same_frames(both_backends: tuple[str, Any]) -> None:
    _, backend = both_backends
    t = traits(backend)
    assert t.count().execute() == 6
    frame = t.filter(t.orders > 1).select("profile_id", "last_purchase_at").order_by(
        "profile_id").execute()
    assert list(frame.profile_id) == ["p1", "p4", "p5"]
    assert list(frame.last_purchase_at.dt.to_pydatetime()) == [
        TRAITS[p][3] for p in ("p1", "p4", "p5")]


def test_export_writes_the_tables_asked_for(store: DuckDBEngine, tmp_path: Path) -> None:
    files = backends.export_parquet(store, tmp_path, ["profile_traits", "profile_events"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "profile_events.parquet", "profile_traits.parquet"]
    assert backends._json_columns(files["profile_events"]) == ["properties"]
    with pytest.raises(StoreError, match="no table nope"):
        backends.export_parquet(store, tmp_path, ["nope"])
