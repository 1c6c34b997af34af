"""Vietnamese mobile carriers: current prefixes and the 2018-2019 prefix moves.

These tables are ours to keep. ``phonenumbers`` knows today's numbering plan
block by block, but it lags behind new blocks a carrier opens inside a prefix
it already holds, and it knows nothing of the 11-digit numbers that moved to
10 digits in 2018-2019, which are still in old POS and CRM records.

Prefixes are written without the trunk ``0``: ``"91"`` is the ``091`` of
``0912 345 678``; legacy prefixes are the three digits after the ``0`` of an
11-digit number (``"168"`` for ``0168 411 6370``).
"""

from __future__ import annotations

# Two-digit mobile prefixes in use today, by carrier (a stable lower-case code).
CARRIER_PREFIXES: dict[str, tuple[str, ...]] = {
    "viettel": ("32", "33", "34", "35", "36", "37", "38", "39", "86", "96", "97", "98"),
    "vinaphone": ("81", "82", "83", "84", "85", "88", "91", "94"),
    "mobifone": ("70", "76", "77", "78", "79", "89", "90", "93"),
    "vietnamobile": ("52", "56", "58", "92"),
    "gmobile": ("59", "99"),
    "itelecom": ("87",),  # virtual operator on VinaPhone's network
    "mobicast": ("55",),  # virtual operator (Reddi)
}

# Pre-2018 three-digit prefix -> today's two-digit prefix; the last 7 digits are kept.
LEGACY_PREFIXES: dict[str, str] = {
    # MobiFone
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    # VinaPhone
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    # Viettel
    "162": "32",
    "163": "33",
    "164": "34",
    "165": "35",
    "166": "36",
    "167": "37",
    "168": "38",
    "169": "39",
    # Vietnamobile
    "186": "56",
    "188": "58",
    # Gmobile
    "199": "59",
}

_CARRIER_OF: dict[str, str] = {p: c for c, ps in CARRIER_PREFIXES.items() for p in ps}


def carrier_of(nsn: str) -> str | None:
    """The carrier of a 9-digit national significant number, or None if its prefix
    is not a current mobile prefix."""
    return _CARRIER_OF.get(nsn[:2]) if len(nsn) == 9 else None


def migrate_legacy(nsn: str) -> str | None:
    """Today's 9-digit number for a 10-digit pre-2018 one (``1684116370`` ->
    ``384116370``), or None when the old prefix never existed."""
    new = LEGACY_PREFIXES.get(nsn[:3]) if len(nsn) == 10 else None
    return new + nsn[3:] if new else None
