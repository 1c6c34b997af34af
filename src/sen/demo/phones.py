"""Vietnamese mobile numbers: real carrier prefixes, pre-2018 forms, typing styles.

Numbers are kept as the 9-digit national significant number (``912345678``);
``0`` + NSN is the national form and ``+84`` + NSN the E.164 form. In 2018-2019
11-digit numbers moved to 10 digits keeping the last 7 digits; the table below
is that migration, so a legacy number typed into an old POS record can be
generated for any migrated prefix.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo.codes import zero_padded

CARRIERS: dict[str, tuple[float, tuple[int, ...]]] = {
    "viettel": (0.52, (32, 33, 34, 35, 36, 37, 38, 39, 86, 96, 97, 98)),
    "vinaphone": (0.24, (81, 82, 83, 84, 85, 88, 91, 94)),
    "mobifone": (0.19, (70, 76, 77, 78, 79, 89, 90, 93)),
    "vietnamobile": (0.04, (52, 56, 58, 92)),
    "gmobile": (0.01, (59, 99)),
}
# new two-digit prefix (after the leading 0) -> old three-digit prefix
LEGACY_PREFIX: dict[int, int] = {
    70: 120,
    79: 121,
    77: 122,
    76: 126,
    78: 128,
    83: 123,
    84: 124,
    85: 125,
    81: 127,
    82: 129,
    32: 162,
    33: 163,
    34: 164,
    35: 165,
    36: 166,
    37: 167,
    38: 168,
    39: 169,
    56: 186,
    58: 188,
    59: 199,
}
ALL_PREFIXES = tuple(p for _, (_, ps) in CARRIERS.items() for p in ps)
STYLES = ("plain", "spaces", "dots", "plus84", "84", "0084", "plus84_spaces")


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 9-digit NSNs with carrier prefixes at market share."""
    shares = np.array([s for s, _ in CARRIERS.values()])
    carrier = rng.choice(len(CARRIERS), size=n, p=shares / shares.sum())
    prefixes = np.empty(n, dtype=np.int64)
    for i, (_, ps) in enumerate(CARRIERS.values()):
        mask = carrier == i
        prefixes[mask] = rng.choice(np.array(ps), size=int(mask.sum()))
    return prefixes * 10_000_000 + rng.integers(0, 10_000_000, size=n)


def prefix_of(nsn: np.ndarray) -> np.ndarray:
    """The two-digit carrier prefix of NSNs."""
    return np.asarray(nsn) // 10_000_000


def has_legacy_form(nsn: np.ndarray) -> np.ndarray:
    """Whether a number had an 11-digit form before the 2018 migration."""
    return np.isin(prefix_of(nsn), np.array(list(LEGACY_PREFIX)))


def national(nsn: np.ndarray) -> pa.Array:
    """``0`` + 9 digits, the form most people type."""
    return pc.binary_join_element_wise("0", zero_padded(nsn, 9), "")


def e164(nsn: np.ndarray) -> pa.Array:
    """NSNs in E.164 form: ``+84`` and the nine digits, no trunk ``0``."""
    return pc.binary_join_element_wise("+84", zero_padded(nsn, 9), "")


def legacy(nsn: np.ndarray) -> pa.Array:
    """The pre-2018 11-digit form (``0168xxxxxxx``) of migratable numbers."""
    table = np.zeros(100, dtype=np.int64)
    for new, old in LEGACY_PREFIX.items():
        table[new] = old
    old = table[prefix_of(nsn)]
    return pc.binary_join_element_wise(
        "0", zero_padded(old * 10_000_000 + np.asarray(nsn) % 10_000_000, 10), ""
    )


def styled(nsn: np.ndarray, style: np.ndarray) -> pa.Array:
    """Numbers written in the given styles (indices into :data:`STYLES`)."""
    digits = zero_padded(nsn, 9)
    a, b, c = (pc.utf8_slice_codeunits(digits, s, e) for s, e in ((0, 3), (3, 6), (6, 9)))
    forms = [
        pc.binary_join_element_wise("0", digits, ""),
        pc.binary_join_element_wise("0", a, " ", b, " ", c, ""),
        pc.binary_join_element_wise("0", a, ".", b, ".", c, ""),
        pc.binary_join_element_wise("+84", digits, ""),
        pc.binary_join_element_wise("84", digits, ""),
        pc.binary_join_element_wise("0084", digits, ""),
        pc.binary_join_element_wise("+84 ", a, " ", b, " ", c, ""),
    ]
    return _choose(np.asarray(style), forms)


def with_typo(rng: np.random.Generator, nsn: np.ndarray) -> np.ndarray:
    """Each number with one of its last seven digits mistyped."""
    nsn = np.asarray(nsn, dtype=np.int64)
    pos = 10 ** rng.integers(0, 7, size=len(nsn))
    digit = (nsn // pos) % 10
    new = (digit + rng.integers(1, 10, size=len(nsn))) % 10
    return nsn + (new - digit) * pos


def _choose(index: np.ndarray, options: list[pa.Array]) -> pa.Array:
    """Element-wise pick among equally long string arrays."""
    return pc.choose(pa.array(index.astype(np.int8)), *options)
