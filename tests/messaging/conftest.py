"""A small analytical store of known customers for context and preview tests.

Built on the traits tests' shop (:func:`tests.traits.test_runner.build_shop`):
its four customers with their orders, traits computed as of its ``AS_OF``;
then names, genders and home stores as identity would have written them, a
customer added after the trait run (so she has no traits), one whose name is
blank, two user-defined
traits with values, and a profile id that was merged into Lan's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from sen.traits import custom, runner
from tests.traits.test_runner import AS_OF, build_shop

PEOPLE = {  # profile: (name, gender, home store)
    "p_lan": ("Nguyễn Thị Lan", "female", "HN01"),
    "p_minh": ("Trần Minh", "male", "HCM01"),
    "p_hoa": ("Hoa", None, None),
    "p_tuan": (None, "male", "ZZ99"),  # a home store missing from the stores table
}


@pytest.fixture(scope="package")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    shop = build_shop(tmp_path_factory.mktemp("context"))
    runner.refresh(shop.engine, as_of=AS_OF)
    cur = shop.cur
    for pid, (name, gender, home) in PEOPLE.items():
        cur.execute("UPDATE profiles SET name = ?, gender = ?, store_code = ? "
                    "WHERE profile_id = ?", [name, gender, home, pid])
    shop.customer("p_tam", "u:pos:9", birth_date=date(1995, 11, 23), phone="+842838234567",
                  email="")
    cur.execute("UPDATE profiles SET name = ' Lê  Văn Tám ', gender = 'female' "
                "WHERE profile_id = 'p_tam'")
    shop.customer("p_blank", "u:pos:10")
    cur.execute("UPDATE profiles SET name = '   ', gender = 'other' WHERE profile_id = 'p_blank'")
    for definition in ({"name": "visits", "label": "Số lần ghé", "source": "orders",
                        "aggregate": "count"},
                       {"name": "colour", "source": "order_lines", "aggregate": "most_frequent",
                        "property": "colour"}):
        custom.save(shop.engine, custom.parse(definition), "test")
    cur.executemany("INSERT INTO custom_trait_values VALUES (?, ?, ?, ?)", [
        ("p_lan", "visits", 3.0, None), ("p_minh", "visits", 12.0, None),
        ("p_lan", "colour", None, "Đỏ")])
    cur.execute("INSERT INTO identity_merge_log VALUES (?, 'merged', 'p_lan', ['p_old'], 2, "
                "'phone', 'test')", [datetime(2026, 6, 1)])
    yield shop.engine
    shop.engine.close()
