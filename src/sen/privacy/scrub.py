"""Pure rules of erasure: which keys are personal, how her values are found in text,
and the pseudonyms that replace her ids.

No I/O. The analytical and the operational side of an erasure apply the same
rules with the same :class:`Pseudonyms`, so an event waiting in
``pending_events`` and its copy in the log come out with the same messageId and
the same pseudonymous ids, and the relay's dedupe still recognises them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from typing import Any

import orjson

# Keys of event properties (at any depth) that hold a person's data, compared
# lower-cased without separators (``customer_name``, ``customerName``). What
# Sen's importers write (phone, email, customer_name, buyer_id, marketplace
# buyer), what Segment's specs and SDKs send (address, ip, userAgent…), and what
# messaging writes (a consent's address and proof, the profile it was for).
# A bare ``name`` is not here: on product events it is the product's name; her
# own name is caught by value instead (:class:`Matcher`).
PERSONAL_KEYS = frozenset(
    re.sub(r"[^a-z0-9]", "", k) for k in (
        "phone", "phone_number", "mobile", "mobile_phone", "tel", "telephone", "sdt",
        "so_dien_thoai", "email", "email_address", "mail",
        "first_name", "last_name", "middle_name", "full_name", "customer_name", "buyer_name",
        "receiver_name", "recipient_name", "contact_name", "username", "user_name", "nickname",
        "display_name",
        "address", "address_line1", "address_line2", "street", "street_address",
        "shipping_address", "billing_address", "delivery_address", "ward", "postal_code", "zip",
        "birth_date", "birthday", "date_of_birth", "dob", "gender", "age",
        "buyer_id", "buyer", "customer_id", "user_id", "anonymous_id", "profile_id", "record",
        "zalo_id", "loyalty_card", "card_number", "cccd", "cmnd", "id_card", "national_id",
        "passport", "ip", "ip_address", "user_agent", "device_id", "push_token", "proof",
    ))

# Top-level keys of order events that the ``orders`` and ``order_items``
# projections read: never dropped, so revenue rebuilt from the log stays what it was.
ORDER_KEYS = frozenset({
    "order_id", "total", "revenue", "subtotal", "discount", "shipping", "tax", "currency",
    "channel", "store_code", "coupon", "products",
})

MIN_TOKEN = 5  # shorter values are too common to find inside text


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_personal_key(name: str) -> bool:
    return _key(name) in PERSONAL_KEYS


class Matcher:
    """Finds her values (phones in every written form, emails, names, ids) in text.

    A value matches as a whole word, case aside: ``KH0000001`` is not found
    in ``KH00000012``, nor ``Nguyễn Thị Lan`` in ``Nguyễn Thị Lang``.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        kept = sorted({t.strip() for t in tokens if t and len(t.strip()) >= MIN_TOKEN},
                      key=lambda t: (-len(t), t))
        self.tokens = tuple(kept)
        self._re = (re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in kept) + r")(?!\w)",
                               re.IGNORECASE) if kept else None)

    def search(self, text: str | None) -> bool:
        return bool(text) and self._re is not None and self._re.search(text) is not None

    def sub(self, text: str | None, repl: str = "[erased]") -> str | None:
        if not text or self._re is None:
            return text
        return self._re.sub(repl, text)


class Pseudonyms:
    """Replacement ids for one erasure, keyed by a secret that is never stored.

    Ids become ``erased <16 hex>``: the same for every event of one id, so her
    orders still count once each and her visits still group into sessions, but
    nobody can compute them back from her userId. The space is deliberate: ids
    with spaces are rejected by identity (``normalise_opaque``, the SQL record
    key), so no rebuild ever makes a record, or a profile, of them.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _hex(self, text: str, size: int) -> str:
        return hashlib.blake2b(text.encode(), key=self._key, digest_size=size).hexdigest()

    def id(self, kind: str, value: str | None) -> str | None:
        """The pseudonym of a userId (``kind`` ``u``), anonymousId (``a``) or profile (``p``)."""
        return None if value is None else f"erased {self._hex(f'{kind}:{value.strip()}', 8)}"

    def message_id(self, message_id: str) -> str:
        return f"erased-{self._hex('m:' + message_id, 12)}"

    def text(self, value: str) -> str:
        """What replaces one of her values inside a key (an outbox key names the profile)."""
        return f"erased-{self._hex('t:' + value, 8)}"


_DROP = object()


def _scrub(value: Any, matcher: Matcher, *, top: bool = False) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if is_personal_key(k):
                continue
            if top and k in ORDER_KEYS:
                out[k] = v
                continue
            cleaned = _scrub(v, matcher)
            if cleaned is not _DROP:
                out[k] = cleaned
        return out
    if isinstance(value, list):
        return [c for c in (_scrub(v, matcher) for v in value) if c is not _DROP]
    if isinstance(value, str) and matcher.search(value):
        return _DROP
    return value


def scrub_document(text: str | bytes | None, matcher: Matcher) -> str | None:
    """A JSON document (an event's properties) without personal keys or her values.

    Personal keys go at any depth; any string holding one of her values goes
    with its key. The keys order projections read stay as they are.
    """
    if text is None:
        return None
    doc = orjson.loads(text)
    cleaned = _scrub(doc, matcher, top=True)
    return None if cleaned is _DROP else orjson.dumps(cleaned).decode()


def rewrite_message_id(message_id: str, matcher: Matcher, names: Pseudonyms) -> str:
    """A messageId that names her (``consent:sms:advertising:+8491…``) is replaced;
    others (UUIDs, import hashes) are kept, so re-importing an old file still finds
    its rows already stored and does not bring her back."""
    return names.message_id(message_id) if matcher.search(message_id) else message_id


def replace_values(text: str, values: Iterable[str], names: Pseudonyms) -> str:
    """``text`` with each of ``values`` (her profile ids, records, addresses) replaced
    by its pseudonym; longest first, so a record is replaced before its id."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        if value in text:
            text = text.replace(value, names.text(value))
    return text
