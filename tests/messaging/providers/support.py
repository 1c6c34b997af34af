"""A server that catches what providers (here, their sandboxes) send back to Sen,
and a factory of outgoing messages."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers.base import WebhookRequest


@dataclass
class Catcher:
    """Records every request as the :class:`WebhookRequest` Sen's web layer would build;
    answers the first ``fail_first`` with HTTP 500."""

    fail_first: int = 0
    caught: list[WebhookRequest] = field(default_factory=list)
    refused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.catch,
                                       methods=["GET", "POST"])])

    async def catch(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            if self.refused < self.fail_first:
                self.refused += 1
                return PlainTextResponse("busy", 500)
            self.caught.append(WebhookRequest(
                method=request.method, query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()}, body=body))
        return PlainTextResponse("ok")

    def wait(self, n: int = 1, timeout: float = 10.0) -> list[WebhookRequest]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.caught) >= n:
                    return list(self.caught)
            time.sleep(0.02)
        raise AssertionError(f"expected {n} calls, got {len(self.caught)}")


def message(key: str = "m-1", address: str = "+84912345678", body: str = "Don hang DH123 da "
            "giao. Cam on ban!", *, purpose: Purpose = Purpose.CARE,
            channel: Channel = Channel.SMS, unicode: bool = False, data: dict | None = None,
            id: int = 1) -> OutgoingMessage:  # noqa: A002 - the model's field name
    return OutgoingMessage(id=id, key=key, channel=channel, purpose=purpose, address=address,
                           body=body, unicode=unicode, data=data or {})
