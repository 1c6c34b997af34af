"""Email addresses as typed at the till: trimmed, lower-cased, placeholders caught.

Cashiers must fill the email field to save a customer, so they type
``test@test.com``, ``noemail@gmail.com`` or the shop's own address. Those
values are shared by thousands of strangers; merging people on them would
collapse a customer base into a few giant profiles. So a placeholder keeps its
normalised text (it is still what was typed) but :attr:`EmailResult.is_key_usable`
is False, and identity resolution never merges on it.

Addresses are compared as typed otherwise: Gmail's dots and ``+tags`` are not
removed here, because that is a matching decision, not normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sen.identity.names import fold_name


class EmailReason(StrEnum):
    """Why an email address is not usable as an identity key (a stable code)."""

    EMPTY = "empty"
    PLACEHOLDER = "placeholder"
    MISSING_AT = "missing_at"
    SEVERAL_AT = "several_at"
    BAD_LOCAL_PART = "bad_local_part"
    BAD_DOMAIN = "bad_domain"
    PLACEHOLDER_ADDRESS = "placeholder_address"
    RESERVED_DOMAIN = "reserved_domain"
    SHOP_DOMAIN = "shop_domain"


MESSAGES: dict[EmailReason, str] = {
    EmailReason.EMPTY: "no address was given",
    EmailReason.PLACEHOLDER: "a placeholder such as N/A stands where an address should be",
    EmailReason.MISSING_AT: "there is no @, so this is not an address",
    EmailReason.SEVERAL_AT: "more than one @: several addresses or a typing slip",
    EmailReason.BAD_LOCAL_PART: "the part before @ is empty or has characters addresses lack",
    EmailReason.BAD_DOMAIN: "the part after @ is not a domain name",
    EmailReason.PLACEHOLDER_ADDRESS: "a placeholder address like noemail@… or test@…",
    EmailReason.RESERVED_DOMAIN: "a domain reserved for examples and tests",
    EmailReason.SHOP_DOMAIN: "an address at the shop's own domain, typed for a customer",
}

# What is left of a placeholder's local part once digits and . _ - + are removed.
PLACEHOLDER_LOCALS = frozenset(
    {
        "abc",
        "chuaco",
        "email",
        "khachhang",
        "khachle",
        "khong",
        "khongco",
        "khongcoemail",
        "khongcomail",
        "mail",
        "no",
        "noemail",
        "nomail",
        "none",
        "noreply",
        "donotreply",
        "null",
        "test",
        "unknown",
        "x",
        "xx",
        "xxx",
    }
)
RESERVED_DOMAINS = frozenset(
    {
        "example.com",
        "example.net",
        "example.org",
        "example.vn",
        "example.com.vn",
        "test.com",
        "test.vn",
        "domain.com",
        "localhost",
    }
)
RESERVED_TLDS = frozenset({"example", "invalid", "local", "localhost", "test"})
_PLACEHOLDERS = frozenset({"-", "--", ".", "x", "n/a", "na", "none", "null", "khong", "khong co"})
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_LOCAL_CHARS = re.compile(r"[\w!#$%&'*+/=?^`{|}~.-]+")
_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")
_NOT_PLACEHOLDER_CHARS = re.compile(r"[\d._+-]")


@dataclass(frozen=True, slots=True)
class EmailResult:
    """The outcome of :func:`normalise_email`.

    ``email`` is the normalised text whenever it has an address's shape, even
    for placeholders; ``reason`` says why it must not be used as a key.
    """

    raw: str
    email: str | None = None
    reason: EmailReason | None = None

    @property
    def is_key_usable(self) -> bool:
        """Whether identity resolution may merge people on this address."""
        return self.email is not None and self.reason is None

    @property
    def message(self) -> str:
        """A sentence saying why the address is not usable ("" when it is)."""
        return MESSAGES[self.reason] if self.reason else ""


def normalise_email(raw: str | None, *, shop_domains: Iterable[str] = ()) -> EmailResult:
    """Trim, NFC and lower-case an address, then check its shape and placeholders.

    ``shop_domains`` are the retailer's own domains: an address there on a
    customer record is a cashier's placeholder (``noemail@velamoc.vn``).

    >>> normalise_email(" Lan.Nguyen@Gmail.com  ").email
    'lan.nguyen@gmail.com'
    >>> normalise_email("test@test.com").is_key_usable
    False
    """
    raw = "" if raw is None else raw
    text = unicodedata.normalize("NFC", raw.translate(_INVISIBLE).strip())
    text = unicodedata.normalize("NFC", text.lower())  # lower-casing can un-compose
    if not text:
        return EmailResult(raw, reason=EmailReason.EMPTY)
    if fold_name(text) in _PLACEHOLDERS:
        return EmailResult(raw, reason=EmailReason.PLACEHOLDER)
    if shape := _bad_shape(text):
        return EmailResult(raw, reason=shape)
    return EmailResult(raw, text, _placeholder(text, {d.strip().lower() for d in shop_domains}))


def _bad_shape(text: str) -> EmailReason | None:
    """Whether ``text`` looks like ``local@domain.tld`` (no quoted or IP forms)."""
    if "@" not in text:
        return EmailReason.MISSING_AT
    if text.count("@") > 1:
        return EmailReason.SEVERAL_AT
    local, domain = text.split("@")
    if (
        not local
        or len(local) > 64
        or not _LOCAL_CHARS.fullmatch(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        return EmailReason.BAD_LOCAL_PART
    labels = domain.split(".")
    if (
        len(text) > 254
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or "_" in domain
        or not (labels[-1].isalpha() or labels[-1].startswith("xn--"))
        or len(labels[-1]) < 2
    ):
        return EmailReason.BAD_DOMAIN
    return None


def _placeholder(text: str, shop_domains: set[str]) -> EmailReason | None:
    """Well-shaped addresses that belong to no customer."""
    local, domain = text.split("@")
    if domain in shop_domains:
        return EmailReason.SHOP_DOMAIN
    if domain in RESERVED_DOMAINS or domain.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return EmailReason.RESERVED_DOMAIN
    if _NOT_PLACEHOLDER_CHARS.sub("", local) in PLACEHOLDER_LOCALS:
        return EmailReason.PLACEHOLDER_ADDRESS
    return None
