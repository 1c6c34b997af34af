"""Personal names: one display form, and a folded form for fuzzy comparison.

Vietnamese names arrive as ``NGUYỄN THỊ LAN`` from old POS systems, as
``nguyen thi lan`` from keyboards without a Vietnamese input method, and in
decomposed Unicode (NFD) from some phones, which look identical but compare
unequal. :func:`normalise_name` gives the display form; :func:`fold_name`
drops diacritics and case so that all of these compare equal. A folded name
is a hint for matching, never a key: thousands of people are "Nguyen Van Nam".
"""

from __future__ import annotations

import re
import unicodedata

# Walk-in customers saved without a name ("khách lẻ" = a one-off customer).
PLACEHOLDER_NAMES = frozenset(
    {
        "-",
        ".",
        "x",
        "n/a",
        "na",
        "none",
        "null",
        "unknown",
        "khach",
        "khach le",
        "khach hang",
        "khach vang lai",
        "khong ten",
        "khong co",
    }
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HYPHEN = re.compile(r"(-)")


def normalise_name(raw: str | None) -> str | None:
    """The display form of a name: NFC, single spaces, each word capitalised.

    Returns None for an empty value or a placeholder such as "Khách lẻ".

    >>> normalise_name("  NGUYỄN   THỊ LAN ")
    'Nguyễn Thị Lan'
    """
    if raw is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", raw.translate(_INVISIBLE)).split())
    if not text or fold_name(text) in PLACEHOLDER_NAMES:
        return None
    words = (_capitalise_parts(word) for word in text.split(" "))
    return unicodedata.normalize("NFC", " ".join(words))


def fold_name(name: str) -> str:
    """Lower-case without diacritics (``Nguyễn Thị Lan`` -> ``nguyen thi lan``).

    NFD splits each letter from its marks; the marks (U+0300-U+036F) are
    dropped; ``đ`` has no decomposition, so it is mapped to ``d`` by hand.
    """
    decomposed = unicodedata.normalize("NFD", name.lower())
    bare = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return " ".join(bare.replace("đ", "d").replace("Đ", "D").split())


def _capitalise_parts(word: str) -> str:
    """Capitalise each hyphen-separated part (``jean-pierre`` -> ``Jean-Pierre``)."""
    return "".join(_capitalise(part) for part in _HYPHEN.split(word))


def _capitalise(word: str) -> str:
    """First letter upper, the rest lower.

    ``str.title`` would also capitalise after apostrophes and marks; a first
    letter whose capital is several letters (``ß``, ``ﬁ``) is left alone so
    that normalising twice changes nothing.
    """
    lower = word.lower()
    first = lower[:1].upper()
    return (first if len(first) == 1 else lower[:1]) + lower[1:]
