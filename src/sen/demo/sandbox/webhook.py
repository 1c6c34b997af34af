"""A system that receives Sen's webhooks: it checks each signature and keeps each call.

It checks ``Sen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`` with the shared secret and a tolerance on ``t`` (as
docs/providers.md tells receivers to), answers 401 to a request that fails,
treats a repeated ``Idempotency-Key`` as a request it already handled (200,
not done twice), and answers statuses on demand (:attr:`WebhookReceiver.fail_next`,
429 with ``Retry-After``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool
    reason: str = ""


def check(secret: str, header: str, body: bytes, now: float, tolerance_s: float) -> str:
    """Why the signature is refused, or ``""`` when it holds."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamp = (fields.get("t") or [""])[0]
    if not stamp.isdigit() or not fields.get("v1"):
        return "malformed Sen-Signature"
    if abs(now - int(stamp)) > tolerance_s:
        return "timestamp outside the tolerance"
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(mac, given) for given in fields["v1"]):
        return "signature mismatch"
    return ""


@dataclass
class WebhookReceiver:
    secret: str
    tolerance_s: float = 300
    clock: Callable[[], float] = time.time
    fail_next: list[int] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    handled: dict[str, int] = field(default_factory=dict)  # idempotency key → times accepted

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> JSONResponse:
        body, headers = await request.body(), dict(request.headers)
        reason = check(self.secret, headers.get("sen-signature", ""), body, self.clock(),
                       self.tolerance_s)
        key = headers.get("idempotency-key", "")
        if self.fail_next:
            status = self.fail_next.pop(0)
            self.calls.append(Call(request.url.path, headers, body, status, not reason, "asked"))
            extra = {"Retry-After": "7"} if status == 429 else {}
            return JSONResponse({"error": "injected"}, status_code=status, headers=extra)
        if reason:
            self.calls.append(Call(request.url.path, headers, body, 401, False, reason))
            return JSONResponse({"error": reason}, status_code=401)
        duplicate = key in self.handled
        self.handled[key] = self.handled.get(key, 0) + (0 if duplicate else 1)
        self.calls.append(Call(request.url.path, headers, body, 200, True,
                               "duplicate" if duplicate else ""))
        return JSONResponse({"ok": True, "duplicate": duplicate})
