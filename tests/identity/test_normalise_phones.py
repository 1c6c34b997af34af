"""Phone numbers as Vietnamese shops really store them."""

from __future__ import annotations

import phonenumbers
import pytest

from sen.identity import PhoneReason, normalise_phone
from sen.identity.carriers import CARRIER_PREFIXES, LEGACY_PREFIXES, carrier_of

TYPING_STYLES = [
    ("0912345678", "+84912345678"),
    ("0912 345 678", "+84912345678"),
    ("091 234 5678", "+84912345678"),
    ("091.234.5678", "+84912345678"),
    ("0912-345-678", "+84912345678"),
    ("(091) 234 5678", "+84912345678"),
    ("+84912345678", "+84912345678"),
    ("+84 912 345 678", "+84912345678"),
    ("+84 (0) 912 345 678", "+84912345678"),
    ("+84 0912345678", "+84912345678"),
    ("84912345678", "+84912345678"),
    ("840912345678", "+84912345678"),
    ("0084912345678", "+84912345678"),
    ("00 84 912 345 678", "+84912345678"),
    ("912345678", "+84912345678"),  # a spreadsheet ate the leading 0
    ("  0912345678\t", "+84912345678"),
    ("０９１２３４５６７８", "+84912345678"),  # full-width digits from an IME
    ("0842345678", "+84842345678"),  # 084 is VinaPhone, not the country code
    ("842345678", "+84842345678"),
    ("84842345678", "+84842345678"),
]


@pytest.mark.parametrize(("raw", "e164"), TYPING_STYLES)
def test_typing_styles_give_one_e164(raw: str, e164: str) -> None:
    r = normalise_phone(raw)
    assert (r.e164, r.kind, r.foreign, r.migrated, r.reason) == (e164, "mobile", False, False, None)


def _legacy_cases() -> list[tuple[str, str, str]]:
    """One sample number per old prefix, typed in the three forms seen in old records."""
    cases = []
    for old, new in LEGACY_PREFIXES.items():
        cases += [
            (f"0{old}4116370", f"+84{new}4116370", old),
            (f"+84 {old} 411 6370", f"+84{new}4116370", old),
            (f"84{old}4116370", f"+84{new}4116370", old),
        ]
    return cases


@pytest.mark.parametrize(("raw", "e164", "old"), _legacy_cases())
def test_every_pre_2018_prefix_moves_to_its_new_prefix(raw: str, e164: str, old: str) -> None:
    r = normalise_phone(raw)
    assert r.e164 == e164
    assert r.migrated
    assert r.kind == "mobile"
    assert r.carrier == carrier_of(e164[3:])


def test_the_legacy_table_is_the_published_one() -> None:
    published = {
        "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",
        "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",
        **{f"16{d}": f"3{d}" for d in range(2, 10)},
        "186": "56", "188": "58", "199": "59",
    }  # fmt: skip
    assert published == LEGACY_PREFIXES


@pytest.mark.parametrize(
    ("old", "carrier"),
    [("120", "mobifone"), ("123", "vinaphone"), ("168", "viettel"), ("186", "vietnamobile"),
     ("199", "gmobile")],
)  # fmt: skip
def test_migrated_numbers_keep_their_carrier(old: str, carrier: str) -> None:
    assert normalise_phone(f"0{old}1234567").carrier == carrier


@pytest.mark.parametrize(
    ("prefix", "carrier"), [(p, c) for c, ps in CARRIER_PREFIXES.items() for p in ps]
)
def test_every_current_prefix_is_a_mobile_of_its_carrier(prefix: str, carrier: str) -> None:
    r = normalise_phone(f"0{prefix}6543210")
    assert (r.e164, r.kind, r.carrier) == (f"+84{prefix}6543210", "mobile", carrier)


@pytest.mark.parametrize("prefix", [p for ps in CARRIER_PREFIXES.values() for p in ps])
def test_current_prefixes_are_mobile_for_phonenumbers_too(prefix: str) -> None:
    """Our table must not drift from the numbering plan: phonenumbers knows a
    mobile block in every prefix we accept (carriers open blocks inside their
    prefixes before phonenumbers learns of them, so we accept the whole prefix)."""
    numbers = (phonenumbers.parse(f"0{prefix}{d}123456", "VN") for d in range(10))
    mobile = phonenumbers.PhoneNumberType.MOBILE
    assert any(phonenumbers.number_type(n) == mobile for n in numbers)


@pytest.mark.parametrize(
    "raw", ["0101234567", "0201234567", "0401234567", "0501234567", "0601234567", "0711234567",
            "0801234567", "0951234567", "0431234567"],
)  # fmt: skip
def test_numbers_outside_every_carrier_prefix_are_rejected(raw: str) -> None:
    assert normalise_phone(raw).reason == PhoneReason.UNKNOWN_PREFIX


