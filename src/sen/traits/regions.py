"""Vietnam's provinces and the three regions, from a province as a person typed it.

Customer records say ``Hà Nội``, ``HA NOI``, ``hanoi``, ``TP.HCM``, ``Sài Gòn``
or ``Tỉnh Bà Rịa - Vũng Tàu``; :func:`region_of` turns each into the canonical
name and its region::

    >>> region_of("tp hcm")
    ('TP. Hồ Chí Minh', 'South')
    >>> region_of("Thanh Hoa")
    ('Thanh Hóa', 'Central')

The table holds the 63 provinces and cities in use until June 2025, because
that is what existing records contain. Since 1 July 2025 there are 34; every
one of them kept the name of a province it absorbed (Huế excepted, which is
Thừa Thiên Huế renamed), so the new names resolve too. A merger never crossed
a region, so a name means one region whichever map it comes from;
:data:`MERGED_2025` says which of the 34 each old province is now part of.

Regions are the usual three: North (northern midlands and mountains, Red
River Delta), Central (North and South Central Coast, Central Highlands) and
South (Southeast, Mekong Delta).
"""

from __future__ import annotations

import re
import unicodedata

REGIONS: tuple[str, ...] = ("North", "Central", "South")

_NORTH = (
    # Northern midlands and mountains
    "Hà Giang", "Cao Bằng", "Bắc Kạn", "Tuyên Quang", "Lào Cai", "Yên Bái", "Thái Nguyên",
    "Lạng Sơn", "Bắc Giang", "Phú Thọ", "Điện Biên", "Lai Châu", "Sơn La", "Hòa Bình",
    # Red River Delta
    "Hà Nội", "Vĩnh Phúc", "Bắc Ninh", "Quảng Ninh", "Hải Dương", "Hải Phòng", "Hưng Yên",
    "Thái Bình", "Hà Nam", "Nam Định", "Ninh Bình",
)
_CENTRAL = (
    # North Central Coast
    "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Thừa Thiên Huế",
    # South Central Coast
    "Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa",
    "Ninh Thuận", "Bình Thuận",
    # Central Highlands (Tây Nguyên)
    "Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng",
)
_SOUTH = (
    # Southeast
    "TP. Hồ Chí Minh", "Bình Phước", "Bình Dương", "Đồng Nai", "Tây Ninh", "Bà Rịa - Vũng Tàu",
    # Mekong Delta
    "Cần Thơ", "Long An", "Tiền Giang", "Bến Tre", "Trà Vinh", "Vĩnh Long", "Đồng Tháp",
    "An Giang", "Kiên Giang", "Hậu Giang", "Sóc Trăng", "Bạc Liêu", "Cà Mau",
)

# The 63 provinces and centrally-run cities (until 30 June 2025): canonical name -> region.
PROVINCES: dict[str, str] = {
    **dict.fromkeys(_NORTH, "North"),
    **dict.fromkeys(_CENTRAL, "Central"),
    **dict.fromkeys(_SOUTH, "South"),
}

# Resolution 202/2025/QH15, from 1 July 2025: the province each of the 63 is part of now.
# Eleven kept their borders; each of the other 23 took the name of one it absorbed.
_MERGERS: dict[str, tuple[str, ...]] = {
    "Tuyên Quang": ("Hà Giang",),
    "Lào Cai": ("Yên Bái",),
    "Thái Nguyên": ("Bắc Kạn",),
    "Phú Thọ": ("Vĩnh Phúc", "Hòa Bình"),
    "Bắc Ninh": ("Bắc Giang",),
    "Hưng Yên": ("Thái Bình",),
    "Hải Phòng": ("Hải Dương",),
    "Ninh Bình": ("Hà Nam", "Nam Định"),
    "Quảng Trị": ("Quảng Bình",),
    "Đà Nẵng": ("Quảng Nam",),
    "Quảng Ngãi": ("Kon Tum",),
    "Gia Lai": ("Bình Định",),
    "Khánh Hòa": ("Ninh Thuận",),
    "Lâm Đồng": ("Đắk Nông", "Bình Thuận"),
    "Đắk Lắk": ("Phú Yên",),
    "TP. Hồ Chí Minh": ("Bình Dương", "Bà Rịa - Vũng Tàu"),
    "Đồng Nai": ("Bình Phước",),
    "Tây Ninh": ("Long An",),
    "Cần Thơ": ("Sóc Trăng", "Hậu Giang"),
    "Vĩnh Long": ("Bến Tre", "Trà Vinh"),
    "Đồng Tháp": ("Tiền Giang",),
    "Cà Mau": ("Bạc Liêu",),
    "An Giang": ("Kiên Giang",),
}
MERGED_2025: dict[str, str] = {
    **{name: name for name in PROVINCES},
    **{old: new for new, olds in _MERGERS.items() for old in olds},
    "Thừa Thiên Huế": "Huế",
}
# The 34 provinces and cities from 1 July 2025 (Huế is Thừa Thiên Huế's new name).
PROVINCES_2025: tuple[str, ...] = tuple(dict.fromkeys(MERGED_2025.values()))

