"""Provinces as people type them, to canonical names and regions."""

from __future__ import annotations

import doctest

import pytest

from sen.demo import geo
from sen.traits import regions
from sen.traits.regions import MERGED_2025, PROVINCES, PROVINCES_2025, key, region_of

# The 34 provinces and cities from 1 July 2025, with their regions.
AFTER_2025 = {
    "Hà Nội": "North", "Huế": "Central", "Lai Châu": "North", "Điện Biên": "North",
    "Sơn La": "North", "Lạng Sơn": "North", "Quảng Ninh": "North", "Thanh Hóa": "Central",
    "Nghệ An": "Central", "Hà Tĩnh": "Central", "Cao Bằng": "North",
    "Tuyên Quang": "North", "Lào Cai": "North", "Thái Nguyên": "North", "Phú Thọ": "North",
    "Bắc Ninh": "North", "Hưng Yên": "North", "Hải Phòng": "North", "Ninh Bình": "North",
    "Quảng Trị": "Central", "Đà Nẵng": "Central", "Quảng Ngãi": "Central",
    "Gia Lai": "Central", "Khánh Hòa": "Central", "Lâm Đồng": "Central",
    "Đắk Lắk": "Central", "TP. Hồ Chí Minh": "South", "Đồng Nai": "South",
    "Tây Ninh": "South", "Cần Thơ": "South", "Vĩnh Long": "South", "Đồng Tháp": "South",
    "Cà Mau": "South", "An Giang": "South",
}


def test_sixty_three_provinces_in_three_regions():
    assert len(PROVINCES) == 63
    counts = {r: sum(1 for v in PROVINCES.values() if v == r) for r in regions.REGIONS}
    assert counts == {"North": 25, "Central": 19, "South": 19}


@pytest.mark.parametrize("name", sorted(PROVINCES))
def test_every_canonical_name_maps_to_itself(name):
    assert region_of(name) == (name, PROVINCES[name])
    assert region_of(name.upper()) == (name, PROVINCES[name])
    assert region_of(regions.fold(name)) == (name, PROVINCES[name])
    assert region_of(f"Tỉnh {name}") == (name, PROVINCES[name])


def test_folded_keys_never_collide():
    keys = [key(name) for name in PROVINCES]
    assert len(set(keys)) == 63


@pytest.mark.parametrize("name,region", sorted(AFTER_2025.items()))
def test_names_after_the_2025_merger(name, region):
    canonical, found = region_of(name)
    assert found == region
    assert canonical is not None and MERGED_2025[canonical] == name


def test_the_merger_table():
    assert len(PROVINCES_2025) == 34
    assert set(MERGED_2025) == set(PROVINCES)
    assert set(PROVINCES_2025) == set(AFTER_2025)
    for old, new in MERGED_2025.items():  # no merger crossed a region
        assert PROVINCES[old] == region_of(new)[1], (old, new)
    assert MERGED_2025["Bình Dương"] == MERGED_2025["Bà Rịa - Vũng Tàu"] == "TP. Hồ Chí Minh"
    assert MERGED_2025["Hà Giang"] == "Tuyên Quang"
    assert MERGED_2025["Kiên Giang"] == "An Giang"
    assert MERGED_2025["Bình Thuận"] == MERGED_2025["Đắk Nông"] == "Lâm Đồng"
    assert MERGED_2025["Thừa Thiên Huế"] == "Huế"
    assert sum(1 for old, new in MERGED_2025.items() if old == new) == 33  # 34 less Huế


