"""Vectorised random identifiers: hex UUIDs, digit strings, base-36 codes.

Building millions of identifiers one f-string at a time is the slowest part of
a naive generator; here they are assembled as byte matrices and viewed as
fixed-width strings, then handed to Arrow.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_B36 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)


def _to_arrow(chars: np.ndarray) -> pa.Array:
    """A (n, width) uint8 matrix of ASCII as an Arrow string array."""
    n, width = chars.shape
    fixed = np.ascontiguousarray(chars).view(f"S{width}").reshape(n)
    return pa.array(fixed, type=pa.binary(width)).cast(pa.string())


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random version-4 UUID strings (``8-4-4-4-12`` lowercase hex)."""
    raw = rng.integers(0, 16, size=(n, 32), dtype=np.uint8)
    raw[:, 12] = 4
    raw[:, 16] = 8 + (raw[:, 16] & 3)
    hexes = _HEX[raw]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src in ((0, 0), (9, 8), (14, 12), (19, 16), (24, 20)):
        width = {0: 8, 9: 4, 14: 4, 19: 4, 24: 12}[dst]
        out[:, dst : dst + width] = hexes[:, src : src + width]
    return _to_arrow(out)


def alphabet_codes(
    rng: np.random.Generator, n: int, length: int, alphabet: str = "digits"
) -> pa.Array:
    """Random fixed-length codes over digits, hex or upper-case base 36."""
    table = {"digits": _DIGITS, "hex": _HEX, "b36": _B36}[alphabet]
    idx = rng.integers(0, len(table), size=(n, length))
    return _to_arrow(table[idx])


def zero_padded(numbers: np.ndarray, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal strings of fixed width."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers[None, :]) % 10
    return _to_arrow(_DIGITS[digits])


def unique_draw(
    draw: callable, n: int, rng: np.random.Generator, max_rounds: int = 20
) -> np.ndarray:
    """Draw ``n`` distinct integers by redrawing collisions.

    ``draw(rng, k)`` returns k candidate int64 values. Collisions are rare for
    large spaces, so a handful of rounds always suffice; the first occurrence of
    a value keeps it, later ones are redrawn, which keeps the result
    deterministic.
    """
    values = draw(rng, n)
    for _ in range(max_rounds):
        _, first = np.unique(values, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            return values
        values[dup] = draw(rng, int(dup.sum()))
    raise RuntimeError("could not draw distinct identifiers; the space is too small")
