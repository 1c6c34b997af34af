"""The trait catalogue: fields, what the data holds, one profile's traits, exports."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest

from sen.errors import ValidationError
from sen.store.analytics import DuckDBEngine
from sen.traits import builtin, fields, lifecycle
from sen.traits.config import DEFAULT_GROUPS
from sen.traits.fields import FIELDS

AS_OF = datetime(2026, 3, 1)
REQUIRED = {"as_of": AS_OF, "computed_at": AS_OF, "orders": 0, "spend": 0, "orders_12m": 0,
            "spend_12m": 0, "items": 0, "omnichannel": False, "returned_orders": 0}


def insert_traits(cur: Any, profile_id: str, **values: Any) -> None:
    """One ``profile_traits`` row, as the runner would write it (defaults for the rest)."""
    row = {"profile_id": profile_id, **REQUIRED, **values}
    cur.execute(f"INSERT INTO profile_traits ({', '.join(row)}) "
                f"VALUES ({', '.join('?' * len(row))})", list(row.values()))


def insert_periods(cur: Any, profile_id: str, *periods: tuple[str, int, int]) -> None:
    for period, orders, spend in periods:
        cur.execute("INSERT INTO profile_trait_periods VALUES (?, ?, ?, ?)",
                    [profile_id, period, orders, spend])


def define(cur: Any, name: str, **definition: Any) -> None:
    cur.execute("INSERT INTO trait_definitions VALUES (?, ?, ?, 'admin', ?)",
                [name, json.dumps(definition), AS_OF, AS_OF])


def insert_custom(cur: Any, profile_id: str, trait: str, num: float | None = None,
                  text: str | None = None) -> None:
    cur.execute("INSERT INTO custom_trait_values VALUES (?, ?, ?, ?)",
                [profile_id, trait, num, text])


@pytest.fixture
def engine():
    e = DuckDBEngine(":memory:")
    yield e
    e.close()


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


# -- the catalogue --------------------------------------------------------------------------

def test_every_trait_column_has_a_field(engine):
    columns = [r[0] for r in engine.execute("DESCRIBE profile_traits").fetchall()]
    assert list(FIELDS) == [c for c in columns if c not in ("profile_id", "as_of",
                                                           "computed_at")]


def test_fields_have_types_labels_and_descriptions():
    for f in FIELDS.values():
        assert f.type in fields.TYPES, f.name
        assert f.label_vi and f.label_en and f.description, f.name
        assert f.label("en") == f.label_en and f.label("vi") == f.label_vi
    types = {name: f.type for name, f in FIELDS.items()}
    assert types["spend"] == types["clv_12m"] == types["aov"] == "money"
    assert types["p_alive"] == "probability" and types["omnichannel"] == "boolean"
    assert types["channels"] == "list" and types["first_purchase_at"] == "date"


def test_enumerations_match_what_the_runner_writes():
    assert FIELDS["region"].values == ("North", "Central", "South")
    assert set(FIELDS["lifecycle_stage"].values) == set(lifecycle.STAGES)
    assert FIELDS["lifecycle_stage"].values == (
        "new", "active", "due", "overdue", "at risk", "lapsed", "won back", "prospect")
    assert FIELDS["rfm_group"].values == (
        "Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
        "Need Attention", "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating",
        "Lost")
    assert set(FIELDS["rfm_group"].values) == {g.name for g in DEFAULT_GROUPS}
    assert FIELDS["channels"].values == builtin.CHANNELS
    assert FIELDS["age_band"].values == (*(label for _, label in builtin.AGE_BANDS), "65+")
    for channel in FIELDS["reachable_channels"].values:
        assert f"'{channel}'" in builtin.PEOPLE
    assert len(FIELDS["province"].values) == 63


def test_value_labels_cover_every_labelled_value():
    for f in FIELDS.values():
        if f.labels_of and f.values and f.labels_of != "age_band":
            assert set(f.values) <= set(fields.VALUE_LABELS[f.labels_of]), f.name
    region = FIELDS["region"]
    assert region.value_label("North", "vi") == "Miền Bắc"
    assert region.value_label("North", "en") == "North"
    assert FIELDS["age_band"].value_label("25-34", "vi") == "25-34"
    assert FIELDS["lifecycle_stage"].value_label("at risk", "vi") == "Có nguy cơ rời bỏ"
    assert FIELDS["favourite_brand"].value_label("ECCO", "vi") == "ECCO"


# -- the field list ---------------------------------------------------------------------------

def test_field_list_of_an_empty_store(engine):
    entries = fields.field_list(engine)
    assert [e["name"] for e in entries] == [*FIELDS, "spend_in_period"]
    spend = by_name(entries)["spend"]
    assert (spend["count"], spend["min"], spend["max"]) == (0, None, None)
    assert by_name(entries)["favourite_brand"]["top"] == []
    period = by_name(entries)["spend_in_period"]
    assert period["params"]["period"]["values"] == [] and period["source"] == "period"


def test_field_list_ranges_top_values_and_counts(engine):
    cur = engine.cursor()
    insert_traits(cur, "p1", orders=3, spend=3_000_000, favourite_brand="ECCO",
                  channels=["store", "web"], omnichannel=True, region="South",
                  p_alive=0.9, last_purchase_at=datetime(2026, 2, 1))
    insert_traits(cur, "p2", orders=1, spend=500_000, favourite_brand="Aldo",
                  channels=["web"], region="North", p_alive=0.2,
                  last_purchase_at=datetime(2025, 6, 1))
    insert_traits(cur, "p3", orders=2, spend=900_000, favourite_brand="ECCO",
                  channels=["store"], region="South")
    insert_traits(cur, "p4", favourite_brand="Bata", channels=[])
    found = by_name(fields.field_list(engine))
    assert (found["spend"]["min"], found["spend"]["max"], found["spend"]["count"]) == \
        (0, 3_000_000, 4)
    assert (found["p_alive"]["min"], found["p_alive"]["max"], found["p_alive"]["count"]) == \
        (0.2, 0.9, 2)
    assert found["last_purchase_at"]["min"] == datetime(2025, 6, 1)
    assert found["last_purchase_at"]["max"] == datetime(2026, 2, 1)
    # commonest first, ties A to Z
    assert found["favourite_brand"]["top"] == [
        {"value": "ECCO", "count": 2}, {"value": "Aldo", "count": 1},
        {"value": "Bata", "count": 1}]
    assert found["favourite_brand"]["distinct"] == 3
    assert found["region"]["top"] == [{"value": "South", "count": 2},
                                      {"value": "North", "count": 1}]
    assert found["channels"]["top"] == [{"value": "store", "count": 2},
                                        {"value": "web", "count": 2}]
    assert found["channels"]["count"] == 3  # p4's list is empty
    assert (found["omnichannel"]["count"], found["omnichannel"]["true"]) == (4, 1)
    assert found["region"]["values"] == ["North", "Central", "South"]
    assert found["region"]["value_labels"]["South"] == {"vi": "Miền Nam", "en": "South"}
    assert found["spend"]["label"] == {"vi": "Tổng chi tiêu", "en": "Spend"}


def test_top_values_stop_at_twenty(engine):
    cur = engine.cursor()
    for i in range(30):
        insert_traits(cur, f"p{i:02d}", favourite_store=f"S{i % 25:02d}")
    top = by_name(fields.field_list(engine))["favourite_store"]
    assert len(top["top"]) == 20 and top["distinct"] == 25
    assert top["top"][:5] == [{"value": f"S{i:02d}", "count": 2} for i in range(5)]


def test_field_list_adds_periods_and_user_defined_traits(engine):
    cur = engine.cursor()
    insert_traits(cur, "p1")
    insert_periods(cur, "p1", ("2025", 2, 800_000), ("2025-03", 1, 300_000),
                   ("2026", 1, 100_000))
    insert_periods(cur, "p2", ("2025", 1, 2_000_000))
    define(cur, "ecco_revenue_365d", label="Doanh số ECCO 365 ngày", aggregate="sum",
           source="order_lines", property="amount")
    define(cur, "top_colour", label={"vi": "Màu hay mua", "en": "Usual colour"},
           aggregate="most_frequent", source="order_lines", property="colour")
    insert_custom(cur, "p1", "ecco_revenue_365d", 1_500_000)
    insert_custom(cur, "p2", "ecco_revenue_365d", 250_000)
    insert_custom(cur, "p1", "top_colour", text="đen")
    insert_custom(cur, "p2", "top_colour", text="đen")
    insert_custom(cur, "p3", "top_colour", text="trắng")
    entries = fields.field_list(engine)
    assert [e["name"] for e in entries[-3:]] == ["spend_in_period", "ecco_revenue_365d",
                                                 "top_colour"]
    found = by_name(entries)
    period = found["spend_in_period"]
    assert period["params"]["period"]["values"] == ["2026", "2025-03", "2025"]
    assert (period["min"], period["max"], period["count"]) == (100_000, 2_000_000, 2)
    ecco = found["ecco_revenue_365d"]
    assert (ecco["type"], ecco["source"], ecco["count"], ecco["min"], ecco["max"]) == \
        ("number", "custom", 2, 250_000, 1_500_000)
    assert ecco["label"] == {"vi": "Doanh số ECCO 365 ngày", "en": "Doanh số ECCO 365 ngày"}
    colour = found["top_colour"]
    assert (colour["type"], colour["count"]) == ("text", 3)
    assert colour["top"] == [{"value": "đen", "count": 2}, {"value": "trắng", "count": 1}]
    assert colour["label"] == {"vi": "Màu hay mua", "en": "Usual colour"}


def test_custom_trait_types_and_labels():
    assert fields.custom_trait("x", '{"aggregate": "most_frequent"}').type == "text"
    for aggregate in ("count", "sum", "avg", "min", "max", "distinct", None):
        assert fields.custom_trait("x", {"aggregate": aggregate}).type == "number"
    bare = fields.custom_trait("ecco", None)
    assert (bare.label("vi"), bare.label("en")) == ("ecco", "ecco")
    half = fields.custom_trait("ecco", {"label": {"en": "ECCO spend"}})
    assert (half.label("vi"), half.label("en")) == ("ECCO spend", "ECCO spend")


@pytest.mark.slow
def test_field_list_on_a_million_profiles_is_fast(tmp_path):
    engine = DuckDBEngine(tmp_path / "big.duckdb")
    engine.execute("""
        INSERT INTO profile_traits (profile_id, as_of, computed_at, orders, spend, aov,
            orders_12m, spend_12m, items, last_purchase_at, favourite_brand, favourite_store,
            favourite_size, province, region, age, age_band, channels, omnichannel,
            returned_orders, returns_rate, rfm_r, rfm_score, rfm_group, p_alive, clv_12m,
            lifecycle_stage)
        SELECT 'p' || lpad(i::VARCHAR, 8, '0'), TIMESTAMP '2026-03-01', TIMESTAMP '2026-03-01',
            i % 20, (i % 20) * 350000, 350000, i % 5, (i % 5) * 350000, i % 40,
            TIMESTAMP '2022-01-01' + to_days((i % 1400)::INTEGER), 'Brand ' || (i % 300),
            'S' || (i % 41), ['S', 'M', 'L', 'XL'][i % 4 + 1],
            ['Hà Nội', 'TP. Hồ Chí Minh', 'Đà Nẵng'][i % 3 + 1],
            ['North', 'South', 'Central'][i % 3 + 1], 18 + i % 60, '25-34',
            CASE WHEN i % 3 = 0 THEN ['store', 'web'] ELSE ['store'] END, i % 3 = 0,
            i % 4, (i % 4) / 10, 1 + i % 5, '555', 'Champions', (i % 100) / 100, 600000,
            'active'
        FROM range(1000000) r(i)
    """)
    engine.execute("CHECKPOINT")
    best = min(_timed(lambda: fields.field_list(engine)) for _ in range(3))
    engine.close()
    assert best < 1.0, best


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# -- one profile ------------------------------------------------------------------------------

def test_a_profile_without_traits(engine):
    t = fields.read_profile(engine.cursor(), "nobody")
    assert not t.computed and t.values is None and t.as_of is None
    assert (t.years, t.months, t.custom) == ([], [], [])


def test_a_profile_with_traits_periods_and_custom_values(engine):
    cur = engine.cursor()
    insert_traits(cur, "p1", orders=3, spend=2_970_000, rfm_group="Champions",
                  channels=["store", "web"])
    insert_traits(cur, "p2", orders=1)
    insert_periods(cur, "p1", ("2025", 2, 1_980_000), ("2025-11", 1, 990_000),
                   ("2025-12", 1, 990_000), ("2026", 1, 990_000), ("2026-01", 1, 990_000))
    define(cur, "ecco_revenue_365d", aggregate="sum", label="Doanh số ECCO")
    define(cur, "top_colour", aggregate="most_frequent")
    insert_custom(cur, "p1", "ecco_revenue_365d", 990_000)
    t = fields.read_profile(cur, "p1")
    assert t.computed and t.as_of == AS_OF and t.computed_at == AS_OF
    assert (t.values["orders"], t.values["spend"], t.values["rfm_group"],
            t.values["channels"]) == (3, 2_970_000, "Champions", ["store", "web"])
    assert set(t.values) == set(FIELDS)
    assert [y["period"] for y in t.years] == ["2025", "2026"]
    assert [m["period"] for m in t.months] == ["2025-11", "2025-12", "2026-01"]
    assert t.years[0] == {"period": "2025", "orders": 2, "spend": 1_980_000}
    assert t.custom == [
        {"name": "ecco_revenue_365d", "type": "number", "label_vi": "Doanh số ECCO",
         "label_en": "Doanh số ECCO", "value": 990_000},
        {"name": "top_colour", "type": "text", "label_vi": "top_colour",
         "label_en": "top_colour", "value": None}]
    assert t.field("clv_12m").type == "money"


# -- exports ----------------------------------------------------------------------------------

def test_export_columns_check_the_catalogue():
    custom = {"top_colour": fields.custom_trait("top_colour", {"aggregate": "most_frequent"})}
    columns = fields.export_columns(
        ["rfm_group", " spend ", "spend", "phone", "spend_in_period:2025-03", "top_colour", ""],
        custom)
    assert [(c.name, c.kind, c.type, c.arg) for c in columns] == [
        ("rfm_group", "builtin", "text", None), ("spend", "builtin", "money", None),
        ("spend_in_period:2025-03", "period", "money", "2025-03"),
        ("top_colour", "custom", "text", "top_colour")]
    assert fields.export_header(columns) == [
        "profile_id", "name", "phone", "email", "rfm_group", "spend",
        "spend_in_period:2025-03", "top_colour"]


@pytest.mark.parametrize("asked,named", [
    (["spend", "shoe_size"], "shoe_size"),
    (["spend_in_period"], "spend_in_period"),
    (["spend_in_period:2025-13"], "spend_in_period:2025-13"),
    (["spend_in_period:25"], "spend_in_period:25"),
    (["SPEND"], "SPEND"),
    (["profile_traits.spend; DROP TABLE profiles"], "DROP TABLE"),
])
def test_unknown_export_fields_are_named(asked, named):
    with pytest.raises(ValidationError) as caught:
        fields.export_columns(asked, {})
    assert named in caught.value.message and caught.value.field == "fields"
    assert caught.value.rule == "unknown_field"


def test_every_unknown_field_is_named_at_once():
    with pytest.raises(ValidationError, match=re.escape("Unknown fields: a, b.")):
        fields.export_columns(["a", "spend", "b"], {})


def test_export_sql_joins_traits_periods_and_custom_values(engine):
    cur = engine.cursor()
    for pid, name in (("p1", "Lan"), ("p2", "Minh"), ("p3", None)):
        cur.execute("INSERT INTO profiles (profile_id, record, name, phone, identified, records)"
                    " VALUES (?, ?, ?, ?, ?, 1)", [pid, f"u:{pid}", name, "+84912345678",
                                                   name is not None])
    insert_traits(cur, "p1", spend=990_000, channels=["store"])
    insert_traits(cur, "p2", spend=10)
    insert_traits(cur, "gone", spend=1)  # not a profile any more
    insert_periods(cur, "p1", ("2025", 1, 990_000))
    define(cur, "top_colour", aggregate="most_frequent")
    insert_custom(cur, "p2", "top_colour", text="đen")
    columns = fields.export_columns(["spend", "channels", "spend_in_period:2025",
                                     "top_colour"], fields.custom_traits(cur))
    sql, params = fields.export_sql(columns)
    rows = cur.execute(sql, params).fetchall()
    assert rows == [
        ("p1", "Lan", "+84912345678", None, 990_000, ["store"], 990_000, None),
        ("p2", "Minh", "+84912345678", None, 10, None, 0, "đen"),
        ("p3", None, "+84912345678", None, None, None, 0, None)]


@pytest.mark.parametrize("text,cell", [
    ("+84912345678", "+84912345678"), ("-12", "-12"), ("+ 84 912", "+ 84 912"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
    ("=1+1", "'=1+1"), ("\tx", "'\tx"), ("+", "'+"), ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
    ("a=b", "a=b"), (None, None),
])
def test_csv_cells_are_safe_from_spreadsheets(engine, text, cell):
    cur = engine.cursor()
    cur.execute("INSERT INTO profiles (profile_id, record, name, identified, records) "
                "VALUES ('p1', 'u:p1', ?, true, 1)", [text])
    insert_traits(cur, "p1", favourite_brand=text, channels=["store", text or "web"],
                  first_purchase_at=datetime(2026, 1, 5, 2, 5, 7, 123))
    columns = fields.export_columns(["favourite_brand", "channels", "first_purchase_at",
                                     "spend"], {})
    [row] = cur.execute(*fields.csv_sql(columns)).fetchall()
    assert row[1] == row[4] == cell
    assert row[5] == f"store, {text or 'web'}"
    assert row[6:] == ("2026-01-05 02:05:07", 0)


def test_the_type_of_a_user_defined_trait_is_its_definitions_result_type() -> None:
    def kind(**definition: Any) -> str:
        return fields.custom_trait(definition["name"], definition).type

    assert kind(name="first_brand", source="order_lines", aggregate="min",
                property="brand") == "text"
    assert kind(name="cheapest", source="order_lines", aggregate="min",
                property="price") == "number"
    assert kind(name="first_order", source="orders", aggregate="min",
                property="ordered_at") == "text"
    assert kind(name="brands", source="order_lines", aggregate="distinct",
                property="brand") == "number"
