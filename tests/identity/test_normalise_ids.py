"""Platform identifiers and the ``normalise(type, raw)`` dispatcher."""

from __future__ import annotations

import pytest

import sen.identity
from sen.identity import IdentifierType, Normalised, Rejected, normalise
from sen.identity.ids import marketplace_buyer

T = IdentifierType

NORMALISED = [
    (T.PHONE, "0168 411 6370", "+84384116370"),
    (T.PHONE, "+84 912 345 678", "+84912345678"),
    (T.PHONE, "+86 138 1234 5678", "+8613812345678"),
    (T.EMAIL, " Lan.Nguyen@Gmail.com ", "lan.nguyen@gmail.com"),
    (T.ZALO_ID, "6920534490106085016", "6920534490106085016"),
    (T.ZALO_ID, " 6920534490106085016 ", "6920534490106085016"),
    (T.MARKETPLACE_BUYER, "shopee:ducle85", "shopee:ducle85"),
    (T.MARKETPLACE_BUYER, "Shopee:DucLe85", "shopee:ducle85"),
    (T.MARKETPLACE_BUYER, " Lazada : nam_6808 ", "lazada:nam_6808"),
    (T.MARKETPLACE_BUYER, "TikTok Shop:Long_4323", "tiktok:long_4323"),
    (T.DEVICE_ID, "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    (T.DEVICE_ID, "6f9619ff8b86d011b42d00c04fc964ff", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    (T.DEVICE_ID, "{6F9619FF-8B86-D011-B42D-00C04FC964FF}", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    (T.DEVICE_ID, " fcm:AbC123 ", "fcm:AbC123"),  # not a UUID: opaque, case kept
    (T.LOYALTY_CARD, "VM13311620", "VM13311620"),
    (T.LOYALTY_CARD, "vm 1331-1620", "VM13311620"),
    (T.LOYALTY_CARD, " vm.1331.1620 ", "VM13311620"),
    (T.USER_ID, " KH0007228 ", "KH0007228"),
    (T.USER_ID, "u_AbC", "u_AbC"),  # user ids are case-sensitive
    (T.ANONYMOUS_ID, "a1B2-c3", "a1B2-c3"),
]


@pytest.mark.parametrize(("type_", "raw", "value"), NORMALISED)
def test_normalised(type_: IdentifierType, raw: str, value: str) -> None:
    assert normalise(type_, raw) == Normalised(type_, value)


REJECTED = [
    (T.PHONE, "0000000000", "repeated_digits"),
    (T.PHONE, "N/A", "placeholder"),
    (T.PHONE, None, "empty"),
    (T.EMAIL, "test@test.com", "reserved_domain"),
    (T.EMAIL, "noemail@gmail.com", "placeholder_address"),
    (T.EMAIL, "lan.gmail.com", "missing_at"),
    (T.ZALO_ID, "6.92053449010609E+18", "scientific_notation"),
    (T.ZALO_ID, "6,92E+18", "not_digits"),
    (T.ZALO_ID, "", "placeholder"),
    (T.ZALO_ID, "0", "placeholder"),
    (T.ZALO_ID, "user_123", "not_digits"),
    (T.MARKETPLACE_BUYER, "ducle85", "missing_platform"),
    (T.MARKETPLACE_BUYER, ":ducle85", "missing_platform"),
    (T.MARKETPLACE_BUYER, "shopee:", "placeholder"),
    (T.MARKETPLACE_BUYER, "shopee:n*****3", "masked"),
    (T.MARKETPLACE_BUYER, "shopee:duc le", "bad_characters"),
    (T.DEVICE_ID, "00000000-0000-0000-0000-000000000000", "zeroed"),
    (T.DEVICE_ID, "null", "placeholder"),
    (T.LOYALTY_CARD, "", "placeholder"),
    (T.LOYALTY_CARD, "N/A", "placeholder"),
    (T.LOYALTY_CARD, "00000000", "placeholder"),
    (T.LOYALTY_CARD, "VM#1331", "bad_shape"),
    (T.LOYALTY_CARD, "VM1", "bad_shape"),
    (T.USER_ID, "undefined", "placeholder"),
    (T.USER_ID, "null", "placeholder"),
    (T.USER_ID, "  ", "placeholder"),
    (T.USER_ID, "a b", "bad_characters"),
    (T.ANONYMOUS_ID, "undefined", "placeholder"),
]


@pytest.mark.parametrize(("type_", "raw", "reason"), REJECTED)
def test_rejected(type_: IdentifierType, raw: str | None, reason: str) -> None:
    r = normalise(type_, raw)
    assert isinstance(r, Rejected)
    assert (r.type, r.reason) == (type_, reason)
    assert r.raw == (raw or "")
    assert r.message


def test_every_identifier_type_is_dispatched() -> None:
    for t in IdentifierType:
        assert isinstance(normalise(t, "  "), Rejected)


def test_types_are_accepted_by_name() -> None:
    assert normalise("loyalty_card", "vm 1331 1620") == Normalised(T.LOYALTY_CARD, "VM13311620")
    with pytest.raises(ValueError):
        normalise("passport", "B1234567")


def test_the_identifier_type_codes() -> None:
    assert [t.value for t in IdentifierType] == [
        "user_id",
        "phone",
        "email",
        "anonymous_id",
        "device_id",
        "zalo_id",
        "marketplace_buyer",
        "loyalty_card",
    ]


def test_marketplace_buyer_builds_the_key_from_parts() -> None:
    assert marketplace_buyer("Shopee", " DucLe85 ") == Normalised(
        T.MARKETPLACE_BUYER, "shopee:ducle85"
    )


def test_the_public_api() -> None:
    assert sorted(sen.identity.__all__) == [
        "DuplicateSettings",
        "EmailReason",
        "EmailResult",
        "IdentifierType",
        "MergeEdge",
        "MergeRules",
        "Normalised",
        "PhoneReason",
        "PhoneResult",
        "Rejected",
        "Resolution",
        "Strategy",
        "SurvivorshipRules",
        "fold_name",
        "link",
        "normalise",
        "normalise_email",
        "normalise_name",
        "normalise_phone",
        "resolve",
        "resolve_incremental",
        "score_duplicates",
    ]
    for name in sen.identity.__all__:
        assert getattr(sen.identity, name) is not None
