"""SpeedSMS (speedsms.vn).

Wire format (docs/providers.md § SpeedSMS has the sources and what is unconfirmed):

* ``POST {base}/sms/send`` with HTTP Basic auth, the access token as the user
  name; JSON ``{"to": ["84912…"], "content", "sms_type", "sender"}``.
* Success ``{"status": "success", "code": "00", "data": {"tranId",
  "totalSMS", "totalPrice", "invalidPhone": []}}``; failure ``{"status":
  "error", "code", "message", "invalidPhone"}``; over 60 requests a minute,
  HTTP 429 and ``X-Rate-Limit-Reset``.
* No idempotency key exists, so a message caught mid-send by a crash must be
  reconciled, never resent blindly.
* SpeedSMS POSTs JSON to the URL set in the account: ``{"type": "report",
  "tranId", "phone", "status"}`` (0 delivered, 1–63 still trying, 64 and up
  failed) and, for replies, ``{"type": "sms", "phone", "content"}``.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import AuthError, ProviderError, ValidationError
from sen.messaging import sms
from sen.messaging.keywords import is_opt_out
from sen.messaging.model import Channel, Inbound, OutgoingMessage, Purpose, Receipt, SendResult
from sen.messaging.model import Status as MessageStatus
from sen.messaging.providers import wire
from sen.messaging.providers.base import Provider, WebhookRequest, WebhookResult

KIND = "speedsms"
BASE_URL = "https://api.speedsms.vn/index.php"


class SpeedSmsConfig(BaseModel):
    """Settings of a SpeedSMS account (no secrets here)."""

    model_config = ConfigDict(extra="forbid")

    sender: str = Field(description="Brandname (or number) registered with SpeedSMS; sent as "
                        "sender.")
    base_url: str = Field(BASE_URL, description="SpeedSMS API root (change only for a test "
                          "server).")
    care_sms_type: int = Field(3, description="sms_type for customer care (3: brandname, 2: "
                               "random number, 4: SpeedSMS's default brandname).")
    advertising_sms_type: int | None = Field(
        None, description="sms_type SpeedSMS gave the account for advertising; empty refuses "
        "advertising, which needs a registered advertising brandname.")
    price_care: int = Field(0, ge=0, description="VND per SMS part for customer care.")
    price_advertising: int = Field(0, ge=0, description="VND per SMS part for advertising.")
    rate_per_s: float | None = Field(1.0, gt=0, description="At most this many requests a "
                                     "second (SpeedSMS allows 60 a minute).")
    timeout_s: float = Field(15.0, gt=0, description="Seconds to wait for SpeedSMS's answer.")


class SpeedSmsSecrets(BaseModel):
    """Sealed credentials of a SpeedSMS account."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(description="API access token (SpeedSMS account, Settings, "
                              "Profile).")
    webhook_token: str | None = Field(None, description="Random text added to the webhook URL "
                                      "set in SpeedSMS as ?token=…; calls without it are "
                                      "refused.")


_RECIPIENT = {"105": "the number is not valid"}
_TRANSIENT = {"500": "SpeedSMS had an internal error"}
_TERMINAL = {
    "007": ("SpeedSMS locked the IP address Sen sends from.", "Contact SpeedSMS."),
    "008": ("The SpeedSMS account is blocked.", "Contact SpeedSMS."),
    "009": ("The SpeedSMS account may not use the API.", "Enable API access with SpeedSMS."),
    "101": ("SpeedSMS found a parameter missing or invalid.",
            "Check sender, care_sms_type and advertising_sms_type."),
    "110": ("SpeedSMS does not support the text's encoding.", "Change the template's text."),
    "113": ("The text is too long for SpeedSMS.", "Shorten the template."),
    "300": ("The SpeedSMS balance is too low.", "Top up the SpeedSMS account, then retry."),
}


