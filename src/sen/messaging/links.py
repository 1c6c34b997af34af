"""Tracked links: a short code per (message, link), where it leads, and its clicks.

**Codes.** ``/l/<code>`` names one link of one message: the message id in
base62, one base62 character for the link's index, and six base62 characters
of an HMAC-SHA256 over both under Sen's link key (an 11-character code at a
million messages). Without the key no code can be made or altered: a guess
hits a real link once in 62⁶ ≈ 5.7·10¹⁰ tries. Unsubscribe tokens are the same
construction over the message id alone, under another domain separator and
with eight signature characters, so a link code is never an unsubscribe token.

**The key** (:func:`link_key`, in :mod:`sen.messaging.link_settings`) is 32
random bytes made once and kept sealed in ``app_settings``.

**Destinations.** :func:`destination` adds UTM parameters without replacing
any the URL already has and, for the shop's own domains when the retailer
lists them (``identity_domains`` in :class:`LinkSettings`), Segment's
``ajs_uid``/``ajs_aid``: analytics.js reads them on page load, calls
``identify(ajs_uid)`` and sets the anonymousId to ``ajs_aid``, so the visit
joins the recipient's profile. They are never added for a bot's request (a
scanner that runs the page would be identified as the customer) nor for
other sites (the id would leak to them).

Clicks are judged by :func:`sen.messaging.bots.classify_click`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson
import sqlalchemy as sa

from sen.errors import ValidationError
from sen.messaging import events
from sen.messaging.bots import classify_click
from sen.messaging.link_settings import (
    KEY_SETTING,
    LINKS_SETTING,
    LinkSettings,
    link_key,
    link_settings,
    save_link_settings,
)
from sen.messaging.model import MESSAGE_CLICKED
from sen.store.operational import clicks, messages

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUE = {c: i for i, c in enumerate(BASE62)}
MAX_LINKS = len(BASE62)  # the index is one character
LINK_SIGNATURE, UNSUBSCRIBE_SIGNATURE = 6, 8
MAX_CODE = 40
_LINK_DOMAIN, _UNSUBSCRIBE_DOMAIN = b"sen/link/v1", b"sen/unsubscribe/v1"
_UA_LIMIT = 512


def b62(n: int) -> str:
    if n < 62:
        return BASE62[n]
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(BASE62[r])
    return "".join(reversed(digits))


def _unb62(text: str) -> int:
    n = 0
    for c in text:
        n = n * 62 + _VALUE[c]
    return n


def _signature(key: bytes, domain: bytes, body: str, size: int) -> str:
    mac = hmac.digest(key, domain + b"\x00" + body.encode(), "sha256")
    return b62(int.from_bytes(mac[:8], "big") % 62 ** size).rjust(size, "0")


def _split(code: str, key: bytes, domain: bytes, size: int) -> str | None:
    """The body of a well-formed, correctly signed code, else ``None``."""
    if not (size + 1 <= len(code) <= MAX_CODE) or any(c not in _VALUE for c in code):
        return None
    body, signature = code[:-size], code[-size:]
    if not hmac.compare_digest(signature, _signature(key, domain, body, size)):
        return None
    return body


def link_code(message_id: int, index: int, key: bytes) -> str:
    """The code of link ``index`` (0-based) of message ``message_id``."""
    if message_id < 1:
        raise ValueError("message ids start at 1")
    if not 0 <= index < MAX_LINKS:
        raise ValidationError(f"A message holds at most {MAX_LINKS} tracked links.",
                              field="links", rule="max_links")
    body = b62(message_id) + BASE62[index]
    return body + _signature(key, _LINK_DOMAIN, body, LINK_SIGNATURE)


def parse_link_code(code: str, key: bytes) -> tuple[int, int] | None:
    """``(message id, link index)`` of a genuine code; ``None`` for anything else."""
    body = _split(code, key, _LINK_DOMAIN, LINK_SIGNATURE)
    if body is None or len(body) < 2 or body[0] == "0":  # one spelling per id
        return None
    return _unb62(body[:-1]), _VALUE[body[-1]]


def unsubscribe_code(message_id: int, key: bytes) -> str:
    """The token of an unsubscribe link for message ``message_id``."""
    if message_id < 1:
        raise ValueError("message ids start at 1")
    body = b62(message_id)
    return body + _signature(key, _UNSUBSCRIBE_DOMAIN, body, UNSUBSCRIBE_SIGNATURE)


def parse_unsubscribe_code(code: str, key: bytes) -> int | None:
    body = _split(code, key, _UNSUBSCRIBE_DOMAIN, UNSUBSCRIBE_SIGNATURE)
    if not body or body[0] == "0":
        return None
    return _unb62(body)


def short_url(base_url: str, code: str) -> str:
    """The tracked link as printed in a message: ``{base}/l/{code}``."""
    return f"{base_url.rstrip('/')}/l/{code}"


def utm_for(*, channel: str, campaign: str | None = None, journey: str | None = None,
            template: str | None = None, variant: str | None = None) -> dict[str, str]:
    """UTM parameters of a message: source sen, medium its channel, campaign its
    campaign (or journey), content its template and variant."""
    utm = {"utm_source": "sen", "utm_medium": channel}
    if campaign or journey:
        utm["utm_campaign"] = campaign or journey or ""
    content = "/".join(x for x in (template, variant) if x)
    if content:
        utm["utm_content"] = content
    return utm


def destination(url: str, *, utm: dict[str, str],
                ajs: tuple[str | None, str | None] | None) -> str:
    """``url`` with ``utm`` and the ``(user id, anonymous id)`` of ``ajs`` added as
    ``ajs_uid``/``ajs_aid``; parameters the URL already has are left alone, and so
    is the rest of it (its own encoding, its #fragment). Only http(s) URLs change."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return url
    present = {k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    extra = [(k, v) for k, v in utm.items() if v and k not in present]
    if ajs is not None:
        extra += [(k, v) for k, v in zip(("ajs_uid", "ajs_aid"), ajs, strict=True)
                  if v and k not in present]
    if not extra:
        return url
    added = urlencode(extra, quote_via=quote)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True, slots=True)
class Click:
    """One request of a tracked link, as recorded. ``counted``: it made the link's
    ``Message Clicked`` event (the first human click on that link)."""

    message_id: int
    link: int
    url: str
    destination: str
    bot: bool
    why: str
    counted: bool


def _ids(record: str | None) -> tuple[str | None, str | None]:
    """(userId, anonymousId) of an identity record, for ajs_uid / ajs_aid."""
    kind, _, value = (record or "").partition(":")
    return (value or None, None) if kind == "u" else (None, value or None)


def _clicked(m: Any, index: int, url: str, now: datetime) -> events.LogEvent:
    props = {"message_id": m.id, "channel": m.channel, "campaign_id": m.campaign,
             "journey_id": m.journey, "step": m.step, "variant": m.variant,
             "template": m.template, "url": url, "link_index": index}
    return events.LogEvent(f"clicked:{m.id}:{index}", MESSAGE_CLICKED, m.record, now, props)


def record_click(ops: sa.Engine, code: str, *, key: bytes, ip: str | None,
                 user_agent: str | None, method: str, now: datetime,
                 purpose: str | None = None) -> Click | None:
    """Record a request of ``/l/<code>`` and say where it leads; ``None`` when the code
    is forged or names no link.

    One transaction: a ``clicks`` row for every request (bots flagged) and,
    for the first human click on each link of a message, one ``Message
    Clicked`` event (messageId ``clicked:<message id>:<index>``).
    """
    parsed = parse_link_code(code, key)
    if parsed is None:
        return None
    message_id, index = parsed
    m_ = messages.c
    with ops.begin() as con:
        m = con.execute(sa.select(m_.id, m_.channel, m_.campaign, m_.journey, m_.step,
                                  m_.variant, m_.template, m_.record, m_.links, m_.sent_at)
                        .where(m_.id == message_id)).first()
        links = orjson.loads(m.links) if m is not None and m.links else []
        if not 0 <= index < len(links):
            return None
        url = str(links[index])
        since = (now - m.sent_at).total_seconds() if m.sent_at else None
        bot, why = classify_click(user_agent, method, since, purpose=purpose)
        con.execute(clicks.insert().values(
            message_id=message_id, link=index, at=now, ip=(ip or None) and ip[:64],
            user_agent=(user_agent or None) and user_agent[:_UA_LIMIT], bot=bot))
        counted = not bot and events.add(con, [_clicked(m, index, url, now)]) == 1
        settings = link_settings(con)
    utm = utm_for(channel=m.channel, campaign=m.campaign, journey=m.journey,
                  template=m.template, variant=m.variant) if settings.utm else {}
    ajs = _ids(m.record) if not bot and settings.identifies(url) else None
    return Click(message_id, index, url, destination(url, utm=utm, ajs=ajs), bot, why, counted)


__all__ = [
    "KEY_SETTING", "LINKS_SETTING", "Click", "LinkSettings", "classify_click", "destination",
    "link_code", "link_key", "link_settings", "parse_link_code", "parse_unsubscribe_code",
    "record_click", "save_link_settings", "short_url", "unsubscribe_code", "utm_for",
]
