"""eSMS.vn (ViHAT) SMS brandname.

Wire format (docs/providers.md § eSMS has the sources):

* Customer care: ``POST {base}/SendMultipleMessage_V4_post_json/``, JSON with
  ``ApiKey``, ``SecretKey``, ``Phone`` (``0912…``), ``Content``, ``Brandname``,
  ``SmsType`` ``"2"``, ``IsUnicode``, ``RequestId``, ``CallbackUrl``,
  ``Sandbox``. One message a request.
* Advertising: ``POST {base}/SendMultipleSMSBrandname_json/`` with ``Phones``
  (30 to 5000 distinct numbers, one text for all) and ``SmsType`` ``"1"``;
  eSMS holds the request for approval before sending. eSMS documents no
  single-message advertising, so :meth:`EsmsProvider.send_batch` groups
  advertising messages by text; a group of fewer than 30 numbers is refused
  here with eSMS's own code 107. ``advertising_mode = "single"`` sends
  advertising one by one instead, for accounts where eSMS enabled it.
* Reply: ``{"CodeResult": "100", "SMSID": …}``; ``124`` means the
  ``RequestId`` was already taken (eSMS blocks a repeat for 24 hours), which
  is how a resend after a crash is absorbed: Sen sends its idempotency key as
  ``RequestId`` and treats 124 as "already sent".

Receipts and keyword replies are parsed by
:func:`sen.messaging.providers.esms_webhook.parse_webhook`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import ProviderError
from sen.messaging import sms
from sen.messaging.model import Channel, OutgoingMessage, Purpose, SendResult
from sen.messaging.providers import wire
from sen.messaging.providers.base import Provider

KIND = "esms"
BASE_URL = "https://rest.esms.vn/MainService.svc/json"
SINGLE_PATH = "/SendMultipleMessage_V4_post_json/"
BULK_PATH = "/SendMultipleSMSBrandname_json/"
REQUEST_ID_LIMIT = 50
BULK_MIN, BULK_MAX = 30, 5000


class EsmsConfig(BaseModel):
    """Settings of an eSMS account (shown back in the app; no secrets here)."""

    model_config = ConfigDict(extra="forbid")

    brandname: str = Field(description="The brandname registered with eSMS and the carriers; "
                           "recipients see it as the sender.")
    base_url: str = Field(BASE_URL, description="eSMS's JSON API root (change only for a "
                          "test server).")
    care_sms_type: str = Field("2", description="eSMS SmsType for customer care (2: CSKH/OTP).")
    advertising_sms_type: str = Field("1", description="eSMS SmsType for advertising (1).")
    advertising_mode: Literal["bulk", "single"] = Field(
        "bulk", description="bulk: advertising goes in eSMS's bulk request (one text for 30 to "
        "5000 numbers, as documented); single: one request per message, only where eSMS "
        "enabled that for the account.")
    callback_url: str | None = Field(None, description="Sen's eSMS webhook URL, sent as "
                                     "CallbackUrl so eSMS reports delivery there.")
    sandbox: bool = Field(False, description="Send Sandbox=1: eSMS checks the request but "
                          "neither delivers nor charges it.")
    opt_out_reply: str = Field("", description="Text eSMS sends back to a keyword reply that "
                               "is an opt-out (short-code service); empty sends nothing.")
    price_care: int = Field(0, ge=0, description="VND per SMS part for customer care.")
    price_advertising: int = Field(0, ge=0, description="VND per SMS part for advertising.")
    rate_per_s: float | None = Field(None, gt=0, description="At most this many requests a "
                                     "second (empty: no limit).")
    timeout_s: float = Field(15.0, gt=0, description="Seconds to wait for eSMS's answer.")


class EsmsSecrets(BaseModel):
    """Sealed credentials of an eSMS account."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(description="ApiKey from the eSMS account page.")
    secret_key: str = Field(description="SecretKey from the eSMS account page.")
    callback_token: str | None = Field(None, description="Random text added to CallbackUrl as "
                                       "?token=…; receipts without it are refused.")
    mo_private_key: str | None = Field(None, description="PrivateKey eSMS gives with the CPID "
                                       "of a short-code service; keyword replies are checked "
                                       "with it.")


