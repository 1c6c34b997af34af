"""What Zalo sends to Sen: ``user_received_message``, the ZNS delivery event (pure).

Zalo POSTs JSON to the app's webhook URL::

    {"app_id": "…", "event_name": "user_received_message", "timestamp": "…",
     "sender": {"id": "<OA id>"}, "recipient": {"id": "84912345678"},
     "message": {"msg_id": "…", "tracking_id": "…", "delivery_time": "1602960467432"}}

with ``X-ZEvent-Signature`` = SHA-256 of app id + body + timestamp + the OA
secret key. The phone received the message at ``delivery_time``, not at
``timestamp``. The header's exact layout is not documented (a bare hex digest,
``mac=<hex>`` and ``sha256(<hex>)`` are all seen), so any of them is accepted
as long as the digest matches. Other events are acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from sen.errors import AuthError, ValidationError
from sen.messaging.model import Receipt, Status
from sen.messaging.providers import wire
from sen.messaging.providers.base import WebhookRequest, WebhookResult
from sen.messaging.providers.zalo import KIND, ZaloConfig, ZaloSecrets

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
DELIVERED = "user_received_message"


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex SHA-256 Zalo puts in ``X-ZEvent-Signature``."""
    data = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(data).hexdigest()


def parse_webhook(request: WebhookRequest, config: ZaloConfig,
                  secrets: ZaloSecrets) -> WebhookResult:
    """A delivery receipt from a signed ``user_received_message`` event."""
    try:
        event = json.loads(request.body or b"null")
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise ValidationError("A Zalo event is a JSON object.", field="body",
                              rule="zalo_webhook")
    timestamp = str(event.get("timestamp") or request.headers.get("timestamp") or "")
    expected = signature(config.app_id, request.body, timestamp, secrets.oa_secret_key)
    given = _HEX64.search(request.headers.get("x-zevent-signature", ""))
    if given is None or not hmac.compare_digest(given.group(0).lower(), expected):
        raise AuthError("The Zalo event's X-ZEvent-Signature does not match.",
                        hint="Check app_id and the secret oa_secret_key (the Official "
                        "Account's secret key, not the app's).")
    if str(event.get("app_id")) != config.app_id:
        raise AuthError("The Zalo event is for another app.", hint="Check app_id.")
    if event.get("event_name") != DELIVERED:
        return WebhookResult()
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    recipient = event.get("recipient") if isinstance(event.get("recipient"), dict) else {}
    phone = str(recipient.get("id") or "")
    return WebhookResult(receipts=(Receipt(
        provider=KIND, status=Status.DELIVERED,
        provider_id=str(message.get("msg_id")) if message.get("msg_id") else None,
        key=str(message.get("tracking_id")) if message.get("tracking_id") else None,
        # a hashed phone (64 hex) is not an address
        address=wire.to_e164(phone) if phone.isdigit() and len(phone) <= 15 else None,
        at=wire.epoch_ms(message.get("delivery_time"))),))
