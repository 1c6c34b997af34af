"""What every HTTP provider does at its boundary: one client, failures turned
into :class:`~sen.errors.ProviderError`, phone numbers in the provider's form.

Failures and how they are marked::

    connect error or timeout  transient, code "connect"    (nothing was sent)
    read/write timeout        transient, code "timeout"    (the provider may have taken it)
    connection broken after   transient, code "broken"     (the provider may have taken it)
    HTTP 429                  transient, code "429", retry_after from the provider's header
    HTTP 5xx                  transient, code "<status>"
    reply that is not JSON    transient, code "malformed"  (the provider may have taken it)
    HTTP 401/403, 404         terminal, with a hint naming the setting to fix

"may have taken it" matters for providers without an idempotency key: the
dispatcher must not resend those blindly (see :class:`~sen.messaging.model.Status`).
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sen.errors import ProviderError

MAY_HAVE_SENT = frozenset({"timeout", "broken", "malformed"})
"""Codes of transient errors after which the provider may already hold the message."""
_LATER = ("Sen tries again later; if it keeps happening, check the network and the "
          "provider's status page.")


def make_client(timeout_s: float) -> httpx.Client:
    """The client a provider builds when it is given none: bounded waits, no redirects."""
    timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
    return httpx.Client(timeout=timeout, follow_redirects=False,
                        headers={"User-Agent": "Sen"})


def call(client: httpx.Client, kind: str, title: str, method: str, url: str,
         **kwargs: Any) -> httpx.Response:
    """``client.request`` with network failures translated."""
    try:
        return client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ProviderError(f"{title} could not be reached: {exc or type(exc).__name__}.",
                            provider=kind, code="connect", transient=True,
                            hint="Check the network and the provider's base_url setting."
                            ) from exc
    except httpx.TimeoutException as exc:
        raise ProviderError(f"{title} did not answer in time ({type(exc).__name__}); it may "
                            "or may not have taken the message.", provider=kind,
                            code="timeout", transient=True, hint=_LATER) from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"{title} broke the connection ({type(exc).__name__}); it may or "
                            "may not have taken the message.", provider=kind, code="broken",
                            transient=True, hint=_LATER) from exc


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a header holding seconds, an epoch time or an HTTP date."""
    if not value:
        return None
    now = time.time() if now is None else now
    try:
        seconds = float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds - now) if seconds > 1e9 else max(0.0, seconds)


def check_status(response: httpx.Response, kind: str, title: str, *, auth_hint: str,
                 retry_header: str = "Retry-After") -> None:
    """Raise for the HTTP statuses every provider means the same way."""
    status = response.status_code
    if status == 429:
        wait = retry_after(response.headers.get(retry_header))
        raise ProviderError(f"{title} is rate limiting Sen (HTTP 429).", provider=kind,
                            code="429", transient=True, retry_after=wait,
                            hint="Sen waits and tries again; lower rate_per_s to avoid it.")
    if status >= 500:
        raise ProviderError(f"{title} failed (HTTP {status}).", provider=kind,
                            code=str(status), transient=True,
                            hint="Sen tries again later.")
    if status in (401, 403):
        raise ProviderError(f"{title} refused Sen's credentials (HTTP {status}).",
                            provider=kind, code=str(status), hint=auth_hint)
    if status == 404:
        raise ProviderError(f"{title} has no such address: {response.request.url}.",
                            provider=kind, code="404", hint="Check the base_url setting.")


def json_object(response: httpx.Response, kind: str, title: str) -> dict[str, Any]:
    """The reply as a JSON object; anything else is a transient, "malformed" failure."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ProviderError(
            f"{title} answered HTTP {response.status_code} with something that is not a JSON "
            f"object ({response.text[:80]!r}); it may or may not have taken the message.",
            provider=kind, code="malformed", transient=True, hint="Sen tries again later.")
    return body


def national(e164: str) -> str:
    """``+84912345678`` → ``0912345678``; other countries as digits with their code."""
    digits = e164.lstrip("+")
    return "0" + digits[2:] if digits.startswith("84") else digits


def international(e164: str) -> str:
    """``+84912345678`` → ``84912345678`` (digits with the country code, no ``+``)."""
    return e164.lstrip("+")


def to_e164(phone: str) -> str:
    """A provider's ``0912…``, ``84912…`` or ``+84912…`` as ``+84912…``."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return phone
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return "+" + digits


def short_key(key: str, limit: int) -> str:
    """``key`` itself when it fits ``limit`` characters, else a stable digest of it."""
    if len(key) <= limit:
        return key
    return "h" + hashlib.sha256(key.encode()).hexdigest()[: limit - 1]


def epoch_ms(value: Any) -> datetime | None:
    """A millisecond epoch (number or string) as naive UTC."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError):
        return None


def dig(data: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` (``data.tranId``, ``items.0.id``), or ``None``."""
    if not path:
        return None
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def webhook_fields(body: bytes, query: dict[str, str]) -> dict[str, Any]:
    """A webhook's fields: its JSON object or form body, over its query string."""
    from urllib.parse import parse_qsl

    fields: dict[str, Any] = dict(query)
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            fields.update(parsed)
    elif text:
        fields.update(dict(parse_qsl(text, keep_blank_values=True)))
    return fields
