"""What every provider sandbox has: an inbox, failure injection, late callbacks.

A sandbox keeps every message it accepted (the demo's inbox, and the count per
phone that proves "messaged exactly once"), answers the next requests with
injected failures when asked, and calls back (receipts, replies) from a
background thread after a delay, the way providers do.

Control endpoints, under ``/_sandbox``::

    GET  /_sandbox/messages            accepted messages, newest last, and counts per phone
    GET  /_sandbox/count               how many messages were accepted
    POST /_sandbox/faults              {"kind", "times", "code", "retry_after"}
    POST /_sandbox/inbound             {"phone", "text"}: a customer replies
    POST /_sandbox/reset               forget messages and faults

Fault kinds: ``timeout`` (hang, take nothing), ``accept_timeout`` (take the
message, then hang), ``429``, ``500``, ``malformed`` (a 200 that is not JSON),
``error`` (the provider's error reply with ``code``) and, where tokens exist,
``expired_token``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.courier import Courier

FAULT_KINDS = frozenset({"timeout", "accept_timeout", "429", "500", "malformed", "error",
                         "expired_token"})


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Accepted:
    """One message a sandbox took, as the provider would have recorded it."""

    phone: str
    text: str
    request_id: str | None
    provider_id: str
    at: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"at": self.at.isoformat()}


@dataclass(frozen=True)
class Fault:
    kind: str
    code: str | None = None
    retry_after: int = 1


class Faults:
    """Failures to answer the next requests with, in order."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()

    def inject(self, kind: str, *, times: int = 1, code: str | None = None,
               retry_after: int = 1) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._queue.extend(Fault(kind, code, retry_after) for _ in range(times))

    def take(self) -> Fault | None:
        with self._lock:
            return self._queue.pop(0) if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


Handler = Callable[[Request], Awaitable[Response]]


class Sandbox:
    """Base of the provider sandboxes: state, faults, control routes."""

    def __init__(self, *, receipt_delay: float = 0.05, hang_s: float = 3.0) -> None:
        self.receipt_delay, self.hang_s = receipt_delay, hang_s
        self.lock = threading.RLock()
        self.accepted: list[Accepted] = []
        self.faults = Faults()
        self.courier = Courier()

    # -- what the tests and the demo read -------------------------------------------------
    def record(self, phone: str, text: str, request_id: str | None, provider_id: str,
               **extra: Any) -> Accepted:
        item = Accepted(phone, text, request_id, provider_id, now(), extra)
        with self.lock:
            self.accepted.append(item)
        return item

    def messages(self) -> list[Accepted]:
        with self.lock:
            return list(self.accepted)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return dict(Counter(item.phone for item in self.accepted))

    def count(self, phone: str) -> int:
        return self.counts().get(phone, 0)

    def close(self) -> None:
        """Stop calling back (receipts not sent yet are dropped)."""
        self.courier.close()

    def reset(self) -> None:
        with self.lock:
            self.accepted.clear()
        self.faults.clear()

    # -- what each provider's sandbox fills in --------------------------------------------
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def error_reply(self, code: str) -> Response:
        """The provider's error answer carrying ``code``."""
        raise NotImplementedError

    def too_many(self, fault: Fault) -> Response:
        return PlainTextResponse("Too Many Requests", 429,
                                 headers={"Retry-After": str(fault.retry_after)})

    def expire_tokens(self) -> None:
        """Make every issued access token stale (sandboxes with tokens)."""

    def simulate_inbound(self, phone: str, text: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no inbound messages")

    # -- plumbing -------------------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=self.routes() + self.control_routes())

    async def guarded(self, request: Request, handler: Handler,
                      faults: Faults | None = None) -> Response:
        """Run ``handler`` unless an injected fault answers first."""
        fault = (faults or self.faults).take()
        kind = fault.kind if fault else None
        if kind == "timeout":
            await asyncio.sleep(self.hang_s)
            return PlainTextResponse("Gateway Timeout", 504)
        if kind == "500":
            return PlainTextResponse("Internal Server Error", 500)
        if kind == "429" and fault:
            return self.too_many(fault)
        if kind == "malformed":
            return Response("<html><body>Service temporarily unavailable", 200,
                            media_type="text/html")
        if kind == "error" and fault:
            return self.error_reply(fault.code or "")
        if kind == "expired_token":
            self.expire_tokens()
        response = await handler(request)
        if kind == "accept_timeout":
            await asyncio.sleep(self.hang_s)
        return response

    def control_routes(self) -> list[Route]:
        async def messages(_: Request) -> Response:
            return JSONResponse({"messages": [m.as_json() for m in self.messages()],
                                 "counts": self.counts()})

        async def count(_: Request) -> Response:
            with self.lock:
                return JSONResponse({"accepted": len(self.accepted)})

        async def faults(request: Request) -> Response:
            body = await request.json()
            try:
                self.faults.inject(str(body.get("kind")), times=int(body.get("times", 1)),
                                   code=body.get("code"),
                                   retry_after=int(body.get("retry_after", 1)))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return JSONResponse({"ok": True})

        async def inbound(request: Request) -> Response:
            body = await request.json()
            try:
                self.simulate_inbound(str(body["phone"]), str(body["text"]))
            except (KeyError, ValueError, NotImplementedError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
            return JSONResponse({"ok": True})

        async def reset(_: Request) -> Response:
            self.reset()
            return JSONResponse({"ok": True})

        return [Route("/_sandbox/messages", messages, methods=["GET"]),
                Route("/_sandbox/count", count, methods=["GET"]),
                Route("/_sandbox/faults", faults, methods=["POST"]),
                Route("/_sandbox/inbound", inbound, methods=["POST"]),
                Route("/_sandbox/reset", reset, methods=["POST"])]
