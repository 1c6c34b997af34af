"""Web Push: a notification to a browser, through the push service its subscription names.

The message's ``address`` is the subscription's endpoint (a URL at the
browser's push service: FCM, Mozilla autopush, Apple…) and ``data`` holds the
subscription's keys (``keys: {p256dh, auth}``, as ``PushSubscription.toJSON()``
gives them, or the two at the top level) and the notification
(``notification: {title, body, url, icon}``, or those fields at the top level;
``body`` falls back to the message's text).

The request follows RFC 8030 (``TTL``, ``Urgency``), RFC 8291 (the payload
encrypted for the browser's key, ``Content-Encoding: aes128gcm``, built with
pywebpush's encoder over http_ece) and RFC 8292 (VAPID ``Authorization``); it is
POSTed with httpx. Answers: 201 (or any 2xx) sent, the ``Location`` of the push
message resource as ``provider_id``; 404 and 410 the subscription is gone
(``recipient=True``, code ``"410"``: the subscription is removed); 429 and 5xx
transient; 413 the notification is too large; other 4xx terminal.

The VAPID keys are Sen's, kept in the operational store
(:func:`sen.messaging.push.vapid_keys`); the dispatcher passes them as
``vapid=`` when it builds the provider.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, Field, field_validator
from pywebpush import WebPusher, WebPushException

from sen.errors import ConfigError, ProviderError
from sen.messaging.model import Channel, OutgoingMessage, SendResult
from sen.messaging.providers.base import Provider
from sen.messaging.providers.webhook import parse_retry_after
from sen.messaging.vapid import VapidKeys, VapidSigner

# RFC 8291 §4: one 4096-byte record holds 3993 bytes of plaintext once the header
# (86 bytes), the tag (16) and the padding delimiter (1) are taken out.
MAX_PAYLOAD = 3993
NOTIFICATION_FIELDS = ("title", "body", "url", "icon", "image", "badge", "tag")
Urgency = Literal["very-low", "low", "normal", "high"]


class WebPushSettings(BaseModel):
    """What may be shown back of Sen's Web Push sender."""

    subject: str = Field(description="Contact the push services may use about Sen's pushes "
                         "(VAPID sub): mailto:ops@shop.vn or an https:// page.")
    ttl_s: int = Field(default=86_400, ge=0, le=2_419_200,
                       description="Seconds a push service keeps a notification for a browser "
                       "that is offline (0: deliver now or drop; at most four weeks).")
    urgency: Urgency = Field(default="normal", description="RFC 8030 Urgency: very-low, low, "
                             "normal or high (high wakes a phone at once).")
    timeout_s: float = Field(default=10.0, gt=0, description="Seconds to wait for a push "
                             "service.")

    @field_validator("subject")
    @classmethod
    def _contact(cls, value: str) -> str:
        if not value.startswith(("mailto:", "https://")):
            raise ValueError("use mailto:<address> or an https:// URL")
        return value


class WebPushSecrets(BaseModel):
    """Nothing: the VAPID private key lives sealed in the operational store."""


def _keys(data: dict[str, Any]) -> dict[str, str]:
    keys = data.get("keys") or {k: data[k] for k in ("p256dh", "auth") if k in data}
    if not isinstance(keys, dict) or not keys.get("p256dh") or not keys.get("auth"):
        raise ValueError("the subscription's p256dh and auth keys are missing")
    return {"p256dh": str(keys["p256dh"]), "auth": str(keys["auth"])}


def notification(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON the service worker shows (title, body, url, icon…)."""
    source = message.data.get("notification") or message.data
    shown = {k: source[k] for k in NOTIFICATION_FIELDS if source.get(k) not in (None, "")}
    shown.setdefault("body", message.body)
    shown.setdefault("tag", message.key)  # a resend replaces, not doubles, the notification
    return shown


class WebPushProvider(Provider):
    kind = "webpush"
    channel = Channel.PUSH
    idempotent = False

    def __init__(self, name: str, config: WebPushSettings, secrets: WebPushSecrets, *,
                 client: httpx.Client | None = None, vapid: VapidKeys | None = None,
                 clock: Callable[[], float] = time.time, **extra: Any) -> None:
        super().__init__(name)
        if vapid is None:
            raise ConfigError("The web push provider needs Sen's VAPID keys.",
                              hint="Build it with vapid=sen.messaging.push.vapid_keys(ops, box).")
        self.config = config
        self._signer = VapidSigner(vapid, config.subject)
        self._client = client or httpx.Client(timeout=config.timeout_s)
        self._own_client = client is None
        self._clock = clock

    def request(self, message: OutgoingMessage) -> tuple[bytes, dict[str, str]]:
        """The encrypted body and the headers of the push for ``message``."""
        payload = orjson.dumps(notification(message))
        if len(payload) > MAX_PAYLOAD:
            raise ProviderError(f"The notification is {len(payload)} bytes; a push carries at "
                                f"most {MAX_PAYLOAD}.", provider=self.name, code="413",
                                hint="Shorten the template's title and body.")
        try:
            pusher = WebPusher({"endpoint": message.address, "keys": _keys(message.data)})
            body = pusher.encode(payload, "aes128gcm")["body"]
        except (WebPushException, ValueError, binascii.Error, TypeError) as exc:
            raise ProviderError(f"The push subscription's keys are not usable: {exc}.",
                                provider=self.name, code="invalid_keys", recipient=True) from exc
        ttl = int(message.data.get("ttl", self.config.ttl_s))
        headers = {"Authorization": self._signer.authorization(message.address, self._clock()),
                   "TTL": str(ttl), "Urgency": message.data.get("urgency", self.config.urgency),
                   "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream"}
        return body, headers

    def send(self, message: OutgoingMessage) -> SendResult:
        body, headers = self.request(message)
        try:
            response = self._client.post(message.address, content=body, headers=headers,
                                         timeout=self.config.timeout_s)
        except httpx.TimeoutException as exc:
            raise ProviderError("The push service did not answer in time.", provider=self.name,
                                code="timeout", transient=True) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"The push service could not be reached: {exc}.",
                                provider=self.name, code="connection", transient=True) from exc
        return self._result(response)

    def _result(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        if 200 <= status < 300:
            return SendResult(provider_id=response.headers.get("location"))
        said = f"The push service answered {status}: {response.text[:200]}"
        if status in (404, 410):
            raise ProviderError(f"{said}; the subscription is gone.", provider=self.name,
                                code="410", recipient=True)
        if status == 429 or status >= 500:
            raise ProviderError(said, provider=self.name, code=str(status), transient=True,
                                retry_after=parse_retry_after(response.headers.get("retry-after"),
                                                         self._clock()))
        if status in (401, 403):
            raise ProviderError(said, provider=self.name, code=str(status),
                                hint="The push service refused Sen's VAPID signature: check the "
                                "subject setting; browsers that subscribed with other VAPID "
                                "keys must subscribe again.")
        raise ProviderError(said, provider=self.name, code=str(status),
                            hint="Check the notification's size and fields.")

    def close(self) -> None:
        if self._own_client:
            self._client.close()
