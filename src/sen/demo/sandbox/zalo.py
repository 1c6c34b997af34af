"""A local Zalo ZNS and Zalo OAuth, written from Zalo's ZNS pages (as copied in
public repositories) and its error-code table.

* ``POST /message/template`` with header ``access_token`` and JSON ``phone``
  (``84…`` or ``+84…``), ``template_id``, ``template_data``, ``tracking_id``,
  optional ``mode``; ``{"error": 0, "data": {"msg_id", "sent_time",
  "sending_mode", "quota"}}`` or an error: -108 phone invalid, -109 template
  id invalid, -111 template data empty, -112 template data invalid, -114 user
  inactive or refusing, -118 no Zalo account, -124 access token invalid (the
  last two are seen only in third-party clients).
* ``POST /v4/oa/access_token`` with header ``secret_key``, form ``app_id``,
  ``grant_type=refresh_token``, ``refresh_token``: a new access token and a new
  refresh token; each refresh token works once. Zalo's codes for a refused
  refresh are not documented; this answers ``error`` -14014 with
  ``error_name``/``error_reason``.
* ``user_received_message`` POSTed to ``webhook_url`` after a delay, signed
  ``X-ZEvent-Signature`` = hex SHA-256 of app id + body + timestamp + OA secret
  key, with ``X-ZEvent-Server: ZNS``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.common import Faults, Sandbox

PHONE = re.compile(r"\+?84\d{9}")
ERRORS = {"-100": "Unknown error", "-108": "Phone number invalid",
          "-109": "Template ID invalid", "-111": "Template data empty",
          "-112": "Template data invalid",
          "-114": "User is inactive, or reject the message, or using an outdated Zalo "
                  "version, or other internal errors",
          "-118": "Zalo account not existed", "-124": "Access token invalid"}


class ZaloSandbox(Sandbox):
    """One Zalo app and Official Account: templates, tokens, quota, webhook."""

    def __init__(self, *, app_id: str = "4291763606161179100", app_secret: str = "app-secret",
                 oa_id: str = "2893352839501541173", oa_secret_key: str = "oa-secret-key",
                 templates: dict[str, set[str]] | None = None, no_zalo: tuple[str, ...] = (),
                 inactive: tuple[str, ...] = (), daily_quota: int = 500,
                 token_lifetime_s: int = 90_000, webhook_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_id, self.app_secret = app_id, app_secret
        self.oa_id, self.oa_secret_key = oa_id, oa_secret_key
        self.templates = templates if templates is not None else {
            "231455": {"customer_name", "order_code", "status"}}
        self.no_zalo, self.inactive = set(no_zalo), set(inactive)
        self.daily_quota, self.remaining = daily_quota, daily_quota
        self.token_lifetime_s, self.webhook_url = token_lifetime_s, webhook_url
        self.oauth_faults = Faults()
        self.access_tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self.refresh_tokens: set[str] = set()  # unused ones
        self.refreshes = 0  # refresh tokens exchanged

    # -- tokens -----------------------------------------------------------------------------
    def issue_tokens(self) -> tuple[str, str]:
        """A fresh (access token, refresh token), as authorizing the OA would give."""
        with self.lock:
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
            self.access_tokens[access] = time.monotonic() + self.token_lifetime_s
            self.refresh_tokens.add(refresh)
            return access, refresh

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    def _valid(self, access: str | None) -> bool:
        with self.lock:
            return bool(access) and self.access_tokens.get(access, 0.0) > time.monotonic()

    # -- routes -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        async def template(request: Request) -> Response:
            return await self.guarded(request, self._template)

        async def oauth(request: Request) -> Response:
            return await self.guarded(request, self._oauth, self.oauth_faults)

        return [Route("/message/template", template, methods=["POST"]),
                Route("/v4/oa/access_token", oauth, methods=["POST"])]

    def error_reply(self, code: str) -> Response:
        return JSONResponse({"error": int(code), "message": ERRORS.get(code, "Error")})

    async def _oauth(self, request: Request) -> Response:
        form = await request.form()
        if request.headers.get("secret_key") != self.app_secret or form.get("app_id") != \
                self.app_id:
            return JSONResponse({"error": -14002, "error_name": "Invalid app",
                                 "error_reason": "app_id or secret_key is wrong",
                                 "ref_doc": ""})
        refresh = str(form.get("refresh_token") or "")
        with self.lock:
            if form.get("grant_type") != "refresh_token" or refresh not in self.refresh_tokens:
                return JSONResponse({"error": -14014, "error_name": "Invalid refresh token",
                                     "error_reason": "The refresh token is invalid, expired "
                                     "or already used.", "ref_doc": ""})
            self.refresh_tokens.discard(refresh)
            self.refreshes += 1
        access, renewal = self.issue_tokens()
        return JSONResponse({"access_token": access, "refresh_token": renewal,
                             "expires_in": str(self.token_lifetime_s)})

    async def _template(self, request: Request) -> Response:
        if not self._valid(request.headers.get("access_token")):
            return self.error_reply("-124")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.error_reply("-100")
        phone = str(body.get("phone") or "")
        if not PHONE.fullmatch(phone):
            return self.error_reply("-108")
        params = self.templates.get(str(body.get("template_id")))
        if params is None:
            return self.error_reply("-109")
        data = body.get("template_data")
        if not isinstance(data, dict) or not data:
            return self.error_reply("-111")
        if set(data) != params:
            return self.error_reply("-112")
        phone = phone.lstrip("+")
        if phone in self.no_zalo:
            return self.error_reply("-118")
        if phone in self.inactive:
            return self.error_reply("-114")
        return self._accept(phone, body)

    def _accept(self, phone: str, body: dict[str, Any]) -> Response:
        msg_id = secrets.token_hex(10)
        tracking_id = str(body.get("tracking_id") or "") or None
        with self.lock:
            self.remaining -= 1
            remaining = self.remaining
        self.record(phone, json.dumps(body["template_data"], ensure_ascii=False), tracking_id,
                    msg_id, template_id=str(body["template_id"]), mode=body.get("mode"))
        sent = str(int(time.time() * 1000))
        if self.webhook_url:
            self._deliver(phone, msg_id, tracking_id)
        return JSONResponse({"error": 0, "message": "Success", "data": {
            "msg_id": msg_id, "sent_time": sent, "sending_mode": "1",
            "quota": {"dailyQuota": str(self.daily_quota), "remainingQuota": str(remaining)}}})

    def signature(self, body: bytes, timestamp: str) -> str:
        return hashlib.sha256(self.app_id.encode() + body + timestamp.encode()
                              + self.oa_secret_key.encode()).hexdigest()

    def _deliver(self, phone: str, msg_id: str, tracking_id: str | None) -> None:
        delivered = int(time.time() * 1000) + int(self.receipt_delay * 1000)
        timestamp = str(delivered + 35)
        event = {"sender": {"id": self.oa_id}, "recipient": {"id": phone},
                 "event_name": "user_received_message",
                 "message": {"delivery_time": str(delivered), "msg_id": msg_id,
                             "tracking_id": tracking_id or ""},
                 "app_id": self.app_id, "timestamp": timestamp}
        raw = json.dumps(event).encode()
        assert self.webhook_url is not None
        self.courier.schedule(self.receipt_delay, "POST", self.webhook_url, content=raw,
                              headers={"Content-Type": "application/json",
                                       "X-ZEvent-Signature": self.signature(raw, timestamp),
                                       "X-ZEvent-Server": "ZNS"})
