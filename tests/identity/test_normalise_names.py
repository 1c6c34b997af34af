"""Vietnamese names: display form and folded form."""

from __future__ import annotations

import unicodedata

import pytest

from sen.identity import fold_name, normalise_name

DISPLAY = [
    ("NGUYỄN THỊ LAN", "Nguyễn Thị Lan"),
    ("nguyễn thị lan", "Nguyễn Thị Lan"),
    ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
    ("  nguyễn   THỊ\tlan  ", "Nguyễn Thị Lan"),
    ("ĐẶNG VĂN ĐỨC", "Đặng Văn Đức"),
    ("đỗ ánh dương", "Đỗ Ánh Dương"),
    ("ÂU DƯƠNG ƯNG", "Âu Dương Ưng"),
    ("ỨNG THỊ YẾN", "Ứng Thị Yến"),
    ("NGUYEN THI LAN", "Nguyen Thi Lan"),  # no diacritics to restore: kept as typed
    ("Lan Nguyen Thi", "Lan Nguyen Thi"),  # order is not guessed
    ("nguyễn\u00a0thị lan", "Nguyễn Thị Lan"),  # a no-break space
    ("nguyễn\u200b thị lan", "Nguyễn Thị Lan"),  # a zero-width space
    ("jean-pierre DUPONT", "Jean-Pierre Dupont"),
]


@pytest.mark.parametrize(("raw", "name"), DISPLAY)
def test_display_form(raw: str, name: str) -> None:
    assert normalise_name(raw) == name


def test_decomposed_input_gives_the_composed_name() -> None:
    decomposed = unicodedata.normalize("NFD", "NGUYỄN THỊ LAN")
    assert decomposed != "NGUYỄN THỊ LAN"
    name = normalise_name(decomposed)
    assert name == "Nguyễn Thị Lan"
    assert name is not None and unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize(
    "raw", [None, "", "   ", "N/A", "-", "Khách lẻ", "KHACH LE", "khách hàng", "Khách vãng lai"]
)
def test_empty_and_placeholder_names_are_none(raw: str | None) -> None:
    assert normalise_name(raw) is None


FOLDED = [
    ("Nguyễn Thị Lan", "nguyen thi lan"),
    ("NGUYỄN THỊ LAN", "nguyen thi lan"),
    ("nguyen thi lan", "nguyen thi lan"),
    ("Đặng Văn Đức", "dang van duc"),
    ("ĐỖ ĐÌNH ĐẠT", "do dinh dat"),
    ("Trương Mỹ Ưng", "truong my ung"),
    ("  Lê   Ánh  ", "le anh"),
]


@pytest.mark.parametrize(("name", "folded"), FOLDED)
def test_fold_drops_diacritics_case_and_extra_spaces(name: str, folded: str) -> None:
    assert fold_name(name) == folded


def test_fold_makes_every_typing_of_a_name_equal() -> None:
    typings = ["Nguyễn Thị Lan", "NGUYỄN THỊ LAN", "nguyen thi lan", "NGUYEN  THI LAN"]
    typings.append(unicodedata.normalize("NFD", "Nguyễn Thị Lan"))
    assert {fold_name(t) for t in typings} == {"nguyen thi lan"}


def test_fold_keeps_different_names_apart() -> None:
    assert fold_name("Nguyễn Thị Lan") != fold_name("Nguyễn Thị Lân Anh")
