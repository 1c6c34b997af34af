"""A made-up but typical HTTP SMS vendor, for the configurable ``http_sms`` provider.

Its contract, as a vendor's API page would state it:

* ``POST /api/v1/sms`` with ``Authorization: Bearer <token>`` and a form body
  ``msisdn`` (``84…``), ``message``, ``sender``, ``ref`` (the client's id);
* answers ``{"result": {"code": "0", "id": "<message id>"}}`` when accepted,
  ``{"result": {"code": "E12", "desc": "invalid msisdn"}}`` for a bad number,
  ``{"result": {"code": "E01", "desc": "unauthorized"}}`` with HTTP 401 for a
  wrong token, ``{"result": {"code": "E20", "desc": "unknown sender"}}``;
* delivery reports: POST JSON ``{"id", "msisdn", "stat": "DELIVRD" | "UNDELIV"
  | "ENROUTE"}`` to ``report_url``; replies: POST form ``from``, ``text`` to
  ``report_url``.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.common import Sandbox

PHONE = re.compile(r"84\d{9}")


class HttpSmsSandbox(Sandbox):
    """The vendor above with one account."""

    def __init__(self, *, token: str = "gateway-token", senders: tuple[str, ...] = ("SENSHOES",),
                 undeliverable: tuple[str, ...] = (), report_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token, self.senders = token, set(senders)
        self.undeliverable, self.report_url = set(undeliverable), report_url
        self._ids = itertools.count(1)

    def routes(self) -> list[Route]:
        async def send(request: Request) -> Response:
            return await self.guarded(request, self._send)
        return [Route("/api/v1/sms", send, methods=["POST"])]

    def error_reply(self, code: str, desc: str = "error", status: int = 200) -> Response:
        return JSONResponse({"result": {"code": code, "desc": desc}}, status)

    async def _send(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self.error_reply("E01", "unauthorized", 401)
        if not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            return self.error_reply("E10", "form body expected", 400)
        form = await request.form()
        phone, text = str(form.get("msisdn") or ""), str(form.get("message") or "")
        if not PHONE.fullmatch(phone):
            return self.error_reply("E12", "invalid msisdn")
        if form.get("sender") not in self.senders:
            return self.error_reply("E20", "unknown sender")
        message_id = f"GW{next(self._ids):08d}"
        self.record(phone, text, str(form.get("ref") or "") or None, message_id,
                    sender=form.get("sender"))
        if self.report_url:
            stat = "UNDELIV" if phone in self.undeliverable else "DELIVRD"
            self.courier.schedule(self.receipt_delay, "POST", self.report_url,
                                  json={"id": message_id, "msisdn": phone, "stat": stat})
        return JSONResponse({"result": {"code": "0", "id": message_id}})

    def simulate_inbound(self, phone: str, text: str) -> None:
        if not self.report_url:
            raise ValueError("set report_url to receive replies")
        sender = "84" + phone[1:] if phone.startswith("0") else phone.lstrip("+")
        self.courier.schedule(0, "POST", self.report_url, data={"from": sender, "text": text})
