"""Emails and phones as each ad platform wants them hashed.

Both platforms match on SHA-256 of a normalised value, so one differing byte
means no match. Sen first runs its own identity normalisers
(:func:`~sen.identity.emails.normalise_email`,
:func:`~sen.identity.phones.normalise_phone`), which also move pre-2018
11-digit mobile numbers to their current form and reject placeholders, then
applies each platform's documented rule:

=========  ==========================================  ==============================
platform   email                                       phone
=========  ==========================================  ==============================
Meta       trimmed, lower-case                         digits with country code, no
                                                       ``+``, no leading zeros
                                                       (``84912345678``)
Google     trimmed, lower-case; dots in Gmail          E.164 with ``+``
           addresses are kept (Customer Match does     (``+84912345678``)
           not require removing them)
=========  ==========================================  ==============================

Placeholders (``noemail@gmail.com``, ``0000000000``) are refused: uploading
them would put strangers who happen to own that address in the audience.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sen.identity.emails import normalise_email
from sen.identity.phones import normalise_phone

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Normalised:
    """A value ready to hash, or why there is none.

    ``reason`` is the stable code from :mod:`sen.identity` (``"placeholder_address"``,
    ``"repeated_digits"``…) and ``message`` the sentence that explains it.
    """

    value: str | None
    reason: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


def _email(raw: str | None) -> Normalised:
    result = normalise_email(raw)
    if result.email is None or result.reason is not None:
        return Normalised(None, str(result.reason), result.message)
    return Normalised(result.email)


def _e164(raw: str | None) -> Normalised:
    result = normalise_phone(raw)
    if result.e164 is None:
        return Normalised(None, str(result.reason), result.message)
    return Normalised(result.e164)


def meta_email(raw: str | None) -> Normalised:
    """An email as Meta hashes it: trimmed and lower-cased.

    >>> meta_email("  Lan.Nguyen@Gmail.COM ").value
    'lan.nguyen@gmail.com'
    """
    return _email(raw)


def google_email(raw: str | None) -> Normalised:
    """An email as Google Customer Match hashes it: trimmed and lower-cased.

    Gmail dots are kept: the Customer Match guide says removing them is not
    required (only the enhanced-conversions guide asks for it).

    >>> google_email("Mai.Anh@GoogleMail.com").value
    'mai.anh@googlemail.com'
    """
    return _email(raw)


def meta_phone(e164: str | None) -> Normalised:
    """A phone as Meta hashes it: country code and digits, no ``+``.

    Accepts E.164 or anything Sen's phone normaliser reads.

    >>> meta_phone("+84912345678").value
    '84912345678'
    """
    result = _e164(e164)
    return Normalised(result.value.removeprefix("+")) if result.value else result


def google_phone(e164: str | None) -> Normalised:
    """A phone as Google hashes it: E.164 with the ``+``.

    >>> google_phone("0168 411 6370").value
    '+84384116370'
    """
    return _e164(e164)


def sha256_hex(value: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes of ``value`` (both platforms' format)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_sha256_hex(value: object) -> bool:
    """Whether ``value`` looks like :func:`sha256_hex` output (64 lower-case hex digits)."""
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None