# Other ways people write a province: abbreviations, old or English names, its best-known
# city. Keys are compared folded (see :func:`key`), so diacritics and case do not matter.
ALIASES: dict[str, str] = {
    "HN": "Hà Nội", "Thủ đô Hà Nội": "Hà Nội",
    "HCM": "TP. Hồ Chí Minh", "TPHCM": "TP. Hồ Chí Minh", "HCMC": "TP. Hồ Chí Minh",
    "Hồ Chí Minh": "TP. Hồ Chí Minh", "Sài Gòn": "TP. Hồ Chí Minh",
    "Saigon": "TP. Hồ Chí Minh", "Sài Gòn - Gia Định": "TP. Hồ Chí Minh",
    "Huế": "Thừa Thiên Huế", "TT Huế": "Thừa Thiên Huế", "TTH": "Thừa Thiên Huế",
    "Vũng Tàu": "Bà Rịa - Vũng Tàu", "BR-VT": "Bà Rịa - Vũng Tàu",
    "Bà Rịa": "Bà Rịa - Vũng Tàu",
    "Đắc Lắc": "Đắk Lắk", "Đắc Nông": "Đắk Nông",
    "Kontum": "Kon Tum",
}

_PREFIX = re.compile(r"^(?:(?:thanh pho|thu do|tinh|t\.?\s?p|t)\b[\s.]*)+")
_SUFFIX = re.compile(r"[\s,]+(?:city|province)$")
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without diacritics: NFD, combining marks dropped, đ → d."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower())
    plain = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return plain.replace("đ", "d")


def key(text: str) -> str:
    """The form provinces are matched on: folded, without "TP." / "Tỉnh" / "Thành phố"
    in front or "city" / "province" behind, letters and digits only.

    >>> key("Tỉnh Bà Rịa - Vũng Tàu"), key("TP.HCM"), key("Ha Noi city")
    ('bariavungtau', 'hcm', 'hanoi')
    """
    folded = _SUFFIX.sub("", _PREFIX.sub("", fold(text)))
    return _NOT_KEY.sub("", folded)


def _index() -> dict[str, str]:
    index = {key(name): name for name in PROVINCES}
    for alias, name in ALIASES.items():
        index.setdefault(key(alias), name)
    return index


_INDEX = _index()


def region_of(province: str | None) -> tuple[str | None, str | None]:
    """(canonical province name, region) of a province as typed; (None, None) if unknown.

    >>> region_of("HA NOI"), region_of("Sài Gòn"), region_of("Mars")
    (('Hà Nội', 'North'), ('TP. Hồ Chí Minh', 'South'), (None, None))
    """
    if not province:
        return None, None
    name = _INDEX.get(key(province))
    return (name, PROVINCES[name]) if name else (None, None)


def regions_table() -> list[tuple[str, str, str]]:
    """Every matching key with its canonical name and region, for a SQL join on
    :func:`key` of the raw value: ``(key, province, region)``, sorted by key."""
    return sorted((k, name, PROVINCES[name]) for k, name in _INDEX.items())
