"""A generic HTTP SMS gateway, configured instead of coded.

Many Vietnamese SMS vendors take one HTTP request per message and answer with
JSON. This provider describes such a vendor with settings:

* the request: ``method``, ``url``, ``auth`` (``none``, ``basic`` from the
  secrets' username and password, ``bearer`` or ``header`` from the secret
  token), and ``body`` (``json``, ``form``, or ``query`` parameters) built from
  ``template``: every string in it has ``{phone}``, ``{text}``, ``{key}``,
  ``{brandname}`` and ``{unicode}`` (``1``/``0``) replaced, so
  ``{"to": ["{phone}"], "msg": "{text}"}`` sends a list;
* the answer: the value at ``success_path`` (a dotted path into the JSON reply)
  must be one of ``success_values``; ``id_path`` holds the vendor's message id;
  on failure ``error_path`` holds its code, and codes in ``recipient_errors``
  are about the number (the campaign's fallback channel is tried);
* its webhook (receipts and replies, JSON, form or query fields): a receipt has a
  value at ``receipt_status_path`` (``delivered_values`` → delivered,
  ``pending_values`` → sent, anything else → failed) and the id at
  ``receipt_id_path``; a reply has ``inbound_text_path`` and ``inbound_phone_path``.

It is not idempotent: nothing says a vendor drops a repeated ``{key}``.
"""

from __future__ import annotations

import hmac
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import AuthError, ProviderError, ValidationError
from sen.messaging import sms
from sen.messaging.keywords import is_opt_out
from sen.messaging.model import Channel, Inbound, OutgoingMessage, Purpose, Receipt, SendResult
from sen.messaging.model import Status as MessageStatus
from sen.messaging.providers import wire
from sen.messaging.providers.base import Provider, WebhookRequest, WebhookResult

KIND = "http_sms"
PHONE_FORMS = {"national": wire.national, "international": wire.international,
               "e164": lambda e164: e164}


class HttpSmsConfig(BaseModel):
    """How to talk to one HTTP SMS vendor (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The vendor's send URL.")
    method: Literal["POST", "GET"] = Field("POST", description="HTTP method of the send call.")
    auth: Literal["none", "basic", "bearer", "header"] = Field(
        "none", description="basic: username/password secrets; bearer: Authorization: Bearer "
        "<token>; header: the token in auth_header.")
    auth_header: str = Field("X-API-Key", description="Header that carries the token when "
                             "auth is header.")
    body: Literal["json", "form", "query"] = Field("json", description="How the template's "
                                                   "fields travel.")
    template: dict[str, Any] = Field(description="The request's fields, with {phone}, {text}, "
                                     "{key}, {brandname} and {unicode} placeholders.")
    phone_format: Literal["national", "international", "e164"] = Field(
        "national", description="national 0912…, international 84912…, e164 +84912….")
    brandname: str = Field("", description="Sender name put in {brandname}.")
    success_path: str = Field(description="Dotted path of the reply's success marker.")
    success_values: list[str] = Field(description="Values at success_path that mean accepted.")
    id_path: str | None = Field(None, description="Dotted path of the vendor's message id.")
    error_path: str | None = Field(None, description="Dotted path of the vendor's error code.")
    message_path: str | None = Field(None, description="Dotted path of the error's text.")
    recipient_errors: list[str] = Field(default_factory=list, description="Error codes that "
                                        "mean the number cannot receive.")
    receipt_id_path: str | None = Field(None, description="Webhook: the message id.")
    receipt_status_path: str | None = Field(None, description="Webhook: the delivery status.")
    receipt_phone_path: str | None = Field(None, description="Webhook: the recipient's number.")
    delivered_values: list[str] = Field(default_factory=list, description="Statuses meaning "
                                        "delivered.")
    pending_values: list[str] = Field(default_factory=list, description="Statuses meaning not "
                                      "final yet (others mean failed).")
    inbound_phone_path: str | None = Field(None, description="Webhook: a reply's sender.")
    inbound_text_path: str | None = Field(None, description="Webhook: a reply's text.")
    price_care: int = Field(0, ge=0, description="VND per SMS part for customer care.")
    price_advertising: int = Field(0, ge=0, description="VND per SMS part for advertising.")
    rate_per_s: float | None = Field(None, gt=0, description="At most this many requests a "
                                     "second.")
    timeout_s: float = Field(15.0, gt=0, description="Seconds to wait for the vendor.")


class HttpSmsSecrets(BaseModel):
    """Sealed credentials of the vendor account."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(None, description="User name for basic auth.")
    password: str | None = Field(None, description="Password for basic auth.")
    token: str | None = Field(None, description="Token for bearer or header auth.")
    webhook_token: str | None = Field(None, description="If set, webhook calls must carry "
                                      "?token=<this>.")


