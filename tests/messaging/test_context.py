"""Template fields of known customers, read from a small store (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sen.errors import ValidationError
from sen.messaging import context

EVERYONE = ["p_lan", "p_minh", "p_hoa", "p_tuan", "p_tam"]


def values(store: Any, name: str, ids: list[str] = EVERYONE, **kw: Any) -> dict[str, Any]:
    got = context.profile_context(store, ids, [name], **kw)
    return {pid: got[pid][name] for pid in ids}


@pytest.mark.parametrize(("name", "expected"), [
    # Vietnamese names are family name first: the given name is the last word.
    ("first_name", {"p_lan": "Lan", "p_minh": "Minh", "p_hoa": "Hoa", "p_tuan": None,
                    "p_tam": "Tám"}),
    ("name", {"p_lan": "Nguyễn Thị Lan", "p_minh": "Trần Minh", "p_hoa": "Hoa", "p_tuan": None,
              "p_tam": "Lê Văn Tám"}),
    ("xung_ho", {"p_lan": "chị", "p_minh": "anh", "p_hoa": "bạn", "p_tuan": "anh",
                 "p_tam": "chị"}),
    ("phone", {"p_lan": "0912 345 678", "p_minh": None, "p_hoa": None, "p_tuan": None,
               "p_tam": "02838234567"}),
    ("email", {"p_lan": None, "p_minh": "minh@example.vn", "p_hoa": None, "p_tuan": None,
               "p_tam": None}),
    ("birthday", {"p_lan": "01/07", "p_minh": "01/01", "p_hoa": None, "p_tuan": "30/06",
                  "p_tam": "23/11"}),
    ("home_store_name", {"p_lan": "Hoàn Kiếm", "p_minh": "Quận 1", "p_hoa": None,
                         "p_tuan": None, "p_tam": None}),
    ("province", {"p_lan": "Hà Nội", "p_minh": "TP. Hồ Chí Minh", "p_hoa": "Đà Nẵng",
                  "p_tuan": "Đà Nẵng", "p_tam": None}),
    ("spend", {"p_lan": 6_500_000, "p_minh": 0, "p_hoa": 700_000, "p_tuan": 2_000_000,
               "p_tam": 0}),
    ("spend_text", {"p_lan": "6.500.000 ₫", "p_minh": "0 ₫", "p_hoa": "700.000 ₫",
                    "p_tuan": "2.000.000 ₫", "p_tam": "0 ₫"}),
    ("orders", {"p_lan": 4, "p_minh": 0, "p_hoa": 1, "p_tuan": 1, "p_tam": 0}),
    ("aov_text", {"p_lan": "1.625.000 ₫", "p_minh": None, "p_hoa": "700.000 ₫",
                  "p_tuan": "2.000.000 ₫", "p_tam": None}),
    ("days_since_last_purchase", {"p_lan": 149, "p_minh": None, "p_hoa": 10, "p_tuan": 29,
                                  "p_tam": None}),
    # 1 Feb 2026 20:00 UTC is 2 Feb, 03:00 in Vietnam.
    ("last_purchase_date", {"p_lan": "02/02/2026", "p_minh": None, "p_hoa": "20/06/2026",
                            "p_tuan": "01/06/2026", "p_tam": None}),
    ("favourite_store", {"p_lan": "HN02", "p_minh": None, "p_hoa": None, "p_tuan": "DN01",
                         "p_tam": None}),
    ("favourite_store_name", {"p_lan": "Cầu Giấy", "p_minh": None, "p_hoa": None,
                              "p_tuan": "Hải Châu", "p_tam": None}),
    ("favourite_brand", {"p_lan": "Vela Saigon", "p_minh": None, "p_hoa": "Mira",
                         "p_tuan": "Alpha", "p_tam": None}),
    ("favourite_size", {"p_lan": "36", "p_minh": None, "p_hoa": None, "p_tuan": "41",
                        "p_tam": None}),
    ("lifecycle_stage", {"p_lan": "active", "p_minh": "prospect", "p_hoa": "new",
                         "p_tuan": "new", "p_tam": None}),
    ("visits", {"p_lan": 3, "p_minh": 12, "p_hoa": None, "p_tuan": None, "p_tam": None}),
    ("colour", {"p_lan": "Đỏ", "p_minh": None, "p_hoa": None, "p_tuan": None, "p_tam": None}),
])
def test_field_values(store: Any, name: str, expected: dict[str, Any]) -> None:
    assert values(store, name) == expected


def test_a_blank_name_gives_no_name_and_an_unknown_gender_says_ban(store: Any) -> None:
    got = context.profile_context(store, ["p_blank"], ["name", "first_name", "xung_ho"])
    assert got == {"p_blank": {"name": None, "first_name": None, "xung_ho": "bạn"}}


def test_whole_numbers_of_user_defined_traits_print_without_decimals(store: Any) -> None:
    got = values(store, "visits", ["p_lan", "p_minh"])
    assert all(type(v) is int for v in got.values())


def test_dates_follow_the_time_zone(store: Any) -> None:
    assert values(store, "last_purchase_date", ["p_lan"], timezone="UTC") == {
        "p_lan": "01/02/2026"}
    with pytest.raises(ValidationError) as caught:
        values(store, "last_purchase_date", ["p_lan"], timezone="UTC'; DROP TABLE x; --")
    assert caught.value.field == "timezone"


def test_only_asked_fields_of_current_profiles_come_back(store: Any) -> None:
    got = context.profile_context(store, ["p_lan", "p_old", "nobody", "p_lan"],
                                  ["first_name", "spend_text"])
    assert got == {"p_lan": {"first_name": "Lan", "spend_text": "6.500.000 ₫"}}
    assert context.profile_context(store, ["p_hoa"], []) == {"p_hoa": {}}
    assert context.profile_context(store, [], ["first_name"]) == {}


def test_unknown_fields_are_refused_together(store: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        context.profile_context(store, ["p_lan"], ["first_name", "shoe", "coupon"])
    assert (caught.value.field, caught.value.rule) == ("names", "unknown_field")
    assert "shoe, coupon" in caught.value.message


def test_the_field_list(store: Any) -> None:
    builtin = context.fields()
    names = [f.name for f in builtin]
    assert len(names) == len(set(names))
    assert {"first_name", "xung_ho", "phone", "spend_text", "favourite_store_name",
            "next_purchase_date", "clv_12m_text", "home_store_name"} <= set(names)
    by_name = {f.name: f for f in context.fields(store)}
    assert by_name["visits"].source == "custom" and by_name["visits"].label_vi == "Số lần ghé"
    assert by_name["colour"].type == "text"
    assert not by_name["xung_ho"].can_be_empty and by_name["first_name"].can_be_empty
    assert by_name["favourite_brand"].label_vi == "Brand yêu thích"  # the traits' own words
    assert by_name["spend_text"].as_dict() == {
        "name": "spend_text", "type": "text", "can_be_empty": False,
        "label": {"vi": "Tổng chi tiêu (dạng 1.250.000 ₫)",
                  "en": "Spend, as text (1.250.000 ₫)"},
        "example": "1.250.000 ₫", "source": "trait"}


def test_every_field_can_be_read(store: Any) -> None:
    names = [f.name for f in context.fields(store)]
    got = context.profile_context(store, EVERYONE, names)
    assert set(got) == set(EVERYONE) and all(list(v) == names for v in got.values())
    for field in context.fields(store):
        if not field.can_be_empty:
            assert all(got[pid][field.name] is not None for pid in EVERYONE), field.name
