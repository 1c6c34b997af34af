"""SMS length at the boundaries: 160/153 for GSM-7, 70/67 for UCS-2, in Vietnamese and ASCII."""

from __future__ import annotations

import unicodedata

import pytest

from sen.messaging.sms import GSM7_BASIC, GSM7_EXTENSION, encoding, measure, strip_diacritics

VI = "Chào chị Lan, ưu đãi giảm 30% tại Vela Sài Gòn!"  # ư, đ, ã force UCS-2


@pytest.mark.parametrize(("text", "enc", "parts"), [
    ("a" * 160, "gsm7", 1),
    ("a" * 161, "gsm7", 2),
    ("a" * 306, "gsm7", 2),
    ("a" * 307, "gsm7", 3),
    ("ư" * 70, "ucs2", 1),
    ("ư" * 71, "ucs2", 2),
    ("ư" * 134, "ucs2", 2),
    ("ư" * 135, "ucs2", 3),
    ("", "gsm7", 0),
])
def test_parts_at_the_boundaries(text: str, enc: str, parts: int) -> None:
    m = measure(text)
    assert (m.encoding, m.parts) == (enc, parts)


def test_extension_characters_take_two_septets() -> None:
    assert measure("€" * 80).parts == 1
    assert measure("€" * 80 + "a").parts == 2
    assert measure("a" * 159 + "[").units == 161


def test_only_six_vietnamese_letters_are_gsm7() -> None:
    assert encoding("à è é ì ò ù") == "gsm7"
    for letter in "áảãạăâđêôơư":
        assert encoding(letter) == "ucs2", letter


def test_vietnamese_text_is_ucs2_and_its_stripped_form_gsm7() -> None:
    assert measure(VI).encoding == "ucs2"
    plain = strip_diacritics(VI)
    assert plain == "Chao chi Lan, uu dai giam 30% tai Vela Sai Gon!"
    assert measure(plain).encoding == "gsm7"


def test_vietnamese_at_70_and_71_characters() -> None:
    text = (VI * 2)[:70]
    assert measure(text).parts == 1
    assert measure(text + "ơ").parts == 2
    assert measure(strip_diacritics(text + "ơ")).parts == 1


def test_emoji_counts_two_ucs2_units() -> None:
    assert measure("😀" * 35).parts == 1
    assert measure("😀" * 35 + "a").parts == 2


def test_strip_diacritics_maps_d_with_stroke_and_keeps_case() -> None:
    assert strip_diacritics("Đặng Thị Ngọc Điệp") == "Dang Thi Ngoc Diep"
    assert strip_diacritics("ĐƯỜNG ĐẾN") == "DUONG DEN"


def _reference_strip(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(
        ch for ch in decomposed if not 0x300 <= ord(ch) <= 0x36F))


def test_the_fast_paths_agree_with_the_definitions() -> None:
    chars = [chr(c) for c in range(0x3000)]
    for ch in chars:
        assert strip_diacritics(ch) == _reference_strip(ch), hex(ord(ch))
        gsm = ch in GSM7_BASIC or ch in GSM7_EXTENSION
        assert encoding(ch) == ("gsm7" if gsm else "ucs2"), hex(ord(ch))
        assert encoding(f"plain {ch} text") == ("gsm7" if gsm else "ucs2"), hex(ord(ch))
    decomposed = unicodedata.normalize("NFD", VI)
    assert strip_diacritics(decomposed) == strip_diacritics(VI) == _reference_strip(VI)
    assert measure("[QC] a{b}|€\f").units == len("[QC] a{b}|€\f") + 7
    assert encoding("tab\there") == "ucs2" and encoding("line\nbreak\r") == "gsm7"
    assert measure("x" * 200) is measure("y" * 200)  # lengths are shared, not rebuilt
