"""A local eSMS.vn, written from eSMS's developer documentation.

* ``POST /MainService.svc/json/SendMultipleMessage_V4_post_json/``: one
  message (``SmsType`` 2 customer care, 8 fixed number). Advertising on this
  endpoint is not documented, so ``SmsType`` 1 here answers 118 (unsupported
  type), unless ``single_advertising`` is on.
* ``POST /MainService.svc/json/SendMultipleSMSBrandname_json/``: advertising,
  one ``Content`` for 30 to 5000 distinct ``Phones`` (107 below, 120 above).
* Codes: 101 wrong ApiKey/SecretKey, 104 unknown brandname, 108 bad number,
  99 blocked number, 103 balance too low, 124 ``RequestId`` seen in the last
  24 hours (``"Request exist 1"``), 100 accepted with an ``SMSID``;
  ``Sandbox`` ``"1"`` is checked and answered but neither sent nor charged.
* Receipts: HTTP GET to the request's ``CallbackUrl`` with ``SMSID``,
  ``SendStatus`` 5, ``SendSuccess``/``SendFailed``, ``TotalPrice``,
  ``TotalReceiver``, ``TotalSent``, ``RequestId``, ``TypeId``, ``telcoid``
  and (customer care) ``phonenumber``; advertising gets one aggregate.
* Keyword replies (short-code service): GET ``mo_url`` with ``sender``,
  ``content``, ``serviceNumber``, ``keyword``, ``smsid``, ``cpid``,
  ``receiverTime`` and ``sign`` = Base64(MD5(cpid+smsid+content+receiverTime+key)).
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.common import Sandbox, now
from sen.messaging.sms import measure

ROOT = "/MainService.svc/json"
PHONE = re.compile(r"(0|84)(\d{9})")
DEDUPE_WINDOW = timedelta(hours=24)
MESSAGES = {"99": "Phone is blocked", "101": "Authorize Failed",
            "103": "Not enough money", "104": "Brand name code is not exist",
            "107": "Each request has at least 30 numbers to be approved",
            "108": "Phone number is invalid", "118": "Sms type is not support",
            "120": "Phone list is over limit", "124": "Request exist 1",
            "300": "SmsType is required"}
TELCOS = {"1": ("03", "086", "096", "097", "098"), "2": ("07", "089", "090", "093"),
          "3": ("081", "082", "083", "084", "085", "088", "091", "094"),
          "4": ("052", "056", "058", "092"), "5": ("059", "099")}


def telco(phone: str) -> str:
    return next((t for t, prefixes in TELCOS.items() if phone.startswith(prefixes)), "")


class EsmsSandbox(Sandbox):
    """eSMS with one account: its keys, brandnames, balance and prices."""

    def __init__(self, *, api_key: str = "esms-api-key", secret_key: str = "esms-secret",
                 brandnames: tuple[str, ...] = ("SENSHOES",), balance: int | None = None,
                 price_care: int = 700, price_advertising: int = 800,
                 blocked: tuple[str, ...] = (), undeliverable: tuple[str, ...] = (),
                 single_advertising: bool = False, cpid: str = "CP-SEN",
                 mo_private_key: str = "esms-mo-key", mo_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_key, self.secret_key, self.brandnames = api_key, secret_key, set(brandnames)
        self.balance, self.prices = balance, {"1": price_advertising, "2": price_care,
                                              "8": price_care}
        self.blocked, self.undeliverable = set(blocked), set(undeliverable)
        self.single_advertising = single_advertising
        self.cpid, self.mo_private_key, self.mo_url = cpid, mo_private_key, mo_url
        self.request_ids: dict[str, datetime] = {}

    def routes(self) -> list[Route]:
        single = self._endpoint(self._single)
        bulk = self._endpoint(self._bulk)
        return [Route(f"{ROOT}/SendMultipleMessage_V4_post_json/", single, methods=["POST"]),
                Route(f"{ROOT}/SendMultipleMessage_V4_post_json", single, methods=["POST"]),
                Route(f"{ROOT}/SendMultipleSMSBrandname_json/", bulk, methods=["POST"]),
                Route(f"{ROOT}/SendMultipleSMSBrandname_json", bulk, methods=["POST"])]

    def error_reply(self, code: str, **more: Any) -> Response:
        return JSONResponse({"CodeResult": code, "CountRegenerate": 0,
                             "ErrorMessage": MESSAGES.get(code, "Error")} | more)

    def _endpoint(self, handler):  # noqa: ANN001, ANN202
        async def endpoint(request: Request) -> Response:
            async def run(req: Request) -> Response:
                try:
                    body = await req.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return JSONResponse({"error": "Invalid request"})
                return handler(body)
            return await self.guarded(request, run)
        return endpoint

    def _refused(self, body: dict[str, Any], types: set[str]) -> Response | None:
        """The first documented refusal that applies, before anything is taken."""
        if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
            return self.error_reply("101")
        sms_type = str(body.get("SmsType") or "")
        if not sms_type:
            return self.error_reply("300")
        if sms_type not in types:
            return self.error_reply("118")
        if sms_type != "8" and body.get("Brandname") not in self.brandnames:
            return self.error_reply("104")
        return None

    def _duplicate(self, request_id: str | None) -> bool:
        if not request_id:
            return False
        seen = self.request_ids.get(request_id)
        return seen is not None and now() - seen < DEDUPE_WINDOW

    def _charge(self, amount: int) -> bool:
        if self.balance is not None and self.balance < amount:
            return False
        if self.balance is not None:
            self.balance -= amount
        return True

    def _single(self, body: dict[str, Any]) -> Response:
        types = {"1", "2", "8"} if self.single_advertising else {"2", "8"}
        with self.lock:
            if refused := self._refused(body, types):
                return refused
            phone, text = str(body.get("Phone") or ""), str(body.get("Content") or "")
            if not PHONE.fullmatch(phone):
                return self.error_reply("108")
            if phone in self.blocked:
                return self.error_reply("99")
            request_id = body.get("RequestId") or None
            if self._duplicate(request_id):
                return self.error_reply("124", SendStatus="5")
            sms_type = str(body["SmsType"])
            if str(body.get("Sandbox")) == "1":  # checked, neither sent nor charged
                return JSONResponse({"CodeResult": "100", "CountRegenerate": 0,
                                     "SMSID": uuid.uuid4().hex, "IsSandbox": True})
            price = measure(text).parts * self.prices[sms_type]
            if not self._charge(price):
                return self.error_reply("103")
            sms_id = uuid.uuid4().hex
            if request_id:
                self.request_ids[request_id] = now()
            self.record(phone, text, request_id, sms_id, sms_type=sms_type,
                        brandname=body.get("Brandname"), unicode=body.get("IsUnicode"))
        if body.get("CallbackUrl"):
            failed = phone in self.undeliverable
            self._callback(str(body["CallbackUrl"]), {
                "SMSID": sms_id, "SendFailed": int(failed), "SendStatus": 5,
                "SendSuccess": int(not failed), "TotalPrice": f"{price:.4f}",
                "TotalReceiver": 1, "TotalSent": 1, "RequestId": request_id or "",
                "TypeId": sms_type, "telcoid": telco(phone), "phonenumber": phone,
                "switchsmsid": ""})
        return JSONResponse({"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id})

    def _bulk(self, body: dict[str, Any]) -> Response:
        with self.lock:
            if refused := self._refused(body, {"1"}):
                return refused
            raw = body.get("Phones")
            phones = sorted({str(p) for p in raw if PHONE.fullmatch(str(p))}
                            if isinstance(raw, list) else set())
            if len(phones) < 30:
                return self.error_reply("107")
            if len(phones) > 5000:
                return self.error_reply("120")
            request_id = body.get("RequestId") or None
            if self._duplicate(request_id):
                return self.error_reply("124")
            text = str(body.get("Content") or "")
            price = measure(text).parts * self.prices["1"] * len(phones)
            if not self._charge(price):
                return self.error_reply("103")
            sms_id = uuid.uuid4().hex
            if request_id:
                self.request_ids[request_id] = now()
            for phone in phones:
                self.record(phone, text, request_id, sms_id, sms_type="1",
                            brandname=body.get("Brandname"))
        if body.get("CallbackUrl"):
            failed = sum(1 for p in phones if p in self.undeliverable or p in self.blocked)
            self._callback(str(body["CallbackUrl"]), {
                "SMSID": sms_id, "SendFailed": failed, "SendStatus": 5,
                "SendSuccess": len(phones) - failed, "TotalPrice": f"{price:.4f}",
                "TotalReceiver": len(phones), "TotalSent": len(phones),
                "RequestId": request_id or "", "TypeId": "1"})
        return JSONResponse({"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id})

    def _callback(self, url: str, fields: dict[str, Any]) -> None:
        target = httpx.URL(url).copy_merge_params({k: str(v) for k, v in fields.items()})
        self.courier.schedule(self.receipt_delay, "GET", str(target))

    def simulate_inbound(self, phone: str, text: str) -> None:
        """A customer texts ``text`` to the short code; eSMS forwards it to ``mo_url``."""
        if not self.mo_url:
            raise ValueError("set mo_url to receive keyword replies")
        sms_id = uuid.uuid4().hex
        received = (now() + timedelta(hours=7)).strftime("%Y%m%d%H%M%S")
        sign = base64.b64encode(hashlib.md5(
            (self.cpid + sms_id + text + received + self.mo_private_key).encode()).digest())
        sender = "84" + phone[1:] if phone.startswith("0") else phone.lstrip("+")
        params = {"sender": sender, "content": text, "serviceNumber": "8079",
                  "keyword": (text.split() or [""])[0], "sign": sign.decode(),
                  "cpid": self.cpid, "smsid": sms_id, "receiverTime": received}
        self.courier.schedule(0, "GET", self.mo_url, params=params)