@pytest.mark.parametrize("typed,canonical", [
    ("Ha Noi", "Hà Nội"), ("HA NOI", "Hà Nội"), ("hanoi", "Hà Nội"), ("HN", "Hà Nội"),
    ("Hanoi City", "Hà Nội"), ("Thủ đô Hà Nội", "Hà Nội"), (" hà   nội ", "Hà Nội"),
    ("TP. Hồ Chí Minh", "TP. Hồ Chí Minh"), ("TP.HCM", "TP. Hồ Chí Minh"),
    ("TP HCM", "TP. Hồ Chí Minh"), ("tphcm", "TP. Hồ Chí Minh"), ("HCM", "TP. Hồ Chí Minh"),
    ("Hồ Chí Minh", "TP. Hồ Chí Minh"), ("Thành phố Hồ Chí Minh", "TP. Hồ Chí Minh"),
    ("Ho Chi Minh City", "TP. Hồ Chí Minh"), ("Sài Gòn", "TP. Hồ Chí Minh"),
    ("Saigon", "TP. Hồ Chí Minh"), ("T.P. Hồ Chí Minh", "TP. Hồ Chí Minh"),
    ("HCMC", "TP. Hồ Chí Minh"),
    ("Huế", "Thừa Thiên Huế"), ("Thừa Thiên - Huế", "Thừa Thiên Huế"),
    ("Thành phố Huế", "Thừa Thiên Huế"), ("TT Huế", "Thừa Thiên Huế"),
    ("Vũng Tàu", "Bà Rịa - Vũng Tàu"), ("BR-VT", "Bà Rịa - Vũng Tàu"),
    ("BRVT", "Bà Rịa - Vũng Tàu"), ("Ba Ria Vung Tau", "Bà Rịa - Vũng Tàu"),
    ("Bà Rịa–Vũng Tàu", "Bà Rịa - Vũng Tàu"), ("Tỉnh Bà Rịa - Vũng Tàu", "Bà Rịa - Vũng Tàu"),
    ("Da Nang", "Đà Nẵng"), ("DANANG", "Đà Nẵng"), ("TP. Đà Nẵng", "Đà Nẵng"),
    ("Daklak", "Đắk Lắk"), ("Đăk Lăk", "Đắk Lắk"), ("Đắc Lắc", "Đắk Lắk"),
    ("Dak Nong", "Đắk Nông"), ("Kontum", "Kon Tum"),
    ("Khánh Hoà", "Khánh Hòa"), ("Thanh Hoá", "Thanh Hóa"), ("T. Thanh Hoa", "Thanh Hóa"),
    ("Hoa Binh", "Hòa Bình"), ("tinh lam dong", "Lâm Đồng"), ("Lam Dong Province", "Lâm Đồng"),
    ("can tho", "Cần Thơ"), ("Bac Kan", "Bắc Kạn"),
])
def test_aliases_and_spellings(typed, canonical):
    assert region_of(typed) == (canonical, PROVINCES[canonical])


@pytest.mark.parametrize("typed", [None, "", "   ", "Mars", "Bangkok", "Phnom Penh", "TP.",
                                   "Tỉnh", "Quận 1", "12 Lê Lợi", "Ha", "Hà"])
def test_unknown_is_none(typed):
    assert region_of(typed) == (None, None)


def test_every_demo_province_in_its_demo_region():
    for name, (region, *_rest) in geo.PROVINCES.items():
        assert region_of(name) == (name, region), name


def test_regions_table_joins_on_the_key():
    table = regions.regions_table()
    assert len({k for k, _, _ in table}) == len(table)
    assert all(PROVINCES[name] == region for _, name, region in table)
    assert {name for _, name, _ in table} == set(PROVINCES)
    lookup = {k: (name, region) for k, name, region in table}
    for typed in ("TP.HCM", "Huế", "Vũng Tàu", "ha noi"):
        assert lookup[key(typed)] == region_of(typed)


def test_fold_drops_diacritics_and_dstroke():
    assert regions.fold("ĐẮK LẮK") == "dak lak"
    assert regions.fold("Thừa Thiên Huế") == "thua thien hue"
    assert regions.fold("Bạc Liêu") == "bac lieu"


def test_doctests():
    assert doctest.testmod(regions).failed == 0