@pytest.mark.parametrize("raw", ["01311234567", "01871234567", "01981234567", "+84 111 234 5678"])
def test_old_prefixes_that_never_existed_are_rejected(raw: str) -> None:
    assert normalise_phone(raw).reason == PhoneReason.UNKNOWN_LEGACY_PREFIX


LANDLINES = [
    ("024 3822 1234", "+842438221234"),  # Hà Nội
    ("(028) 3822 1234", "+842838221234"),  # TP. Hồ Chí Minh
    ("0236 382 2123", "+842363822123"),  # Đà Nẵng
    ("+84 24 3822 1234", "+842438221234"),
    ("842838221234", "+842838221234"),
    ("2438221234", "+842438221234"),
]


@pytest.mark.parametrize(("raw", "e164"), LANDLINES)
def test_landlines_are_recognised_and_never_rewritten(raw: str, e164: str) -> None:
    r = normalise_phone(raw)
    assert (r.e164, r.kind, r.carrier, r.migrated) == (e164, "landline", None, False)


def test_a_landline_area_code_that_does_not_exist_is_rejected() -> None:
    assert normalise_phone("0200 382 2123").reason == PhoneReason.UNKNOWN_AREA_CODE


FOREIGN = [
    ("+86 138 1234 5678", "+8613812345678", "mobile"),
    ("+44 20 7946 0958", "+442079460958", "landline"),
    ("0082 10 1234 5678", "+821012345678", "mobile"),
    ("+1 (415) 555-2671", "+14155552671", "other"),  # the US plan does not say which
]


@pytest.mark.parametrize(("raw", "e164", "kind"), FOREIGN)
def test_valid_foreign_numbers_are_kept_and_flagged(raw: str, e164: str, kind: str) -> None:
    r = normalise_phone(raw)
    assert (r.e164, r.kind, r.foreign, r.carrier) == (e164, kind, True, None)


JUNK = [
    (None, PhoneReason.EMPTY),
    ("", PhoneReason.EMPTY),
    ("   ", PhoneReason.EMPTY),
    ("N/A", PhoneReason.PLACEHOLDER),
    ("n/a", PhoneReason.PLACEHOLDER),
    ("-", PhoneReason.PLACEHOLDER),
    ("Không có", PhoneReason.PLACEHOLDER),
    ("khong", PhoneReason.PLACEHOLDER),
    ("0000000000", PhoneReason.REPEATED_DIGITS),
    ("0999999999", PhoneReason.REPEATED_DIGITS),
    ("1111111111", PhoneReason.REPEATED_DIGITS),
    ("+84 999 999 999", PhoneReason.REPEATED_DIGITS),
    ("0123456789", PhoneReason.SEQUENTIAL_DIGITS),
    ("123456789", PhoneReason.SEQUENTIAL_DIGITS),
    ("0987654321", PhoneReason.SEQUENTIAL_DIGITS),
    ("******1448", PhoneReason.MASKED),
    ("03******66", PhoneReason.MASKED),
    ("0912xxxxxx", PhoneReason.MASKED),
    ("0912345678 / 0987123456", PhoneReason.SEVERAL_NUMBERS),
    ("0912345678, 0283822123", PhoneReason.SEVERAL_NUMBERS),
    ("0912345678 hoặc 0987123456", PhoneReason.SEVERAL_NUMBERS),
    ("0912345678 (chồng)", PhoneReason.LETTERS),
    ("abc", PhoneReason.LETTERS),
    ("0912#345678", PhoneReason.BAD_CHARACTERS),
    ("+84+912345678", PhoneReason.BAD_CHARACTERS),
    ("09123", PhoneReason.TOO_SHORT),
    ("091234567", PhoneReason.TOO_SHORT),
    ("09123456789", PhoneReason.TOO_LONG),
    ("0912345678901", PhoneReason.TOO_LONG),
    ("1900 1234 56", PhoneReason.SERVICE_NUMBER),
    ("1800 1234", PhoneReason.SERVICE_NUMBER),
    ("+1 555", PhoneReason.INVALID_FOREIGN),
    ("+999 123 456", PhoneReason.INVALID_FOREIGN),
]


@pytest.mark.parametrize(("raw", "reason"), JUNK)
def test_junk_is_rejected_with_a_reason(raw: str | None, reason: PhoneReason) -> None:
    r = normalise_phone(raw)
    assert (r.e164, r.ok, r.reason) == (None, False, reason)
    assert r.message  # a sentence a person can act on


def test_every_reason_has_a_message() -> None:
    from sen.identity.phones import MESSAGES

    assert set(MESSAGES) == set(PhoneReason)


def test_the_raw_value_is_kept_as_typed() -> None:
    assert normalise_phone(" 0912.345.678 ").raw == " 0912.345.678 "
