"""How real people type real data: the planted dirt, as pure column transforms.

Each function takes clean truth and returns what a shop assistant, a web form
or an old system actually stored, plus a code saying which dirt was applied,
so the ground truth can name it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import names, phones

# phone dirt codes
PH_CLEAN, PH_STYLED, PH_LEGACY, PH_JUNK, PH_EMPTY = range(5)
PHONE_DIRT = ("clean", "styled", "legacy", "junk", "empty")
JUNK_PHONES = ("0000000000", "N/A", "0123456789", "-")
JUNK_EMAILS = (
    "test@test.com",
    "noemail@gmail.com",
    "noemail@velamoc.vn",
    "N/A",
    "khongco@gmail.com",
)
# name dirt codes
NAME_CLEAN, NAME_FOLDED, NAME_SWAPPED, NAME_CAPS = range(4)
NAME_DIRT = ("clean", "no_diacritics", "swapped_order", "all_caps")


def phones_as_typed(
    rng: np.random.Generator,
    nsn: np.ndarray,
    *,
    styled: float = 0.08,
    legacy: float = 0.05,
    junk: float = 0.012,
    empty: float = 0.02,
) -> tuple[pa.Array, np.ndarray]:
    """Numbers as stored: mostly ``0912345678``, some spaced, ``+84``, pre-2018, junk or empty.

    The legacy rate is of *all* numbers; it is reached by converting that many
    of the numbers that had an 11-digit form.
    """
    n = len(nsn)
    u = rng.random(n)
    can_legacy = phones.has_legacy_form(nsn)
    legacy_rate = legacy / max(can_legacy.mean(), 1e-9)
    kind = np.full(n, PH_CLEAN)
    kind[u < styled] = PH_STYLED
    kind[(rng.random(n) < legacy_rate) & can_legacy & (kind == PH_CLEAN)] = PH_LEGACY
    v = rng.random(n)
    kind[v < junk] = PH_JUNK
    kind[(v >= junk) & (v < junk + empty)] = PH_EMPTY
    style = rng.integers(1, len(phones.STYLES), n)
    text = phones.national(nsn)
    text = pc.if_else(pa.array(kind == PH_STYLED), phones.styled(nsn, style), text)
    text = pc.if_else(
        pa.array(kind == PH_LEGACY), phones.legacy(np.where(can_legacy, nsn, 0)), text
    )
    junk_text = names.pick(rng, list(JUNK_PHONES), n)
    text = pc.if_else(pa.array(kind == PH_JUNK), junk_text, text)
    text = pc.if_else(pa.array(kind == PH_EMPTY), pa.scalar(""), text)
    return text, kind


def emails_as_typed(
    rng: np.random.Generator,
    email: pa.Array,
    *,
    kept: float = 0.75,
    messy: float = 0.06,
    junk: float = 0.03,
) -> pa.Array:
    """Emails as a cashier records them: some dropped, some mixed-case with a trailing
    space, and placeholder junk where the customer gave none."""
    n = len(email)
    has = pc.is_valid(email).to_numpy(zero_copy_only=False) & (rng.random(n) < kept)
    out = pc.if_else(pa.array(has), email, pa.scalar(""))
    messy_mask = has & (rng.random(n) < messy)
    mixed = pc.binary_join_element_wise(pc.utf8_capitalize(email), "  ", "")
    upper = pc.binary_join_element_wise(pc.utf8_upper(email), " ", "")
    variant = pc.if_else(pa.array(rng.random(n) < 0.5), mixed, upper)
    out = pc.if_else(pa.array(messy_mask), variant, out)
    junk_mask = ~has & (rng.random(n) < junk / 0.5)
    return pc.if_else(pa.array(junk_mask), names.pick(rng, list(JUNK_EMAILS), n), out)


def names_as_typed(
    surname: pa.Array, middle: pa.Array, given: pa.Array, kind: np.ndarray
) -> pa.Array:
    """Full names with the given dirt: folded, given-name-first, or ALL CAPS."""
    proper = names.join_words(surname, middle, given)
    swapped = names.join_words(given, middle, surname)
    options = [proper, names.fold(proper), swapped, pc.utf8_upper(proper)]
    return pc.choose(pa.array(kind.astype(np.int8)), *options)


def blank_some(rng: np.random.Generator, text: pa.Array, rate: float) -> pa.Array:
    """Empty a share of values (missing birth dates, provinces, genders)."""
    mask = rng.random(len(text)) < rate
    return pc.if_else(pa.array(mask), pa.scalar(""), text)
