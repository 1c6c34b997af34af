"""Coupon codes a cashier can read off a phone and type: the codec, no I/O.

**Alphabet.** 30 characters: the digits 2–9 and the letters A–Z without I, L,
O and Q. Both sides of each look-alike pair are left out (0/O/Q/D-ish rounds,
1/I/L strokes), so a code never makes anyone guess which one it was. The
count is even on purpose: Luhn mod N needs an even N for its doubling step to
be a permutation (with an odd N two characters double to the same value and
a substitution between them goes unseen).

**Check character.** A code is ``prefix + payload + check``; the check is Luhn
mod 30 over every character before it (the prefix too), so
:func:`is_valid` needs no pool. Luhn mod N detects

* every single-character substitution: at a given position a character adds
  either its value or its "doubled" value, and both maps are permutations of
  Z_N, so changing the character changes the sum mod N; and
* every adjacent transposition of two different characters except one pair:
  swapping ``a`` and ``b`` changes the sum by ``g(b) - g(a)`` with
  ``g(x) = doubled(x) - x``, and ``g`` repeats a value only for the first and
  last characters of the alphabet (``2`` and ``Z``; ``g = 0`` for both).

So codes are generated never to hold ``2`` next to ``Z`` (a rule
:func:`is_valid` enforces too); the one transposition Luhn misses cannot be
made from a valid code. ``tests/messaging/test_coupon_codes.py`` checks both
statements exhaustively over the alphabet and over every short code.

**Typing.** :func:`normalise` folds width and case (NFKC, upper case) and
drops spaces, hyphens and dots, so ``k7mp-q4xr 9`` is read as ``K7MPQ4XR9``.
It does *not* map excluded look-alikes (``O``, ``0``, ``I``, ``1``, ``L``,
``Q``) onto alphabet characters: there is no right answer to map ``O`` to
when ``0`` and ``D`` are both plausible, and a guess that happened to pass the
check character would redeem someone else's coupon. Such a character is
reported as a typing mistake, naming the characters codes never contain.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable

ALPHABET = "23456789ABCDEFGHJKMNPRSTUVWXYZ"
N = len(ALPHABET)
VALUE = {c: i for i, c in enumerate(ALPHABET)}
LOOK_ALIKES = "0O Q 1 I L"
# The one pair Luhn mod N cannot see swapped: the first and last characters.
FORBIDDEN_PAIRS = (ALPHABET[0] + ALPHABET[-1], ALPHABET[-1] + ALPHABET[0])
DEFAULT_LENGTH = 8
MIN_LENGTH, MAX_LENGTH = 6, 16
MAX_PREFIX = 8
MAX_CODE = 32  # the width of coupons.code
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.·]+")

assert N % 2 == 0, "Luhn mod N needs an even alphabet"


def _addend(value: int, doubled: bool) -> int:
    """A character's contribution: its value, or its value doubled with the base-N
    digits of the product added (Luhn's "sum of digits" in base N)."""
    if not doubled:
        return value
    twice = 2 * value
    return twice // N + twice % N


def check_character(body: str) -> str:
    """The Luhn mod N check character of ``body`` (prefix and payload, no check).

    Raises ``ValueError`` when ``body`` holds a character outside the alphabet.
    """
    total = 0
    for i, char in enumerate(reversed(body)):
        if char not in VALUE:
            raise ValueError(f"{char!r} is not a coupon code character")
        total += _addend(VALUE[char], doubled=i % 2 == 0)
    return ALPHABET[(N - total % N) % N]


def _luhn_ok(code: str) -> bool:
    total = sum(_addend(VALUE[c], doubled=i % 2 == 1) for i, c in enumerate(reversed(code)))
    return total % N == 0


def has_forbidden_pair(text: str) -> bool:
    return any(pair in text for pair in FORBIDDEN_PAIRS)


def is_valid(code: str) -> bool:
    """Whether ``code`` (already normalised) could be a code Sen generated: alphabet
    characters only, a plausible length, no ``2`` beside ``Z``, a right check."""
    if not (MIN_LENGTH + 1 <= len(code) <= MAX_CODE):
        return False
    if any(c not in VALUE for c in code) or has_forbidden_pair(code):
        return False
    return _luhn_ok(code)


def check_prefix(prefix: str) -> str | None:
    """Why ``prefix`` cannot start generated codes, or ``None`` when it can."""
    if len(prefix) > MAX_PREFIX:
        return f"A prefix has at most {MAX_PREFIX} characters."
    bad = sorted({c for c in prefix if c not in VALUE})
    if bad:
        return (f"The prefix holds {', '.join(bad)}; codes use only {ALPHABET} "
                f"(never {LOOK_ALIKES}, which cashiers confuse).")
    if has_forbidden_pair(prefix):
        return "The prefix may not hold 2 next to Z (a swap of the two would go unseen)."
    return None


def new_code(rng: random.Random, length: int = DEFAULT_LENGTH, prefix: str = "") -> str:
    """A new code: ``prefix``, ``length`` random characters and the check character.

    ``rng`` is ``secrets.SystemRandom()`` in production (codes must not be
    predictable) and a seeded ``random.Random`` in tests.
    """
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"length must be {MIN_LENGTH}–{MAX_LENGTH}")
    problem = check_prefix(prefix)
    if problem:
        raise ValueError(problem)
    while True:
        bits = rng.getrandbits(6 * length + 32)  # one draw; the spare bits make the bias nil
        chars = []
        for _ in range(length):
            bits, value = divmod(bits, N)
            chars.append(ALPHABET[value])
        body = prefix + "".join(chars)
        code = body + check_character(body)
        if not has_forbidden_pair(code):
            return code


def normalise(typed: str) -> str:
    """What a person typed, as a code: NFKC, upper case, separators removed."""
    folded = unicodedata.normalize("NFKC", typed).upper()
    return _SEPARATORS.sub("", folded)


def looks_mistyped(code: str, shapes: Iterable[tuple[str, int]] | None = None) -> str | None:
    """For a normalised code that matches nothing stored: why it looks like a typing
    mistake of one of Sen's codes, or ``None`` when it does not look like one.

    ``shapes`` are the (prefix, full length) of the generated pools: a code of
    another shape is someone else's, not a slip (``None`` accepts any shape).
    """
    if not (MIN_LENGTH + 1 <= len(code) <= MAX_CODE):
        return None
    if shapes is not None and not any(code.startswith(p) and len(code) == n
                                       for p, n in shapes):
        return None
    excluded = sorted({c for c in code if c in "0O1ILQ"})
    if any(c not in VALUE and c not in "0O1ILQ" for c in code):
        return None
    if excluded:
        return (f"The code holds {', '.join(excluded)}, which coupon codes never contain; "
                "check the code, a character looks mistyped.")
    if not is_valid(code):
        return ("The code's last character does not match the others: check the code, a "
                "character looks mistyped.")
    return None


def lookup_keys(typed: str) -> list[str]:
    """The stored forms ``typed`` may match, most exact first: the text as given
    (trimmed, upper case, for a retailer's own codes with their hyphens) and the
    normalised form (Sen's codes, typed with spaces or hyphens)."""
    plain = unicodedata.normalize("NFKC", typed).strip().upper()
    keys = [plain, normalise(typed)]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i] and len(k) <= MAX_CODE]
