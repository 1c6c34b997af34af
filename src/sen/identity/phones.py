"""Phone numbers as typed by cashiers, web forms and old systems, to E.164.

A phone number is the strongest key a Vietnamese retailer has, so a wrong
rewrite merges strangers and a missed one splits a customer in two. The rules:

* Separators (spaces, dots, dashes, parentheses, slashes) are dropped; a leading
  ``+`` or ``00`` means an international number; ``84`` in front of 9 or 10
  digits is the country code; a number missing its leading ``0`` (spreadsheets
  drop it) is read as national.
* Mobile numbers must start with a current carrier prefix
  (:data:`~sen.identity.carriers.CARRIER_PREFIXES`); pre-2018 11-digit numbers
  are moved to their 10-digit form (:data:`~sen.identity.carriers.LEGACY_PREFIXES`).
* Landlines (``02x`` area codes, 11 digits with the ``0``) are checked with
  ``phonenumbers`` and never rewritten.
* Other country codes are kept in E.164 when ``phonenumbers`` says they are valid.
* Placeholders (``0000000000``, ``0123456789``, ``N/A``), masked marketplace
  numbers, letters and several numbers in one field are rejected with a reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import phonenumbers

from sen.identity.carriers import carrier_of, migrate_legacy
from sen.identity.names import fold_name

PhoneKind = Literal["mobile", "landline", "other"]


class PhoneReason(StrEnum):
    """Why a value is not a usable phone number (a stable code)."""

    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    LETTERS = "letters"
    MASKED = "masked"
    BAD_CHARACTERS = "bad_characters"
    SEVERAL_NUMBERS = "several_numbers"
    REPEATED_DIGITS = "repeated_digits"
    SEQUENTIAL_DIGITS = "sequential_digits"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    UNKNOWN_PREFIX = "unknown_prefix"
    UNKNOWN_LEGACY_PREFIX = "unknown_legacy_prefix"
    UNKNOWN_AREA_CODE = "unknown_area_code"
    SERVICE_NUMBER = "service_number"
    INVALID_FOREIGN = "invalid_foreign"


MESSAGES: dict[PhoneReason, str] = {
    PhoneReason.EMPTY: "no number was given",
    PhoneReason.PLACEHOLDER: "a placeholder such as N/A stands where a number should be",
    PhoneReason.LETTERS: "the value contains letters",
    PhoneReason.MASKED: "the number is masked (a marketplace hides its digits)",
    PhoneReason.BAD_CHARACTERS: "the value contains characters no phone number has",
    PhoneReason.SEVERAL_NUMBERS: "several numbers share one field; which one is the customer's?",
    PhoneReason.REPEATED_DIGITS: "all digits are the same, a placeholder like 0000000000",
    PhoneReason.SEQUENTIAL_DIGITS: "the digits run in sequence, a placeholder like 0123456789",
    PhoneReason.TOO_SHORT: "too few digits for a Vietnamese number",
    PhoneReason.TOO_LONG: "too many digits for a Vietnamese number",
    PhoneReason.UNKNOWN_PREFIX: "the prefix belongs to no Vietnamese carrier or area code",
    PhoneReason.UNKNOWN_LEGACY_PREFIX: "an 11-digit mobile number whose old prefix never existed",
    PhoneReason.UNKNOWN_AREA_CODE: "a landline with an area code that does not exist",
    PhoneReason.SERVICE_NUMBER: "a 1800/1900 service number, not a person's",
    PhoneReason.INVALID_FOREIGN: "a number with a foreign country code that is not valid there",
}


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """The outcome of :func:`normalise_phone`: an E.164 number or a reason.

    ``migrated`` is True when a pre-2018 11-digit number was moved to its
    current form; ``carrier`` is a code from ``CARRIER_PREFIXES`` (Vietnamese
    mobiles only).
    """

    raw: str
    e164: str | None = None
    kind: PhoneKind | None = None
    carrier: str | None = None
    foreign: bool = False
    migrated: bool = False
    reason: PhoneReason | None = None

    @property
    def ok(self) -> bool:
        return self.e164 is not None

    @property
    def message(self) -> str:
        """A sentence saying why the number was rejected ("" when it was not)."""
        return MESSAGES[self.reason] if self.reason else ""


_PLACEHOLDERS = frozenset(
    {"-", "--", "---", ".", "x", "xx", "n/a", "na", "none", "null", "nil", "khong", "khong co"}
)
_SEPARATORS = re.compile(r"[\s.\-()/]+")
_SPLITTERS = re.compile(r"\s*[/,;|]\s*|\s+(?:or|hoac)\s+")
_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"
_LANDLINE_TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE,)


def normalise_phone(raw: str | None) -> PhoneResult:
    """Normalise one typed phone number to E.164 (``+84912345678``) or say why not.

    >>> normalise_phone("0168 411 6370").e164
    '+84384116370'
    >>> normalise_phone("0000000000").reason
    <PhoneReason.REPEATED_DIGITS: 'repeated_digits'>
    """
    raw = "" if raw is None else raw
    text = unicodedata.normalize("NFKC", raw).strip()
    if rejected := _reject_text(text):
        return PhoneResult(raw, reason=rejected)
    plus = text.startswith("+")
    digits = _SEPARATORS.sub("", text.removeprefix("+"))
    if not digits.isascii() or not digits.isdigit():
        return PhoneResult(raw, reason=PhoneReason.BAD_CHARACTERS)
    if rejected := _reject_pattern(digits):
        return PhoneResult(raw, reason=rejected)
    if plus or digits.startswith("00"):
        full = digits if plus else digits[2:]
        if not full.startswith("84"):
            return _foreign(raw, full)
        return _vietnamese(raw, _drop_trunk(full[2:]))
    return _vietnamese(raw, _national_significant(digits))


def _reject_text(text: str) -> PhoneReason | None:
    """Reasons visible before looking at the digits."""
    if not text:
        return PhoneReason.EMPTY
    if fold_name(text) in _PLACEHOLDERS:
        return PhoneReason.PLACEHOLDER
    if "*" in text or "x" * 3 in text.lower():
        return PhoneReason.MASKED
    if len([p for p in _SPLITTERS.split(fold_name(text)) if sum(c.isdigit() for c in p) >= 8]) > 1:
        return PhoneReason.SEVERAL_NUMBERS
    if any(c.isalpha() for c in text):
        return PhoneReason.LETTERS
    return None


def _reject_pattern(digits: str) -> PhoneReason | None:
    """Placeholders typed to get past a mandatory field."""
    if len(digits) >= 7 and 1 in (len(set(digits)), len(set(digits.removeprefix("0")))):
        return PhoneReason.REPEATED_DIGITS
    if len(digits) >= 8 and (digits in _ASCENDING or digits in _DESCENDING):
        return PhoneReason.SEQUENTIAL_DIGITS
    return None


def _national_significant(digits: str) -> str:
    """The number without trunk ``0`` or country code, from digits typed without ``+``."""
    if digits.startswith("0"):
        return digits[1:]
    if digits.startswith("84") and len(digits) in (11, 12):
        return _drop_trunk(digits[2:])
    return digits  # the leading 0 was lost (a spreadsheet read it as a number)


def _drop_trunk(nsn: str) -> str:
    """``+84 0912…`` is a common slip: the trunk 0 does not belong after the country code."""
    return nsn[1:] if nsn.startswith("0") and len(nsn) in (10, 11) else nsn


def _vietnamese(raw: str, nsn: str) -> PhoneResult:
    """Classify a Vietnamese national significant number."""
    if nsn.startswith(("1800", "1900")) and len(nsn) in (8, 10):
        return PhoneResult(raw, reason=PhoneReason.SERVICE_NUMBER)
    if len(set(nsn)) == 1:
        return PhoneResult(raw, reason=PhoneReason.REPEATED_DIGITS)
    if len(nsn) < 9:
        return PhoneResult(raw, reason=PhoneReason.TOO_SHORT)
    if len(nsn) > 10 or (len(nsn) == 10 and nsn[0] not in "12"):
        return PhoneResult(raw, reason=PhoneReason.TOO_LONG)
    if len(nsn) == 10 and nsn[0] == "1":
        new = migrate_legacy(nsn)
        if new is None:
            return PhoneResult(raw, reason=PhoneReason.UNKNOWN_LEGACY_PREFIX)
        return PhoneResult(raw, f"+84{new}", "mobile", carrier_of(new), migrated=True)
    if len(nsn) == 10:
        return _landline(raw, nsn)
    carrier = carrier_of(nsn)
    if carrier is None:
        return PhoneResult(raw, reason=PhoneReason.UNKNOWN_PREFIX)
    return PhoneResult(raw, f"+84{nsn}", "mobile", carrier)


def _landline(raw: str, nsn: str) -> PhoneResult:
    """``02x`` area-code numbers: validated by ``phonenumbers``, kept as they are."""
    number = phonenumbers.parse(f"+84{nsn}")
    if phonenumbers.number_type(number) not in _LANDLINE_TYPES:
        return PhoneResult(raw, reason=PhoneReason.UNKNOWN_AREA_CODE)
    return PhoneResult(raw, f"+84{nsn}", "landline")


def _foreign(raw: str, digits: str) -> PhoneResult:
    """Numbers with another country code, kept when valid there."""
    try:
        number = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return PhoneResult(raw, reason=PhoneReason.INVALID_FOREIGN)
    if not phonenumbers.is_valid_number(number):
        return PhoneResult(raw, reason=PhoneReason.INVALID_FOREIGN)
    kind: PhoneKind = {
        phonenumbers.PhoneNumberType.MOBILE: "mobile",
        phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    }.get(phonenumbers.number_type(number), "other")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneResult(raw, e164, kind, foreign=True)
