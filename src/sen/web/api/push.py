"""Web Push routes a shop's pages call: ``/v1/push/...``.

* ``GET /v1/push/vapid-public-key``: the key a page subscribes browsers with.
* ``POST /v1/push/subscribe``: ``{"subscription": PushSubscription.toJSON(),
  "anonymousId": ..., "userId": ...}``; keeps it for ``u:<userId>`` (else
  ``a:<anonymousId>``).
* ``POST /v1/push/unsubscribe``: ``{"endpoint": ...}``.

They are authenticated like ``/v1`` events, by a source's write key (HTTP Basic
user name, or ``writeKey`` in the body so a page can post ``text/plain``
without a CORS preflight), and answer any origin: the write key, not the
origin, says which shop is calling, and pages of a shop live on several
domains. What the app must hold on ``app.state``: ``ops`` (operational
store), ``write_keys`` (:class:`sen.ingest.sources.WriteKeys`) and
``settings`` (for the :class:`~sen.store.secrets.SecretBox` that opens the
VAPID keys, made on first use).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool

from sen.errors import AuthError, SenError, ValidationError
from sen.messaging import push
from sen.store.secrets import SecretBox
from sen.web.error_handlers import error_body, status_for

router = APIRouter(tags=["Web Push"])
Model = TypeVar("Model", bound=BaseModel)
MAX_BODY = 8 * 1024
CORS_ALLOW = {"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
              "Access-Control-Allow-Headers": "Authorization, Content-Type",
              "Access-Control-Max-Age": "86400"}


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class Subscription(BaseModel):
    endpoint: str = Field(max_length=2048)
    keys: SubscriptionKeys
    expirationTime: float | None = None  # noqa: N815 - the browser's name


class SubscribeIn(BaseModel):
    writeKey: str | None = None  # noqa: N815
    subscription: Subscription
    userId: str | None = Field(default=None, max_length=198)  # noqa: N815
    anonymousId: str | None = Field(default=None, max_length=198)  # noqa: N815


class UnsubscribeIn(BaseModel):
    writeKey: str | None = None  # noqa: N815
    endpoint: str = Field(max_length=2048)


def _cors(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def _json(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=_cors(request))


def _error(request: Request, exc: SenError) -> Response:
    body = error_body(type(exc).__name__.rstrip("_"), exc.message, hint=exc.hint,
                      field=getattr(exc, "field", None), rule=getattr(exc, "rule", None))
    return _json(request, body, status_for(exc))


def _basic_user(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().split(":", 1)[0] or None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _source(request: Request, in_body: str | None) -> str:
    key = _basic_user(request) or in_body
    if not key:
        raise AuthError("No write key.", hint="Send the source's write key as the HTTP Basic "
                        "user name or as writeKey in the body, as sen-push.js does.")
    source = request.app.state.write_keys.resolve(key)
    if source is None:
        raise AuthError("This write key is unknown or its source is disabled.",
                        hint="Copy the key from Sen's Sources page.")
    return source


async def _body(request: Request, model: type[Model]) -> Model:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValidationError(f"The body is over {MAX_BODY} bytes.", field="body", rule="size")
    try:
        return model.model_validate_json(raw)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationError(f"{where}: {first['msg']}", field=where,
                              rule=str(first["type"])) from exc


async def _public_key(request: Request) -> str:
    state = request.app.state
    key = getattr(state, "push_vapid_public_key", None)
    if key is None:
        box = SecretBox.for_settings(state.settings)
        key = (await run_in_threadpool(push.vapid_keys, state.ops, box)).public_key
        state.push_vapid_public_key = key
    return key


@router.options("/v1/push/{action}", include_in_schema=False)
async def preflight(request: Request, action: str) -> Response:
    return Response(status_code=204, headers={**_cors(request), **CORS_ALLOW})


@router.get("/v1/push/vapid-public-key")
async def vapid_public_key(request: Request) -> Response:
    """Sen's VAPID public key (base64url): the page's ``applicationServerKey``."""
    try:
        return _json(request, {"publicKey": await _public_key(request)})
    except SenError as exc:
        return _error(request, exc)


@router.post("/v1/push/subscribe")
async def subscribe(request: Request) -> Response:
    """Keep a browser's push subscription for the visitor who allowed it."""
    try:
        body = await _body(request, SubscribeIn)
        source = _source(request, body.writeKey)
        if not (body.userId or body.anonymousId):
            raise ValidationError("Say whose browser this is: userId or anonymousId.",
                                  field="anonymousId", rule="identity")
        record = f"u:{body.userId}" if body.userId else f"a:{body.anonymousId}"
        sub = body.subscription
        kept = await run_in_threadpool(
            push.subscribe, request.app.state.ops, sub.endpoint, sub.keys.p256dh, sub.keys.auth,
            record=record, source=source, user_agent=request.headers.get("user-agent"))
        return _json(request, {"success": True, "id": kept.id})
    except SenError as exc:
        return _error(request, exc)


@router.post("/v1/push/unsubscribe")
async def unsubscribe(request: Request) -> Response:
    """The visitor turned notifications off: stop sending to this endpoint."""
    try:
        body = await _body(request, UnsubscribeIn)
        _source(request, body.writeKey)
        removed = await run_in_threadpool(push.unsubscribe, request.app.state.ops,
                                          body.endpoint)
        return _json(request, {"success": True, "removed": removed})
    except SenError as exc:
        return _error(request, exc)