def fill(template: Any, values: dict[str, str]) -> Any:
    """``template`` with every ``{name}`` in its strings replaced, recursively."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    return template


class HttpSmsProvider(Provider):
    """One account at a vendor described by :class:`HttpSmsConfig`."""

    kind: ClassVar[str] = KIND
    channel: ClassVar[Channel] = Channel.SMS

    def __init__(self, name: str, config: HttpSmsConfig, secrets: HttpSmsSecrets, *,
                 client: httpx.Client | None = None, **extra: Any) -> None:
        super().__init__(name, rate_per_s=config.rate_per_s)
        self.config, self.secrets = config, secrets
        self.title = f"SMS gateway {name}"
        self._owns_client = client is None
        self.client = client or wire.make_client(config.timeout_s)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def estimate_cost(self, message: OutgoingMessage) -> int:
        price = (self.config.price_advertising if message.purpose == Purpose.ADVERTISING
                 else self.config.price_care)
        return sms.cost(message.body, price)

    def request(self, message: OutgoingMessage) -> dict[str, Any]:
        """The keyword arguments of the ``httpx`` call that sends ``message``."""
        cfg, sec = self.config, self.secrets
        values = {"phone": PHONE_FORMS[cfg.phone_format](message.address),
                  "text": message.body, "key": message.key, "brandname": cfg.brandname,
                  "unicode": "1" if message.unicode else "0"}
        fields = fill(cfg.template, values)
        kwargs: dict[str, Any] = {{"json": "json", "form": "data", "query": "params"}[cfg.body]:
                                  fields}
        if cfg.auth == "basic":
            kwargs["auth"] = (sec.username or "", sec.password or "")
        elif cfg.auth == "bearer":
            kwargs["headers"] = {"Authorization": f"Bearer {sec.token or ''}"}
        elif cfg.auth == "header":
            kwargs["headers"] = {cfg.auth_header: sec.token or ""}
        return kwargs

    def send(self, message: OutgoingMessage) -> SendResult:
        cfg = self.config
        response = wire.call(self.client, KIND, self.title, cfg.method, cfg.url,
                             **self.request(message))
        wire.check_status(response, KIND, self.title,
                          auth_hint="Check the provider's auth setting and its secrets.")
        reply = wire.json_object(response, KIND, self.title)
        if str(wire.dig(reply, cfg.success_path)) in cfg.success_values:
            provider_id = wire.dig(reply, cfg.id_path)
            return SendResult(None if provider_id is None else str(provider_id),
                              self.estimate_cost(message))
        code = wire.dig(reply, cfg.error_path)
        detail = wire.dig(reply, cfg.message_path) or str(reply)[:120]
        if code is not None and str(code) in cfg.recipient_errors:
            raise ProviderError(f"{self.title} cannot send to this number ({detail}).",
                                provider=KIND, code=str(code), recipient=True)
        raise ProviderError(f"{self.title} refused the message ({detail}).", provider=KIND,
                            code=None if code is None else str(code),
                            hint="See the vendor's error codes; list the ones about the "
                            "number in recipient_errors.")


def parse_webhook(request: WebhookRequest, config: HttpSmsConfig,
                  secrets: HttpSmsSecrets) -> WebhookResult:
    """A receipt or a reply, found through the configured paths."""
    if secrets.webhook_token and not hmac.compare_digest(
            request.query.get("token", ""), secrets.webhook_token):
        raise AuthError("The gateway's call does not carry this provider's webhook token.",
                        hint="Check the webhook URL given to the vendor and the secret "
                        "webhook_token.")
    fields = wire.webhook_fields(request.body, request.query)
    status = wire.dig(fields, config.receipt_status_path)
    if status is not None:
        value = str(status)
        state = (MessageStatus.DELIVERED if value in config.delivered_values
                 else MessageStatus.SENT if value in config.pending_values
                 else MessageStatus.FAILED)
        provider_id, phone = (wire.dig(fields, config.receipt_id_path),
                              wire.dig(fields, config.receipt_phone_path))
        return WebhookResult(receipts=(Receipt(
            provider=KIND, status=state, provider_id=None if provider_id is None
            else str(provider_id), address=wire.to_e164(str(phone)) if phone else None,
            reason=None if state == MessageStatus.DELIVERED else f"status {value}"),))
    text, phone = (wire.dig(fields, config.inbound_text_path),
                   wire.dig(fields, config.inbound_phone_path))
    if text is not None and phone:
        return WebhookResult(inbound=(Inbound(
            provider=KIND, channel=Channel.SMS, address=wire.to_e164(str(phone)),
            text=str(text), opt_out=is_opt_out(str(text), [config.brandname]), raw=fields),))
    raise ValidationError("The gateway's call has neither a receipt status nor a reply text "
                          "at the configured paths.", field="receipt_status_path",
                          rule="http_sms_webhook")
