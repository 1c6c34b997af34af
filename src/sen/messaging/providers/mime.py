"""An outgoing email as bytes: MIME parts, headers, a Message-ID that names the message.

Pure functions, no I/O. Three things here are easy to get wrong with the
standard library alone:

* Headers are written by :mod:`.headers`: ``List-Unsubscribe`` verbatim (the
  email package would turn a long URI into encoded words no mailbox provider
  reads there), Vietnamese text in encoded words that keep their spaces.
* Advertising must carry ``List-Unsubscribe`` with an HTTPS URI and
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): Gmail and
  Yahoo require one-click unsubscription of bulk senders, and
  :func:`check_unsubscribe` refuses a message without it (an ``http://`` URI
  passes only when it points at this machine: the demo and tests).
* The Message-ID is derived from the outbox key (:func:`message_id_for`), so a
  resend carries the same id and a bounce that quotes it leads back to the
  message (:func:`key_from_message_id`).

Bodies go as quoted-printable or base64 (``cte_type="7bit"``), so no relay has
to support 8BITMIME; Vietnamese subjects and names become UTF-8 encoded words.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sen.messaging.model import OutgoingMessage, Purpose
from sen.messaging.providers.headers import POLICY

ONE_CLICK = "List-Unsubscribe=One-Click"
# Headers Sen writes itself; a template or the dispatcher may not set them.
RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id",
                      "mime-version", "content-type", "content-transfer-encoding", "sender"})
_PREFIX = "sen."


class MessageRefused(ValueError):
    """The message cannot be sent as it is; ``hint`` says what to change."""

    def __init__(self, message: str, hint: str) -> None:
        self.hint = hint
        super().__init__(message)


def message_id_for(key: str, domain: str) -> str:
    """``<sen.<base32 of key>@domain>``: the same key always gives the same Message-ID."""
    encoded = base64.b32encode(key.encode()).decode().rstrip("=").lower()
    return f"<{_PREFIX}{encoded}@{domain}>"


def key_from_message_id(message_id: str | None) -> str | None:
    """The outbox key a Message-ID made by :func:`message_id_for` carries, else ``None``."""
    if not message_id:
        return None
    left, _, _domain = message_id.strip().strip("<>").rpartition("@")
    if not left.startswith(_PREFIX):
        return None
    encoded = left[len(_PREFIX):].upper()
    try:
        return base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode()
    except (binascii.Error, ValueError):
        return None


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _one_click_uri(uri: str) -> bool:
    """An https:// link, or an http:// one to this machine: a Sen on the loopback (the
    demo, a test) has no certificate, and no mailbox provider ever sees its mail."""
    parts = urlsplit(uri)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme == "https":
        return True
    if scheme != "http":
        return False
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_unsubscribe(purpose: Purpose, headers: dict[str, str]) -> None:
    """Refuse advertising that a recipient cannot leave in one click (RFC 8058)."""
    value = _header(headers, "List-Unsubscribe")
    post = _header(headers, "List-Unsubscribe-Post")
    if value is not None and not value.isascii():
        raise MessageRefused("List-Unsubscribe must be ASCII (percent-encode the URIs).",
                             "Build the unsubscribe links from an ASCII public_url.")
    if post is not None and post.strip() != ONE_CLICK:
        raise MessageRefused(f"List-Unsubscribe-Post must be exactly '{ONE_CLICK}'.",
                             "Leave the unsubscribe headers to Sen's dispatcher.")
    if purpose is not Purpose.ADVERTISING:
        return
    uris = [u.strip().strip("<>") for u in (value or "").split(",")]
    if not any(_one_click_uri(u) for u in uris) or post is None:
        raise MessageRefused(
            "An advertising email needs List-Unsubscribe with an https:// link and "
            f"List-Unsubscribe-Post: {ONE_CLICK}; Gmail and Yahoo refuse bulk mail without "
            "one-click unsubscription.",
            "Send advertising through a campaign or journey (the dispatcher adds both "
            "headers), and set public_url to an https:// address.")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """The words of an HTML body, for a text part when the template gave none."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def build(message: OutgoingMessage, *, from_address: str, from_name: str = "",
          reply_to: str | None = None, now: datetime | None = None) -> EmailMessage:
    """The email for ``message``: text (and HTML) parts, Sen's headers and the message's own.

    Raises :class:`MessageRefused` when a header is reserved, malformed, or the
    unsubscribe headers advertising needs are missing.
    """
    check_unsubscribe(message.purpose, message.headers)
    domain = from_address.rpartition("@")[2]
    mail = EmailMessage(policy=POLICY)
    try:
        mail["From"] = Address(display_name=from_name, addr_spec=from_address)
        mail["To"] = message.address
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime((now or datetime.now(UTC)).replace(tzinfo=UTC))
        mail["Message-ID"] = message_id_for(message.key, domain)
        own_reply_to = _header(message.headers, "Reply-To")
        if own_reply_to or reply_to:
            mail["Reply-To"] = own_reply_to or reply_to
        for name, value in message.headers.items():
            if name.lower() in RESERVED:
                raise MessageRefused(f"The header {name} is set by Sen, not by the message.",
                                     "Remove it from the template's headers.")
            if name.lower() != "reply-to":
                mail[name] = value
    except (ValueError, TypeError) as exc:
        if isinstance(exc, MessageRefused):
            raise
        raise MessageRefused(f"A header of the message is not valid: {exc}.",
                             "Check the from_address setting and the template's "
                             "headers.") from exc
    text = message.body or (text_of(message.html) if message.html else "")
    mail.set_content(text, charset="utf-8")
    if message.html:
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
    return mail


def as_bytes(mail: EmailMessage) -> bytes:
    return mail.as_bytes(policy=POLICY)


__all__ = ["ONE_CLICK", "POLICY", "MessageRefused", "as_bytes", "build", "check_unsubscribe",
           "key_from_message_id", "message_id_for", "text_of"]
