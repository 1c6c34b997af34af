"""Every identifier type behind one call: ``normalise(type, raw)``.

Identity resolution links people through identifiers of different kinds; each
kind has its own rules for what counts as the same value and what is junk. The
result is either :class:`Normalised` (the canonical value, safe to merge on)
or :class:`Rejected` (with a stable reason code and a sentence saying why).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sen.identity.emails import normalise_email
from sen.identity.names import fold_name
from sen.identity.phones import normalise_phone


class IdentifierType(StrEnum):
    """The kinds of identifier Sen links people through."""

    USER_ID = "user_id"
    PHONE = "phone"
    EMAIL = "email"
    ANONYMOUS_ID = "anonymous_id"
    DEVICE_ID = "device_id"
    ZALO_ID = "zalo_id"
    MARKETPLACE_BUYER = "marketplace_buyer"
    LOYALTY_CARD = "loyalty_card"


@dataclass(frozen=True, slots=True)
class Normalised:
    """A canonical identifier value, usable as a key."""

    type: IdentifierType
    value: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that must not be used as a key, and why."""

    type: IdentifierType
    raw: str
    reason: str  # a stable snake_case code
    message: str


Result = Normalised | Rejected

# Strings that SDKs and exports write where an id is missing.
PLACEHOLDER_IDS = frozenset({"", "-", "0", "n/a", "na", "nan", "nil", "none", "null", "undefined"})
# Marketplace names as exports spell them -> Sen's platform code.
PLATFORM_ALIASES: dict[str, str] = {
    "tiktok shop": "tiktok",
    "tiktokshop": "tiktok",
    "tiktok_shop": "tiktok",
    "shopee vn": "shopee",
    "lazada vn": "lazada",
}
_PLATFORM = re.compile(r"[a-z0-9_]+")
_CARD = re.compile(r"[A-Z0-9]{4,32}")
_CARD_SEPARATORS = re.compile(r"[\s.\-_/]+")
_ZERO_UUID = uuid.UUID(int=0)


def normalise_opaque(type_: IdentifierType, raw: str) -> Result:
    """User ids and anonymous ids: trimmed, otherwise kept exactly (they are
    case-sensitive), rejecting the ``null``/``undefined`` strings SDKs send."""
    value = raw.strip()
    if value.lower() in PLACEHOLDER_IDS:
        return _reject(type_, raw, "placeholder", "the id is empty or a placeholder like 'null'")
    if any(c.isspace() or not c.isprintable() for c in value):
        return _reject(type_, raw, "bad_characters", "ids have no spaces or control characters")
    return Normalised(type_, value)


def normalise_device_id(raw: str) -> Result:
    """Advertising and device ids: UUIDs in lower-case hyphenated form (iOS writes
    them upper-case, Android lower-case); the all-zero UUID an iPhone reports
    when tracking is limited is rejected, since every such phone shares it."""
    t = IdentifierType.DEVICE_ID
    try:
        parsed = uuid.UUID(raw.strip())
    except ValueError:
        return normalise_opaque(t, raw)
    if parsed == _ZERO_UUID:
        return _reject(t, raw, "zeroed", "an all-zero id, shared by every device that hides it")
    return Normalised(t, str(parsed))


def normalise_zalo_id(raw: str) -> Result:
    """Zalo user ids: digits only. A spreadsheet turns these 19-digit numbers into
    ``6.92E+18``, losing digits; such values are rejected, not guessed."""
    t = IdentifierType.ZALO_ID
    value = unicodedata.normalize("NFKC", raw).strip()
    if re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+", value):
        return _reject(t, raw, "scientific_notation", "a spreadsheet rounded the id (6.92E+18)")
    if not value or set(value) == {"0"}:
        return _reject(t, raw, "placeholder", "the id is empty or zero")
    if not (value.isascii() and value.isdigit()):
        return _reject(t, raw, "not_digits", "Zalo user ids are digits only")
    return Normalised(t, value)


def normalise_marketplace_buyer(raw: str) -> Result:
    """``platform:buyer`` keys, lower-cased (marketplace usernames ignore case).

    Masked usernames (``n*****3``) are rejected: many buyers share each mask.
    """
    t = IdentifierType.MARKETPLACE_BUYER
    platform, sep, buyer = unicodedata.normalize("NFC", raw).partition(":")
    platform = " ".join(platform.lower().split())
    platform = PLATFORM_ALIASES.get(platform, platform)
    buyer = buyer.strip().lower()
    if not sep or not _PLATFORM.fullmatch(platform):
        return _reject(t, raw, "missing_platform", "write buyers as platform:username")
    if buyer in PLACEHOLDER_IDS:
        return _reject(t, raw, "placeholder", "the username is empty or a placeholder")
    if "*" in buyer:
        return _reject(t, raw, "masked", "the username is masked; many buyers share it")
    if any(c.isspace() or not c.isprintable() for c in buyer):
        return _reject(t, raw, "bad_characters", "usernames have no spaces")
    return Normalised(t, f"{platform}:{buyer}")


def marketplace_buyer(platform: str, buyer: str) -> Result:
    """The key for a buyer on a platform (``marketplace_buyer("Shopee", "DucLe85")``)."""
    return normalise_marketplace_buyer(f"{platform}:{buyer}")


def normalise_loyalty_card(raw: str) -> Result:
    """Card numbers: upper-case letters and digits, separators removed
    (``vm 1331-1620`` -> ``VM13311620``); a run of one character is a placeholder."""
    t = IdentifierType.LOYALTY_CARD
    value = _CARD_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if fold_name(value) in PLACEHOLDER_IDS or len(set(value)) == 1:
        return _reject(t, raw, "placeholder", "the card number is empty or a placeholder")
    if not _CARD.fullmatch(value):
        return _reject(t, raw, "bad_shape", "card numbers are 4-32 letters and digits")
    return Normalised(t, value)


def normalise(type_: IdentifierType | str, raw: str | None) -> Result:
    """Normalise ``raw`` by the rules of its identifier type."""
    t = IdentifierType(type_)
    return _DISPATCH[t]("" if raw is None else raw)


def _phone(raw: str) -> Result:
    r = normalise_phone(raw)
    if r.e164 is None:
        return _reject(IdentifierType.PHONE, raw, str(r.reason), r.message)
    return Normalised(IdentifierType.PHONE, r.e164)


def _email(raw: str) -> Result:
    r = normalise_email(raw)
    if r.email is None or not r.is_key_usable:
        return _reject(IdentifierType.EMAIL, raw, str(r.reason), r.message)
    return Normalised(IdentifierType.EMAIL, r.email)


def _reject(type_: IdentifierType, raw: str, reason: str, message: str) -> Rejected:
    return Rejected(type_, raw, reason, message)


_DISPATCH: dict[IdentifierType, Callable[[str], Result]] = {
    IdentifierType.USER_ID: lambda raw: normalise_opaque(IdentifierType.USER_ID, raw),
    IdentifierType.ANONYMOUS_ID: lambda raw: normalise_opaque(IdentifierType.ANONYMOUS_ID, raw),
    IdentifierType.PHONE: _phone,
    IdentifierType.EMAIL: _email,
    IdentifierType.DEVICE_ID: normalise_device_id,
    IdentifierType.ZALO_ID: normalise_zalo_id,
    IdentifierType.MARKETPLACE_BUYER: normalise_marketplace_buyer,
    IdentifierType.LOYALTY_CARD: normalise_loyalty_card,
}
