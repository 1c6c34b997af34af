"""Signed webhooks: a JSON document POSTed to a URL the receiving system gave.

Every request carries::

    Sen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
    Idempotency-Key: <the outbox key>
    Sen-Message-Id: <the outbox id>

The timestamp is inside the signed text, so a captured request cannot be
replayed later than the receiver's tolerance; the idempotency key lets the
receiver drop a repeat, which is why the dispatcher may simply send again a
message a crash interrupted (``idempotent = True``). Receivers check the
signature with :func:`verify_signature` or the few lines in docs/providers.md.

Answers: 2xx sent; 408, 429 (after ``Retry-After``), 5xx, timeouts and refused
connections transient; a redirect or any other 4xx terminal.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, Field

from sen.errors import ProviderError
from sen.messaging.model import Channel, OutgoingMessage, SendResult
from sen.messaging.providers.base import Provider

SIGNATURE_HEADER = "Sen-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sen-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes, now: float,
                     tolerance_s: float = 300) -> bool:
    """Whether ``header`` is a ``Sen-Signature`` of ``body`` by ``secret``, made within
    ``tolerance_s`` seconds of ``now`` (unix seconds). Several ``v1`` values are
    allowed, so a sender can sign with an old and a new secret while they rotate."""
    if not header:
        return False
    timestamp, candidates = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates)


class WebhookSettings(BaseModel):
    """What may be shown back of a webhook destination."""

    timeout_s: float = Field(default=10.0, gt=0, description="Seconds to wait for an answer.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers every request carries (no secrets: "
        "they are shown back).")


class WebhookSecrets(BaseModel):
    """What is sealed and never shown back."""

    signing_secret: str = Field(min_length=16, description="Shared secret the Sen-Signature "
                                "HMAC is made with; the receiver holds the same.")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date), if it says."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


class WebhookProvider(Provider):
    kind = "webhook"
    channel = Channel.WEBHOOK
    idempotent = True

    def __init__(self, name: str, config: WebhookSettings, secrets: WebhookSecrets, *,
                 client: httpx.Client | None = None, clock: Callable[[], float] = time.time,
                 **extra: Any) -> None:
        super().__init__(name)
        self.config, self._secret = config, secrets.signing_secret
        self._client = client or httpx.Client(timeout=config.timeout_s)
        self._own_client = client is None
        self._clock = clock

    def request(self, message: OutgoingMessage) -> tuple[bytes, dict[str, str]]:
        """The body and headers :meth:`send` posts (the body is signed as these bytes)."""
        if "payload" in message.data:
            body, kind = orjson.dumps(message.data["payload"]), "application/json"
        else:
            body, kind = message.body.encode(), "application/json" \
                if message.body.lstrip().startswith(("{", "[")) else "text/plain; charset=utf-8"
        headers = {**self.config.headers, "Content-Type": kind,
                   SIGNATURE_HEADER: sign(self._secret, int(self._clock()), body),
                   "Idempotency-Key": message.key, "Sen-Message-Id": str(message.id)}
        return body, headers

    def send(self, message: OutgoingMessage) -> SendResult:
        body, headers = self.request(message)
        try:
            response = self._client.post(message.address, content=body, headers=headers,
                                         timeout=self.config.timeout_s)
        except httpx.TimeoutException as exc:
            raise ProviderError(f"{message.address} did not answer in time.", provider=self.name,
                                code="timeout", transient=True) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"{message.address} could not be reached: {exc}.",
                                provider=self.name, code="connection", transient=True) from exc
        return self._result(message, response)

    def _result(self, message: OutgoingMessage, response: httpx.Response) -> SendResult:
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(provider_id=response.headers.get("x-request-id") or message.key)
        said = f"{message.address} answered {status}: {response.text[:200]}"
        if status in (408, 429) or status >= 500:
            raise ProviderError(said, provider=self.name, code=str(status), transient=True,
                                retry_after=parse_retry_after(response.headers.get("retry-after"),
                                                         self._clock()))
        if 300 <= status < 400:
            raise ProviderError(said, provider=self.name, code=str(status),
                                hint=f"Use the address it redirects to "
                                f"({response.headers.get('location', 'see Location')}).")
        raise ProviderError(said, provider=self.name, code=str(status),
                            hint="Check the webhook URL and the receiver's signing secret.")

    def close(self) -> None:
        if self._own_client:
            self._client.close()