_RECIPIENT = {"99": "the number is blocked at eSMS", "108": "the number is not valid"}
_TRANSIENT = {"160": "eSMS says too many requests a second"}
_TERMINAL = {
    "101": ("eSMS refused the API key or secret key.",
            "Check the secrets api_key and secret_key (eSMS account, API page)."),
    "102": ("eSMS has no price list for this account.", "Ask eSMS to set one up."),
    "103": ("The eSMS balance is too low to send.", "Top up the eSMS account, then retry."),
    "104": ("eSMS does not know this brandname or it is not active.",
            "Set brandname to a brandname registered with eSMS."),
    "107": ("eSMS advertising needs one text sent to at least 30 distinct numbers in one "
            "request.", "Send advertising to 30 or more people with the same text (no "
            "personal fields), or set advertising_mode to single if eSMS allows it."),
    "118": ("eSMS does not support this message type.",
            "Check care_sms_type and advertising_sms_type, or set advertising_mode to bulk."),
    "120": ("Too many numbers in one eSMS request.", "Send at most 5000 at once."),
    "140": ("eSMS refused this IP address.", "Ask eSMS to whitelist the IP Sen sends from."),
    "143": ("The eSMS account is not active or is locked.", "Contact eSMS."),
    "146": ("The text is not a customer-care template registered with eSMS.",
            "Register the template's text with eSMS, or make the template match it."),
    "177": ("The brandname is not registered with this number's carrier.",
            "Register the brandname with that carrier through eSMS."),
    "201": ("eSMS blocked the text for a forbidden keyword.", "Change the template's text."),
    "300": ("eSMS needs a message type.", "Set care_sms_type and advertising_sms_type."),
}


