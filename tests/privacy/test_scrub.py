"""The pure rules of erasure: personal keys, finding her values, pseudonyms, CSV cells."""

from __future__ import annotations

import orjson
import pytest

from sen.identity.extract import record_key
from sen.identity.ids import IdentifierType, Rejected, normalise
from sen.privacy.export import cell, to_csv
from sen.privacy.ledger import fingerprint
from sen.privacy.scrub import (
    Matcher,
    Pseudonyms,
    replace_values,
    rewrite_message_id,
    scrub_document,
)
from sen.store.analytics import DuckDBEngine

HER = Matcher(["0912345678", "+84912345678", "lan@gmail.com", "Nguyễn Thị Lan", "KH0000001"])


@pytest.mark.parametrize(("text", "found"), [
    ("giao cho chị 0912345678 trước 5h", True),
    ("+84912345678", True),
    ("LAN@GMAIL.COM", True),  # case aside
    ("NGUYỄN THỊ LAN", True),
    ("Nguyễn Thị Lang", False),  # whole words only
    ("KH00000012", False),
    ("KH0000001", True),
    ("09123456789", False),
    ("", False),
    (None, False),
])
def test_her_values_are_found_as_whole_words(text: str | None, found: bool) -> None:
    assert HER.search(text) is found


def test_values_too_short_to_search_for_are_left_out() -> None:
    assert Matcher(["Lan", "12", "", "  "]).tokens == ()
    assert not Matcher(["Lan"]).search("Lan")


def test_an_order_keeps_what_revenue_needs_and_loses_who_bought_it() -> None:
    props = {"order_id": "HD1", "total": 990000, "channel": "store", "store_code": "HCM01",
             "phone": "0912345678", "customerName": "NGUYỄN THỊ LAN", "buyer_id": "lan_99",
             "email": "lan@gmail.com", "note": "gọi 0912345678 trước khi giao",
             "shipping_address": {"street": "12 Lê Lợi", "ward": "Phú Hội"},
             "products": [{"sku": "AO-1", "name": "Áo thun", "price": 990000, "quantity": 1}]}
    out = orjson.loads(scrub_document(orjson.dumps(props), HER))
    assert out == {"order_id": "HD1", "total": 990000, "channel": "store",
                   "store_code": "HCM01",
                   "products": [{"sku": "AO-1", "name": "Áo thun", "price": 990000,
                                 "quantity": 1}]}


def test_personal_keys_go_at_any_depth_and_a_product_name_stays() -> None:
    props = {"name": "Giày Sen Hồng", "recipient": {"fullName": "X Y", "tel": "0987654321",
                                                     "city": "Huế"},
             "items": [{"name": "Dép", "ip": "1.2.3.4"}, "Nguyễn Thị Lan"],
             "url": "https://shop.vn/?email=lan@gmail.com", "title": "Trang chủ"}
    out = orjson.loads(scrub_document(orjson.dumps(props), HER))
    assert out == {"name": "Giày Sen Hồng", "recipient": {"city": "Huế"},
                   "items": [{"name": "Dép"}], "title": "Trang chủ"}


def test_a_document_that_is_only_her_value_becomes_null() -> None:
    assert scrub_document(None, HER) is None
    assert scrub_document('"lan@gmail.com"', HER) is None
    assert scrub_document("[]", HER) == "[]"


def test_pseudonyms_are_stable_in_one_erasure_and_unguessable_across() -> None:
    one, two = Pseudonyms(), Pseudonyms()
    assert one.id("u", "KH1") == one.id("u", " KH1 ") != one.id("a", "KH1")
    assert one.id("u", "KH1") != two.id("u", "KH1")
    assert one.id("u", None) is None
    assert one.id("u", "KH1").startswith("erased ") and len(one.id("u", "KH1")) == 23
    assert one.message_id("x") == one.message_id("x") != two.message_id("x")


def test_identity_never_makes_a_record_of_a_pseudonym() -> None:
    """The space in a pseudonym is what keeps a rebuild from bringing her back."""
    pseudonym = Pseudonyms().id("u", "KH1")
    for t in (IdentifierType.USER_ID, IdentifierType.ANONYMOUS_ID):
        assert isinstance(normalise(t, pseudonym), Rejected)
    engine = DuckDBEngine(":memory:")
    try:
        assert engine.scalar(f"SELECT {record_key('u', 'a')} FROM (SELECT ? AS u, ? AS a)",
                             [pseudonym, pseudonym]) is None
        assert engine.scalar(f"SELECT {record_key('u', 'a')} FROM (SELECT NULL AS u, ? AS a)",
                             ["pos:order:HD1"]) == "a:pos:order:HD1"  # the query can say yes
    finally:
        engine.close()


def test_message_ids_that_name_her_are_replaced_others_kept() -> None:
    names = Pseudonyms()
    named = "consent:sms:advertising:+84912345678:20261120T030000.000000"
    assert rewrite_message_id(named, HER, names) == names.message_id(named)
    assert rewrite_message_id("imp-e041bb45a508672759d752e633ced4ef", HER, names) == \
        "imp-e041bb45a508672759d752e633ced4ef"


def test_keys_lose_her_ids_longest_first() -> None:
    names = Pseudonyms()
    key = replace_values("campaign:tet:p_0470d7ed6797c090>email", ["p_0470d7ed6797c090",
                                                                    "p_0470"], names)
    assert key == f"campaign:tet:{names.text('p_0470d7ed6797c090')}>email"


def test_fingerprints_name_the_kind_and_nothing_else() -> None:
    assert fingerprint("u:KH0000001") == fingerprint("u:KH0000001")
    assert fingerprint("u:KH0000001").startswith("u:") and "KH" not in fingerprint("u:KH0000001")
    assert fingerprint("a:pos:order:HD1")[:2] == "a:" and len(fingerprint("a:x")) == 18


@pytest.mark.parametrize(("value", "shown"), [
    (None, ""), (True, "true"), ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
    ("+84912345678", "+84912345678"), ("-1.5", "-1.5"),
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("@SUM(A1)", "'@SUM(A1)"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ({"a": 1}, '{"a":1}'),
])
def test_csv_cells_never_run_as_formulas(value: object, shown: str) -> None:
    assert cell(value) == shown


def test_csv_has_a_bom_and_every_column_once() -> None:
    raw = to_csv([{"a": 1, "b": "Huế"}, {"b": "x", "c": None}])
    assert raw.decode("utf-8") == "\ufeffa,b,c\r\n1,Huế,\r\n,x,\r\n"


def test_the_package_contract() -> None:
    import sen.privacy

    assert sorted(sen.privacy.__all__) == ["Erasure", "Export", "erase", "export", "requests"]
