"""Does an SMS reply mean "stop sending me this"?

Decree 91/2020 makes a refusal stop advertising at once, so the keywords
customers actually type must be caught however they are written: ``TC``,
``tc``, ``Hủy``, ``HUY``, ``Từ chối``, ``TUCHOI``, ``STOP``, ``TC SENSHOES``,
``tc.senshoes``, ``"Huỷ QC!"``. The text is compared without case,
diacritics, punctuation or extra spaces.

A reply is an opt-out when it is nothing but a refusal keyword, optionally
followed by one word naming what is refused (the brandname, ``QC``…). Longer
sentences are not: "hủy đơn hàng giúp tôi" asks to cancel an order. ``HUY``
and ``NGUNG`` are also everyday words ("Huy" is a common name, "hủy đơn" is
"cancel the order"), so after them only a known target word counts;
``TC``, ``TU CHOI`` and ``STOP`` mean nothing else and take any one word.

>>> is_opt_out("Từ chối")
True
>>> is_opt_out("tc senshoes.")
True
>>> is_opt_out("Hủy đơn")
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sen.messaging.sms import strip_diacritics

# Phrases that only ever mean "stop", followed by at most one word of any kind.
STRONG = frozenset({
    "TC", "TUCHOI", "TU CHOI", "STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "UNSUB",
    "OPTOUT", "OPT OUT", "HUYDK", "HUY DK", "HUY DANG KY", "HUYDANGKY",
    "KHONG NHAN", "KHONG NHAN TIN", "NGUNG NHAN", "NGUNG NHAN TIN",
})
# Everyday words that mean "stop" only alone or before a known target.
WEAK = frozenset({"HUY", "NGUNG"})
# Words that name what is refused (besides the sender's own brandnames).
TARGETS = frozenset({
    "QC", "QUANGCAO", "QUANG CAO", "TIN", "TINNHAN", "TIN NHAN", "SMS", "ALL", "TATCA",
    "TAT CA", "DK", "DANGKY", "DANG KY", "KM", "KHUYENMAI", "KHUYEN MAI",
})

_NOT_WORD = re.compile(r"[^0-9A-Z]+")


def normalise(text: str) -> str:
    """Upper case, no diacritics, words of letters and digits separated by one space."""
    plain = strip_diacritics(text).upper()
    return _NOT_WORD.sub(" ", plain).strip()


def _brands(brandnames: Iterable[str]) -> set[str]:
    names = {normalise(b) for b in brandnames}
    return (names | {n.replace(" ", "") for n in names}) - {""}


def is_opt_out(text: str, brandnames: Iterable[str] = ()) -> bool:
    """True when ``text`` is a refusal keyword reply (see the module docstring).

    ``brandnames`` are the sender's names, accepted after any keyword
    (``HUY SENSHOES``) and glued to it (``TCSENSHOES``).
    """
    words = normalise(text)
    if not words:
        return False
    brands = _brands(brandnames)
    if words in STRONG or words in WEAK:
        return True
    for phrase in STRONG | WEAK:
        if any(words == phrase.replace(" ", "") + b for b in brands):
            return True
        if not words.startswith(phrase + " "):
            continue
        rest = words[len(phrase) + 1:]
        if rest in brands or rest in TARGETS:
            return True
        if phrase in STRONG and " " not in rest:
            return True
    return False
