"""Coupon codes: the alphabet, the Luhn mod 30 check character and what it catches.

The proof that every single substitution and every adjacent transposition of a
valid code is caught has two parts, both checked exhaustively here:

1. Luhn's sum is positional: a character at an even distance from the end adds
   its value, at an odd distance its "doubled" value. A substitution changes
   one addend; it is caught iff both maps are permutations of Z_30.
   A transposition of neighbours ``a b`` → ``b a`` changes the sum by
   ``±(g(b) - g(a))`` with ``g(x) = doubled(x) - x``; it is caught iff
   ``g(a) ≠ g(b)``, which holds for every pair but {2, Z}.
2. No valid code holds 2 next to Z, so that pair is never there to swap.

Then the same is checked by brute force on every code of a short length and on
random codes of every shape, through :func:`is_valid` itself.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sen.messaging.coupons import codes
from sen.messaging.coupons.codes import (
    ALPHABET,
    N,
    _addend,
    _luhn_ok,
    check_character,
    has_forbidden_pair,
    is_valid,
    looks_mistyped,
    new_code,
    normalise,
)

LOOK_ALIKES = set("0O1ILQ")


def test_the_alphabet_has_no_look_alikes_and_an_even_size():
    assert len(set(ALPHABET)) == len(ALPHABET) == 30
    assert not LOOK_ALIKES & set(ALPHABET)
    assert N % 2 == 0


@pytest.mark.parametrize("doubled", [False, True])
def test_each_position_adds_a_permutation_of_the_values(doubled):
    addends = {_addend(v, doubled) % N for v in range(N)}
    assert addends == set(range(N))


def test_only_the_first_and_last_characters_can_swap_unseen():
    g = {c: (_addend(v, True) - v) % N for c, v in codes.VALUE.items()}
    unseen = {frozenset((a, b)) for a, b in itertools.combinations(ALPHABET, 2) if g[a] == g[b]}
    assert unseen == {frozenset(("2", "Z"))}
    assert set(codes.FORBIDDEN_PAIRS) == {"2Z", "Z2"}


def _substitutions(code: str):
    for i, c in enumerate(code):
        for other in ALPHABET:
            if other != c:
                yield code[:i] + other + code[i + 1:]


def _transpositions(code: str):
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            yield code[:i] + code[i + 1] + code[i] + code[i + 2:]


def test_every_error_of_every_two_character_body_is_caught():
    """All 900 bodies of two characters with their check character: a doubled and an
    undoubled position, both kinds of neighbours, the check character's included, which
    is every local situation a code of any length has (Luhn's addends depend only on
    the parity of the distance from the end)."""
    checked = 0
    for body in map("".join, itertools.product(ALPHABET, repeat=2)):
        code = body + check_character(body)
        assert _luhn_ok(code)
        if has_forbidden_pair(code):
            continue  # never generated: see the test above
        for wrong in itertools.chain(_substitutions(code), _transpositions(code)):
            assert not _luhn_ok(wrong), (code, wrong)
        checked += 1
    assert checked > 850  # all but the few holding 2 beside Z


prefixes = st.text(alphabet=ALPHABET, max_size=4).filter(lambda p: not has_forbidden_pair(p))


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), length=st.integers(6, 16), prefix=prefixes)
def test_generated_codes_are_valid_and_every_slip_is_caught(seed, length, prefix):
    code = new_code(random.Random(seed), length, prefix)
    assert code.startswith(prefix) and len(code) == len(prefix) + length + 1
    assert is_valid(code)
    assert not LOOK_ALIKES & set(code) and set(code) <= set(ALPHABET)
    assert not has_forbidden_pair(code)
    for wrong in itertools.chain(_substitutions(code), _transpositions(code)):
        assert not is_valid(wrong), wrong


def test_a_million_generated_characters_hold_no_look_alike():
    rng = random.Random(7)
    seen = set().union(*(new_code(rng, 16) for _ in range(60_000)))
    assert seen == set(ALPHABET)


@pytest.mark.parametrize(("typed", "read"), [
    ("k7mp-q4xr 9", "K7MPQ4XR9"),
    (" tet – 6mxv u4a5 5 ", "TET6MXVU4A55"),
    ("ＴＥＴ６ＭＸＶＵ４Ａ５５", "TET6MXVU4A55"),  # full-width, from some phone keyboards
    ("tet.6mxv_u4a55", "TET6MXVU4A55"),
])
def test_normalise_folds_case_width_and_separators(typed, read):
    assert normalise(typed) == read


def test_look_alikes_are_not_mapped_but_reported():
    code = new_code(random.Random(3), 8)
    assert normalise(code.replace(code[2], "O")) != code  # no guessing O → anything
    typed_o = code[:3] + "O" + code[4:]
    assert "never contain" in looks_mistyped(typed_o)
    wrong = code[:-1] + next(c for c in ALPHABET if c != code[-1])
    assert "a character looks mistyped" in looks_mistyped(wrong)
    assert looks_mistyped(code) is None
    assert looks_mistyped("SALE-2024") is None  # too short, so not one of Sen's
    assert looks_mistyped("SUMMER#2024") is None  # holds characters Sen never uses


def test_bad_lengths_and_prefixes_are_refused():
    rng = random.Random(1)
    with pytest.raises(ValueError, match="length"):
        new_code(rng, 5)
    with pytest.raises(ValueError, match="never"):
        new_code(rng, 8, "SALE")  # L is a look-alike
    with pytest.raises(ValueError, match="2 next to Z"):
        new_code(rng, 8, "Z2")


def test_check_character_refuses_foreign_characters():
    with pytest.raises(ValueError):
        check_character("ABO")
    assert not is_valid("ABCDEF0")