class SpeedSmsProvider(Provider):
    """One SpeedSMS account; not idempotent (the API takes no request id)."""

    kind: ClassVar[str] = KIND
    channel: ClassVar[Channel] = Channel.SMS

    def __init__(self, name: str, config: SpeedSmsConfig, secrets: SpeedSmsSecrets, *,
                 client: httpx.Client | None = None, **extra: Any) -> None:
        super().__init__(name, rate_per_s=config.rate_per_s)
        self.config, self.secrets = config, secrets
        self.url = config.base_url.rstrip("/") + "/sms/send"
        self.title = f"SpeedSMS ({name})"
        self._owns_client = client is None
        self.client = client or wire.make_client(config.timeout_s)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def estimate_cost(self, message: OutgoingMessage) -> int:
        price = (self.config.price_advertising if message.purpose == Purpose.ADVERTISING
                 else self.config.price_care)
        return sms.cost(message.body, price)

    def send(self, message: OutgoingMessage) -> SendResult:
        phone = wire.international(message.address)
        body = {"to": [phone], "content": message.body,
                "sms_type": self._sms_type(message), "sender": self.config.sender}
        response = wire.call(self.client, KIND, self.title, "POST", self.url, json=body,
                             auth=(self.secrets.access_token, "x"))
        wire.check_status(response, KIND, self.title, retry_header="X-Rate-Limit-Reset",
                          auth_hint="Check the secret access_token.")
        reply = wire.json_object(response, KIND, self.title)
        data = reply.get("data") if isinstance(reply.get("data"), dict) else {}
        invalid = reply.get("invalidPhone") or data.get("invalidPhone") or []
        if phone in [str(p) for p in invalid]:
            raise self.error("105", str(reply.get("message") or ""))
        if reply.get("status") == "success":
            tran_id = data.get("tranId")
            price = data.get("totalPrice")
            cost = int(price) if isinstance(price, int | float) else self.estimate_cost(message)
            return SendResult(str(tran_id) if tran_id is not None else None, cost)
        if reply.get("status") == "error":
            raise self.error(str(reply.get("code") or ""), str(reply.get("message") or ""))
        raise ProviderError(f"{self.title} answered without a status ({str(reply)[:80]}); it "
                            "may or may not have taken the message.", provider=KIND,
                            code="malformed", transient=True, hint="Sen tries again later.")

    def _sms_type(self, message: OutgoingMessage) -> int:
        if message.purpose != Purpose.ADVERTISING:
            return self.config.care_sms_type
        if self.config.advertising_sms_type is None:
            raise ProviderError(f"{self.title} has no sms_type for advertising.", provider=KIND,
                                code="config", hint="Set advertising_sms_type to the type "
                                "SpeedSMS gave the account for advertising.")
        return self.config.advertising_sms_type

    def error(self, code: str, detail: str) -> ProviderError:
        """The :class:`ProviderError` for SpeedSMS's error ``code``."""
        said = f" ({detail})" if detail else ""
        if code in _RECIPIENT:
            return ProviderError(f"{self.title}: {_RECIPIENT[code]}{said}.", provider=KIND,
                                 code=code, recipient=True)
        if code in _TRANSIENT:
            return ProviderError(f"{self.title}: {_TRANSIENT[code]}{said}.", provider=KIND,
                                 code=code, transient=True, hint="Sen tries again later.")
        message, hint = _TERMINAL.get(code, (f"SpeedSMS refused the message with code {code}.",
                                             "See SpeedSMS's list of error codes."))
        return ProviderError(f"{self.title}: {message}{said}", provider=KIND, code=code,
                             hint=hint)


def parse_webhook(request: WebhookRequest, config: SpeedSmsConfig,
                  secrets: SpeedSmsSecrets) -> WebhookResult:
    """A delivery report (``type`` ``report``) or a reply (``type`` ``sms``)."""
    if secrets.webhook_token and not hmac.compare_digest(
            request.query.get("token", ""), secrets.webhook_token):
        raise AuthError("The SpeedSMS call does not carry this provider's webhook token.",
                        hint="Check the webhook URL set in SpeedSMS and the secret "
                        "webhook_token.")
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("type") not in ("report", "sms"):
        raise ValidationError("This is not a SpeedSMS report or reply (a JSON object with type "
                              "report or sms).", field="type", rule="speedsms_webhook")
    phone = str(data.get("phone") or "")
    if data["type"] == "sms":
        text = str(data.get("content") or "")
        return WebhookResult(inbound=(Inbound(
            provider=KIND, channel=Channel.SMS, address=wire.to_e164(phone), text=text,
            opt_out=is_opt_out(text, [config.sender]), raw=data),))
    status = report_status(data.get("status"))
    if status is None:
        return WebhookResult()
    tran_id = data.get("tranId")
    return WebhookResult(receipts=(Receipt(
        provider=KIND, status=status, provider_id=str(tran_id) if tran_id is not None else None,
        address=wire.to_e164(phone) if phone else None,
        reason=f"SpeedSMS status {data.get('status')}" if status != MessageStatus.DELIVERED
        else None),))


def report_status(value: Any) -> MessageStatus | None:
    """0 delivered, 1–63 still being tried (SENT), 64 and up failed."""
    try:
        code = int(value)
    except (TypeError, ValueError):
        return None
    if code == 0:
        return MessageStatus.DELIVERED
    return MessageStatus.SENT if 0 < code < 64 else MessageStatus.FAILED
