"""Zalo ZNS: template messages to a phone number, sent with the Official
Account's access token.

Wire format (docs/providers.md § Zalo has the sources and what is unconfirmed):

* ``POST {base}/message/template``, header ``access_token``, JSON ``{"phone":
  "84912…", "template_id", "template_data": {…}, "tracking_id"}`` (and
  ``"mode": "development"`` to send only to the app's admins).
* Reply ``{"error": 0, "data": {"msg_id", "sent_time", "quota"}}``, or a
  negative ``error`` with a ``message``.
* ``tracking_id`` is Sen's key, for reconciliation; Zalo does not document it
  as an idempotency key, so ZNS is not idempotent here.
* Access tokens expire (about 25 hours). An expired token is refreshed
  (:mod:`sen.messaging.providers.zalo_oauth`) before it is used, or when Zalo
  calls it invalid, and the message is tried once more. Refresh tokens are
  single-use, so the pair lives in a :class:`~sen.messaging.providers.tokens.TokenStore`
  shared by every process.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import ProviderError, StoreError
from sen.messaging.model import Channel, OutgoingMessage, Purpose, SendResult
from sen.messaging.providers import wire
from sen.messaging.providers.base import Provider
from sen.messaging.providers.tokens import (
    MemoryTokenStore,
    TokenPair,
    TokenStore,
    fingerprint,
    utcnow,
)

KIND = "zalo"
BASE_URL = "https://business.openapi.zalo.me"
OAUTH_URL = "https://oauth.zaloapp.com"
TRACKING_ID_LIMIT = 48
GIVEN_TOKEN_LIFETIME = timedelta(hours=1)  # an access token entered by hand: age unknown


class ZaloConfig(BaseModel):
    """Settings of a Zalo Official Account sending ZNS (no secrets here)."""

    model_config = ConfigDict(extra="forbid")

    app_id: str = Field(description="ID of the Zalo app the Official Account authorized.")
    base_url: str = Field(BASE_URL, description="ZNS API root (change only for a test server).")
    oauth_base_url: str = Field(OAUTH_URL, description="Zalo OAuth root (change only for a test "
                                "server).")
    mode: Literal["production", "development"] = Field(
        "production", description="development: Zalo delivers only to the app's admins and "
        "testers, for trying templates.")
    price_care: int = Field(0, ge=0, description="VND per customer-care ZNS message.")
    price_advertising: int = Field(0, ge=0, description="VND per promotional ZNS message.")
    rate_per_s: float | None = Field(None, gt=0, description="At most this many requests a "
                                     "second.")
    timeout_s: float = Field(15.0, gt=0, description="Seconds to wait for Zalo's answer.")


class ZaloSecrets(BaseModel):
    """Sealed credentials of the app and Official Account."""

    model_config = ConfigDict(extra="forbid")

    app_secret: str = Field(description="The app's secret key (Zalo for Developers); sent "
                            "as secret_key when tokens are refreshed.")
    oa_secret_key: str = Field(description="The Official Account secret key that signs "
                               "webhook calls (X-ZEvent-Signature).")
    refresh_token: str = Field(description="A refresh token from authorizing the Official "
                               "Account; entering a new one restarts the token chain.")
    access_token: str | None = Field(None, description="The access token issued with it, if "
                                     "at hand.")


# Codes Zalo's ZNS error table lists (-100 … -112), -114 (seen in eSMS's ZNS callback
# sample) and codes seen only in third-party clients (-118, -124, -131, -132, -216).
TOKEN_ERRORS = frozenset({-124, -216})
_RECIPIENT = {-108: "the phone number is not valid", -110: "the recipient's Zalo is too old",
              -114: "the user is inactive, refused the message or uses an old Zalo",
              -118: "the number has no Zalo account"}
_RECIPIENT_WORDS = ("phone number invalid", "not existed", "inactive", "can not receive",
                    "cannot receive", "reject")
_TERMINAL = {
    -101: "Check app_id, and that the app is active and linked to the Official Account.",
    -102: "Check app_id.", -103: "Activate the app in Zalo for Developers.",
    -104: "Check the secret app_secret.", -105: "Link the app to the Official Account.",
    -109: "Check the template's ZNS template_id.",
    -111: "Give the template its template_data.",
    -112: "Check template_data against the ZNS template's parameters.",
    -131: "Wait for Zalo to approve the ZNS template.",
    -132: "Check the template's ZNS template_id.",
}


class ZaloProvider(Provider):
    """One Official Account sending ZNS. ``tokens`` (in ``**extra``) is where its token
    pair lives; without it, a store for this process only."""

    kind: ClassVar[str] = KIND
    channel: ClassVar[Channel] = Channel.ZALO

    def __init__(self, name: str, config: ZaloConfig, secrets: ZaloSecrets, *,
                 client: httpx.Client | None = None, tokens: TokenStore | None = None,
                 clock: Callable[[], datetime] = utcnow, **extra: Any) -> None:
        super().__init__(name, rate_per_s=config.rate_per_s)
        self.config, self.secrets, self.clock = config, secrets, clock
        self.tokens: TokenStore = tokens if tokens is not None else MemoryTokenStore()
        self.url = config.base_url.rstrip("/") + "/message/template"
        self.title = f"Zalo ZNS ({name})"
        self._owns_client = client is None
        self.client = client or wire.make_client(config.timeout_s)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def estimate_cost(self, message: OutgoingMessage) -> int:
        return (self.config.price_advertising if message.purpose == Purpose.ADVERTISING
                else self.config.price_care)

    def payload(self, message: OutgoingMessage) -> dict[str, Any]:
        """The JSON body that sends ``message``."""
        template_id, data = message.data.get("template_id"), message.data.get("template_data")
        if not template_id or not isinstance(data, dict):
            raise ProviderError(f"{self.title}: the message has no ZNS template_id and "
                                "template_data.", provider=KIND, code="template",
                                hint="Give the Zalo template its ZNS template id and "
                                "parameters.")
        body = {"phone": wire.international(message.address), "template_id": str(template_id),
                "template_data": data,
                "tracking_id": wire.short_key(message.key, TRACKING_ID_LIMIT)}
        if self.config.mode == "development":
            body["mode"] = "development"
        return body

    def send(self, message: OutgoingMessage) -> SendResult:
        body = self.payload(message)
        pair = self.current_tokens()
        reply = self._post(body, pair.access_token)
        if _is_token_error(reply):  # Zalo refused the token: nothing was sent
            pair = self._renew(pair.access_token)
            reply = self._post(body, pair.access_token)
        code = _code(reply)
        if code == 0:
            data = reply.get("data") if isinstance(reply.get("data"), dict) else {}
            msg_id = data.get("msg_id")
            return SendResult(str(msg_id) if msg_id else None, self.estimate_cost(message))
        if code is None:
            raise ProviderError(f"{self.title} answered without an error code "
                                f"({str(reply)[:80]}); it may or may not have taken the "
                                "message.", provider=KIND, code="malformed", transient=True,
                                hint="Sen tries again later.")
        raise self.error(code, str(reply.get("message") or ""))

    def current_tokens(self) -> TokenPair:
        """The pair to send with: seeded from the secrets when they hold a refresh token
        the store has not seen, renewed when about to expire."""
        seed = fingerprint(self.secrets.refresh_token)
        try:
            pair = self.tokens.load(self.name)
            if pair is None or seed not in pair.seeds:
                given = self.secrets.access_token or ""
                fresh = TokenPair(given, self.secrets.refresh_token,
                                  self.clock() + (GIVEN_TOKEN_LIFETIME if given else timedelta()),
                                  (pair.seeds if pair else ()) + (seed,))
                self.tokens.save(self.name, fresh, replaces=pair.refresh_token if pair else None)
                pair = self.tokens.load(self.name)
        except StoreError as exc:
            raise self._store_failed(exc) from exc
        assert pair is not None
        return self._renew(pair.access_token) if pair.expiring(self.clock()) else pair

    def _renew(self, stale_access: str) -> TokenPair:
        from sen.messaging.providers.zalo_oauth import refresh

        def renew(current: TokenPair) -> TokenPair:
            return refresh(self.client, self.config, self.secrets, current, self.clock())

        try:
            return self.tokens.renew(self.name, stale_access, renew)
        except StoreError as exc:
            raise self._store_failed(exc) from exc

    def _post(self, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        response = wire.call(self.client, KIND, self.title, "POST", self.url, json=body,
                             headers={"access_token": access_token})
        wire.check_status(response, KIND, self.title,
                          auth_hint="Authorize the Official Account again.")
        return wire.json_object(response, KIND, self.title)

    def error(self, code: int | None, detail: str) -> ProviderError:
        """The :class:`ProviderError` for Zalo's ``error`` code."""
        said = f"{self.title}: Zalo error {code}" + (f" ({detail})" if detail else "")
        if code in TOKEN_ERRORS:
            return ProviderError(f"{said}, even with a renewed access token.", provider=KIND,
                                 code=str(code), hint="Authorize the Official Account again "
                                 "and enter the new refresh token as the secret refresh_token.")
        if code in _RECIPIENT or any(w in detail.lower() for w in _RECIPIENT_WORDS):
            reason = _RECIPIENT.get(code or 0, "the recipient cannot receive ZNS")
            return ProviderError(f"{said}: {reason}.", provider=KIND, code=str(code),
                                 recipient=True)
        if code == -100:
            return ProviderError(f"{said}.", provider=KIND, code=str(code), transient=True,
                                 hint="Sen tries again later.")
        return ProviderError(f"{said}.", provider=KIND, code=str(code),
                             hint=_TERMINAL.get(code or 0, "See Zalo's ZNS error codes."))

    def _store_failed(self, exc: StoreError) -> ProviderError:
        return ProviderError(f"{self.title} could not read or save its tokens: {exc.message}",
                             provider=KIND, code="tokens", transient=True, hint=exc.hint)


def _code(reply: dict[str, Any]) -> int | None:
    try:
        return int(reply.get("error"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _is_token_error(reply: dict[str, Any]) -> bool:
    message = str(reply.get("message") or "").lower()
    return _code(reply) in TOKEN_ERRORS or ("access token" in message and (
        "invalid" in message or "expired" in message))