class EsmsProvider(Provider):
    """One eSMS account. Idempotent: the outbox key travels as ``RequestId``."""

    kind: ClassVar[str] = KIND
    channel: ClassVar[Channel] = Channel.SMS
    idempotent: ClassVar[bool] = True
    max_batch: ClassVar[int] = BULK_MAX

    def __init__(self, name: str, config: EsmsConfig, secrets: EsmsSecrets, *,
                 client: httpx.Client | None = None, **extra: Any) -> None:
        super().__init__(name, rate_per_s=config.rate_per_s)
        self.config, self.secrets = config, secrets
        self.base = config.base_url.rstrip("/")
        self.title = f"eSMS ({name})"
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
        if self._in_bulk(message):
            raise self.error("107", "a single advertising message cannot be sent alone")
        body = self._common() | {
            "Phone": wire.national(message.address), "Content": message.body,
            "SmsType": (self.config.advertising_sms_type
                        if message.purpose == Purpose.ADVERTISING else self.config.care_sms_type),
            "IsUnicode": "1" if message.unicode else "0",
            "RequestId": wire.short_key(message.key, REQUEST_ID_LIMIT),
        }
        return self._result(self._post(SINGLE_PATH, body), self.estimate_cost(message))

    def send_batch(self, messages: Sequence[OutgoingMessage]
                   ) -> list[SendResult | ProviderError]:
        """Customer care one by one; advertising in one bulk request per distinct text."""
        results: list[SendResult | ProviderError | None] = [None] * len(messages)
        groups: dict[str, list[int]] = {}
        for i, message in enumerate(messages):
            if self._in_bulk(message):
                groups.setdefault(message.body, []).append(i)
            else:
                results[i] = self._attempt(lambda m=message: self.send(m))
        for indexes in groups.values():
            for part in _chunks(sorted(indexes, key=lambda i: messages[i].key), BULK_MAX):
                group = [messages[i] for i in part]
                outcome = self._attempt(lambda g=group: self._send_bulk(g))
                for i in part:
                    results[i] = (outcome if isinstance(outcome, ProviderError) else SendResult(
                        outcome.provider_id, self.estimate_cost(messages[i]), outcome.duplicate))
        return [r for r in results if r is not None]

    def _send_bulk(self, group: Sequence[OutgoingMessage]) -> SendResult:
        phones = sorted({wire.national(m.address) for m in group})
        if len(phones) < BULK_MIN:
            raise self.error("107", f"only {len(phones)} distinct numbers share this text")
        body = self._common() | {
            "Phones": phones, "Content": group[0].body,
            "SmsType": self.config.advertising_sms_type,
            "RequestId": bulk_request_id([m.key for m in group]),
        }
        return self._result(self._post(BULK_PATH, body), None)

    def batchable(self, message: OutgoingMessage) -> bool:
        return self._in_bulk(message)

    def _in_bulk(self, message: OutgoingMessage) -> bool:
        return (message.purpose == Purpose.ADVERTISING
                and self.config.advertising_mode == "bulk")

    def _common(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ApiKey": self.secrets.api_key,
                                "SecretKey": self.secrets.secret_key,
                                "Brandname": self.config.brandname}
        if self.config.callback_url:
            url = httpx.URL(self.config.callback_url)
            if self.secrets.callback_token:
                url = url.copy_merge_params({"token": self.secrets.callback_token})
            body["CallbackUrl"] = str(url)
        if self.config.sandbox:
            body["Sandbox"] = "1"
        return body

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = wire.call(self.client, KIND, self.title, "POST", self.base + path, json=body)
        wire.check_status(response, KIND, self.title,
                          auth_hint="Check the secrets api_key and secret_key.")
        return wire.json_object(response, KIND, self.title)

    def _result(self, reply: dict[str, Any], cost: int | None) -> SendResult:
        code = str(reply.get("CodeResult") or "")
        provider_id = reply.get("SMSID") or None
        if code == "100":
            return SendResult(provider_id, cost)
        if code == "124":  # the RequestId was already taken: this message went before
            return SendResult(provider_id, None, duplicate=True)
        if not code:
            detail = reply.get("error") or reply.get("ErrorMessage") or "no CodeResult"
            raise ProviderError(f"{self.title} answered without a result code ({detail}); it "
                                "may or may not have taken the message.", provider=KIND,
                                code="malformed", transient=True, hint="Sen tries again later.")
        raise self.error(code, str(reply.get("ErrorMessage") or ""))

    def error(self, code: str, detail: str) -> ProviderError:
        """The :class:`ProviderError` for eSMS's ``CodeResult`` ``code``."""
        said = f" ({detail})" if detail else ""
        if code in _RECIPIENT:
            return ProviderError(f"{self.title}: {_RECIPIENT[code]}{said}.", provider=KIND,
                                 code=code, recipient=True)
        if code in _TRANSIENT:
            return ProviderError(f"{self.title}: {_TRANSIENT[code]}{said}.", provider=KIND,
                                 code=code, transient=True, hint="Lower rate_per_s.")
        message, hint = _TERMINAL.get(code, (f"eSMS refused the message with code {code}.",
                                             "See eSMS's table of error codes."))
        return ProviderError(f"{self.title}: {message}{said}", provider=KIND, code=code,
                             hint=hint)

    @staticmethod
    def _attempt(fn: Any) -> SendResult | ProviderError:
        try:
            return fn()
        except ProviderError as exc:
            return exc


def bulk_request_id(keys: Sequence[str]) -> str:
    """The ``RequestId`` of a bulk request: a digest of its messages' keys, so the same
    group sent again is recognised as the same request."""
    digest = hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()
    return "b" + digest[: REQUEST_ID_LIMIT - 1]


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
