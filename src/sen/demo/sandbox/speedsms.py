"""A local SpeedSMS, written from speedsms.vn's SMS API page and its sample code.

* ``POST /index.php/sms/send``, HTTP Basic auth with the access token as user
  name; JSON ``{"to": [...], "content", "sms_type", "sender"}``.
* ``{"status": "success", "code": "00", "data": {"tranId", "totalSMS",
  "totalPrice", "invalidPhone"}}`` or ``{"status": "error", "code", "message"}``
  with the documented codes (101 parameters, 105 phone, 300 balance…).
* 60 requests in 60 seconds, then HTTP 429 with Yii's body and
  ``X-Rate-Limit-Reset`` (seconds to wait).
* A wrong token is not documented; like SpeedSMS's framework (Yii) this answers
  HTTP 401. An unregistered ``sender`` has no documented code; this answers 101.
* Reports POST JSON ``{"type": "report", "tranId", "phone", "status"}`` (0
  delivered, 64 and up failed) to ``report_url``, and replies ``{"type":
  "sms", "phone", "content"}`` to the same URL.
"""

from __future__ import annotations

import base64
import itertools
import re
import time
from collections import deque
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.common import Fault, Sandbox
from sen.messaging.sms import measure

PHONE = re.compile(r"(0|84)(\d{9})")
BRANDNAME_TYPES = {3}
KNOWN_TYPES = {1, 2, 3, 4, 5, 6, 7, 8}


class SpeedSmsSandbox(Sandbox):
    """SpeedSMS with one account."""

    def __init__(self, *, token: str = "speedsms-token", senders: tuple[str, ...] = ("SENSHOES",),
                 balance: int | None = None, price: int = 600, limit: int = 60,
                 window_s: float = 60.0, undeliverable: tuple[str, ...] = (),
                 report_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token, self.senders, self.balance, self.price = token, set(senders), balance, price
        self.limit, self.window_s = limit, window_s
        self.undeliverable, self.report_url = set(undeliverable), report_url
        self._calls: deque[float] = deque()
        self._tran_ids = itertools.count(100001)

    def routes(self) -> list[Route]:
        async def send(request: Request) -> Response:
            return await self.guarded(request, self._send)
        return [Route("/index.php/sms/send", send, methods=["POST"])]

    def error_reply(self, code: str, message: str = "error", **more: Any) -> Response:
        return JSONResponse({"status": "error", "code": code, "message": message} | more)

    def too_many(self, fault: Fault) -> Response:
        return JSONResponse({"name": "Too Many Requests", "message": "Rate limit exceeded.",
                             "code": 0, "status": 429}, 429,
                            headers={"X-Rate-Limit-Limit": str(self.limit),
                                     "X-Rate-Limit-Remaining": "0",
                                     "X-Rate-Limit-Reset": str(fault.retry_after)})

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except ValueError:
            return False
        return user == self.token

    def _limited(self) -> int | None:
        """Seconds until a call is allowed again, or None when this one is."""
        clock = time.monotonic()
        while self._calls and clock - self._calls[0] >= self.window_s:
            self._calls.popleft()
        if len(self._calls) >= self.limit:
            return max(1, round(self.window_s - (clock - self._calls[0])))
        self._calls.append(clock)
        return None

    async def _send(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"name": "Unauthorized", "message": "Your request was made "
                                 "with invalid credentials.", "code": 0, "status": 401}, 401,
                                headers={"WWW-Authenticate": 'Basic realm="api"'})
        with self.lock:
            if (wait := self._limited()) is not None:
                return self.too_many(Fault("429", retry_after=wait))
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.error_reply("101", "invalid or missing parameters")
        return self._take(body)

    def _take(self, body: dict[str, Any]) -> Response:
        to, text, sms_type = body.get("to"), str(body.get("content") or ""), body.get("sms_type")
        if not isinstance(to, list) or not to or not text or sms_type not in KNOWN_TYPES:
            return self.error_reply("101", "invalid or missing parameters")
        if sms_type in BRANDNAME_TYPES and body.get("sender") not in self.senders:
            return self.error_reply("101", "sender is not registered")
        valid = [str(p) for p in to if PHONE.fullmatch(str(p))]
        invalid = [str(p) for p in to if not PHONE.fullmatch(str(p))]
        if not valid:
            return self.error_reply("105", "phone number invalid", invalidPhone=invalid)
        with self.lock:
            parts = measure(text).parts
            total = parts * self.price * len(valid)
            if self.balance is not None and self.balance < total:
                return self.error_reply("300", "balance not enough")
            if self.balance is not None:
                self.balance -= total
            tran_id = next(self._tran_ids)
            for phone in valid:
                self.record(phone, text, None, str(tran_id), sms_type=sms_type,
                            sender=body.get("sender"))
        if self.report_url:
            for phone in valid:
                status = 100 if phone in self.undeliverable else 0
                self.courier.schedule(self.receipt_delay, "POST", self.report_url, json={
                    "type": "report", "tranId": tran_id, "phone": phone, "status": status})
        return JSONResponse({"status": "success", "code": "00", "data": {
            "tranId": tran_id, "totalSMS": len(valid) * parts, "totalPrice": total,
            "invalidPhone": invalid}})

    def simulate_inbound(self, phone: str, text: str) -> None:
        if not self.report_url:
            raise ValueError("set report_url to receive replies")
        sender = "84" + phone[1:] if phone.startswith("0") else phone.lstrip("+")
        self.courier.schedule(0, "POST", self.report_url,
                              json={"type": "sms", "phone": sender, "content": text})
