"""Normalisation in SQL for values already in their commonest canonical shape.

At a million customers the Python normalisers see millions of distinct
values, most of them already canonical: ``0912345678``, a lower-case UUID, a
Zalo id of digits. For those shapes the SQL below gives exactly what the
Python normaliser gives (a test compares them on generated and demo values);
every other value, including every one these expressions answer NULL for,
goes through Python. The SQL never rejects: it only accepts what is plainly
good, so a disagreement could only ever be a missed shortcut, never a wrong key.
"""

from __future__ import annotations

from sen.identity.carriers import CARRIER_PREFIXES
from sen.identity.ids import PLACEHOLDER_IDS, IdentifierType

_MOBILE = ", ".join(sorted(f"'{p}'" for ps in CARRIER_PREFIXES.values() for p in ps))
_PLACEHOLDERS = ", ".join(f"'{p}'" for p in sorted(PLACEHOLDER_IDS))


def _distinct_chars(expr: str) -> str:
    return f"length(list_distinct(string_split({expr}, '')))"


def _phone(raw: str) -> str:
    """``0912345678``, ``84912345678``, ``+84912345678`` with a current mobile prefix,
    not a run of one digit nor a sequence (the placeholders the Python rejects)."""
    digits, nsn = f"replace({raw}, '+', '')", f"right({raw}, 9)"
    return f"""CASE WHEN regexp_full_match({raw}, '(0|84|\\+84)[35789][0-9]{{8}}')
        AND substr({nsn}, 1, 2) IN ({_MOBILE})
        AND {_distinct_chars(nsn)} > 1 AND {_distinct_chars(digits)} > 1
        AND NOT contains('01234567890123456789', {digits})
        AND NOT contains('98765432109876543210', {digits})
        THEN '+84' || {nsn} END"""


def _device(raw: str) -> str:
    return (f"CASE WHEN regexp_full_match({raw}, '[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-"
            f"[0-9a-f]{{4}}-[0-9a-f]{{12}}') AND {raw} <> "
            f"'00000000-0000-0000-0000-000000000000' THEN {raw} END")


def _zalo(raw: str) -> str:
    return f"CASE WHEN regexp_full_match({raw}, '[1-9][0-9]{{0,40}}') THEN {raw} END"


def _card(raw: str) -> str:
    return (f"CASE WHEN regexp_full_match({raw}, '[A-Z0-9]{{4,32}}') "
            f"AND lower({raw}) NOT IN ({_PLACEHOLDERS}) AND {_distinct_chars(raw)} > 1 "
            f"THEN {raw} END")


_FAST = {IdentifierType.PHONE: _phone, IdentifierType.DEVICE_ID: _device,
         IdentifierType.ZALO_ID: _zalo, IdentifierType.LOYALTY_CARD: _card}


def fast_sql(id_type: str = "id_type", raw: str = "raw") -> str:
    """SQL giving the normalised value of ``raw`` for the shapes above, else NULL."""
    cases = " ".join(f"WHEN {id_type} = '{t}' THEN {fn(raw)}" for t, fn in _FAST.items())
    return f"CASE {cases} END"
