"""How long an SMS is: GSM-7 or UCS-2, and how many parts it is billed as.

Pure functions. A text that fits the GSM 03.38 alphabet goes as GSM-7: 160
septets in one message, 153 per part once split (the rest of each part holds
the concatenation header); characters of the extension table (``€ [ ] { } ~ ^
| \\`` and form feed) take two septets. Anything else forces UCS-2: 70 UTF-16
code units in one message, 67 per part (an emoji is two units). Of the
Vietnamese letters only à è é ì ò ù are in GSM-7, so most Vietnamese with
diacritics is UCS-2 and costs more than twice as much: :func:`strip_diacritics`
gives the plain form retailers often send instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Compiled once: a message is measured at every render, so the scans run in C.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_EXTENSION_CHARS = tuple(sorted(GSM7_EXTENSION))
_MARKS = re.compile("[\u0300-\u036f]+")

SINGLE = {"gsm7": 160, "ucs2": 70}
PART = {"gsm7": 153, "ucs2": 67}

Encoding = Literal["gsm7", "ucs2"]


@dataclass(frozen=True, slots=True)
class SmsLength:
    """An SMS text's encoding, its length in that encoding's units, and its parts.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2;
    ``per_part`` is what one part holds at this length (160/153 or 70/67), and
    ``remaining`` how many more units fit before another part starts.
    """

    encoding: Encoding
    units: int
    parts: int
    per_part: int
    remaining: int


def encoding(text: str) -> Encoding:
    """``gsm7`` when every character is in the GSM 03.38 alphabet, else ``ucs2``."""
    if text.isascii() and text.isprintable() and "`" not in text:
        return "gsm7"  # printable ASCII is GSM-7 but for the backtick: no scan needed
    return "ucs2" if _NOT_GSM7.search(text) else "gsm7"


def units(text: str, enc: Encoding) -> int:
    """Septets (GSM-7, extension characters count two) or UTF-16 code units (UCS-2)."""
    if enc == "gsm7":
        return len(text) + sum(map(text.count, _EXTENSION_CHARS))
    return len(text.encode("utf-16-le")) // 2


def measure(text: str) -> SmsLength:
    """The encoding, length and number of billed parts of ``text``."""
    enc = encoding(text)
    return _length(enc, units(text, enc))


@lru_cache(maxsize=4096)
def _length(enc: Encoding, n: int) -> SmsLength:
    """Parts depend only on the encoding and the length, so results are shared."""
    if n <= SINGLE[enc]:
        return SmsLength(enc, n, 1 if n else 0, SINGLE[enc], SINGLE[enc] - n)
    per = PART[enc]
    parts = -(-n // per)
    return SmsLength(enc, n, parts, per, parts * per - n)


def strip_diacritics(text: str) -> str:
    """Vietnamese without its marks: NFD, combining marks (U+0300–U+036F) dropped,
    đ/Đ mapped to d/D (they have no decomposition), then recomposed."""
    if text.isascii():
        return text
    kept = _MARKS.sub("", unicodedata.normalize("NFD", text))
    if "đ" in kept or "Đ" in kept:
        kept = kept.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", kept)


def cost(text: str, price_per_part: int) -> int:
    """What sending ``text`` costs at ``price_per_part`` VND a part."""
    return measure(text).parts * price_per_part
