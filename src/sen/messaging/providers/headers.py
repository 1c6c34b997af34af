"""Email headers written so that every reader shows what Sen meant.

Two defects of the standard library's header folding (Python 3.11) bite
Vietnamese mail and the unsubscribe headers, so this policy writes those
headers itself:

* Non-ASCII text. The email package splits it into encoded words and puts the
  space between two words *between* two encoded words, where RFC 2047 §6.2
  tells readers to drop it ("Đặng Thị" arrives as "ĐặngThị"); its older
  ``Header`` class keeps spaces inside but splits in the middle of words, which
  Python's own address parser then shows with a space inside the word.
  :func:`encoded_words` splits between words, each encoded word carrying the
  space that follows its words, every word at most 75 characters and every
  line at most 76 (RFC 2047 §2).
* ``List-Unsubscribe`` / ``List-Unsubscribe-Post``. A long URI is turned into
  encoded words, which no mailbox provider decodes there, and the one-click
  link is lost. They are written as given, folded only after a comma.
"""

from __future__ import annotations

import base64
import re
from email.policy import EmailPolicy
from email.utils import formataddr

RAW_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
MAX_WORD = 75
MAX_LINE = 76
_TOKENS = re.compile(r"\s*\S+\s*")


def _word(chunk: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(chunk.encode()).decode()}?="


def _fits(chunk: str, room: int) -> bool:
    return len(_word(chunk)) <= min(room, MAX_WORD)


def _split_long(token: str, room: int) -> list[str]:
    """A single word too long for one encoded word, cut between characters."""
    parts, current = [], ""
    for ch in token:
        if current and not _fits(current + ch, room):
            parts.append(current)
            current, room = "", MAX_LINE - 1
        current += ch
    return [*parts, current] if current else parts


def encoded_words(text: str, first_room: int) -> list[str]:
    """``text`` as RFC 2047 B-encoded words, split between words; the first fits in
    ``first_room`` characters (what is left of the header's first line)."""
    chunks: list[str] = []
    current, room = "", first_room
    for token in _TOKENS.findall(text) or [text]:
        if _fits(current + token, room):
            current += token
            continue
        if current:
            chunks.append(current)
            current, room = "", MAX_LINE - 1
        if _fits(token, room):
            current = token
        else:
            *whole, current = _split_long(token, room)
            chunks.extend(whole)
            room = MAX_LINE - 1
    if current:
        chunks.append(current)
    return [_word(c) for c in chunks]


def fold_raw(name: str, value: str, linesep: str) -> str:
    """``Name: <a>, <b>`` with each further item on a continuation line (RFC 5322
    folding at the white space after a comma), never re-encoded."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    return f"{name}: " + f",{linesep} ".join(parts) + linesep


def _phrase(name: str, linesep: str, room: int) -> str:
    if name.isascii():
        return formataddr((name, "x@x")).rpartition(" <")[0]  # quoted when it must be
    return f"{linesep} ".join(encoded_words(name, room))


def _mailbox(name: str, address: str, linesep: str, room: int) -> str:
    if not name:
        return address
    phrase = _phrase(name, linesep, room)
    last = phrase.rpartition(linesep)[2]
    fits = len(last) + len(address) + 3 <= (room if last == phrase else MAX_LINE)
    return f"{phrase}{' ' if fits else linesep + ' '}<{address}>"


class SenPolicy(EmailPolicy):
    """SMTP line endings and 7-bit bodies, with the headers above written by Sen."""

    def _folded(self, name: str, value: str) -> str | None:
        text, sep = str(value), self.linesep
        if name.lower() in RAW_HEADERS:
            return fold_raw(name, text, sep)
        if text.isascii():
            return None
        room = MAX_LINE - len(name) - 2
        addresses = getattr(value, "addresses", None)
        if addresses is None:
            return f"{name}: " + f"{sep} ".join(encoded_words(text, room)) + sep
        return f"{name}: " + f",{sep} ".join(_mailbox(a.display_name, a.addr_spec, sep, room)
                                             for a in addresses) + sep

    def fold(self, name: str, value: str) -> str:
        folded = self._folded(name, value)
        return super().fold(name, value) if folded is None else folded

    def fold_binary(self, name: str, value: str) -> bytes:
        folded = self._folded(name, value)
        return super().fold_binary(name, value) if folded is None else folded.encode("ascii")


POLICY = SenPolicy(linesep="\r\n", cte_type="7bit")
