"""``/hooks/{provider}/{token}``: what providers send back (receipts, replies, bounces).

Each provider account has its own URL with a secret token (the Channels page
shows it to paste into the provider's dashboard; eSMS gets it per request).
The token authenticates providers that do not sign their callbacks; those that
do (Zalo, Amazon SNS) are checked by their own parser as well. The request is
handed to the provider kind's pure parser, and what it found is applied:
receipts move messages on, opt-out replies and complaints revoke consent at
once, each confirmed once.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sen.errors import NotFoundError
from sen.messaging import receipts
from sen.messaging.providers import KINDS, _parse
from sen.messaging.providers.base import WebhookRequest
from sen.store.operational import providers

router = APIRouter(tags=["provider callbacks"])


def _account(ops: sa.Engine, name: str) -> Any:
    with ops.connect() as con:
        return con.execute(sa.select(providers).where(providers.c.name == name)).first()


def _handle(m: Any, name: str, req: WebhookRequest) -> Response:
    row = _account(m.ops, name)
    spec = KINDS.get(row.kind) if row is not None else None
    if spec is None or spec.parse_webhook is None:
        raise NotFoundError(f"There is no provider '{name}' that calls back.")
    config = _parse(spec.config, orjson.loads(row.config), f"settings of provider '{name}'")
    secrets = _parse(spec.secrets, m.box.open(row.secrets) or {}, f"secrets of '{name}'")
    result = spec.parse_webhook(req, config, secrets)
    now = m.now()
    if result.receipts:
        receipts.apply_receipts(m.ops, list(result.receipts), now=now, policy=m.policy(),
                                zone=m.zone)
    if result.inbound:
        applied = receipts.apply_inbound(m.ops, list(result.inbound), now=now)
        m.confirm_opt_outs(applied.changed)
    return Response(result.reply, media_type=result.reply_type)


_ANSWERS: dict[int | str, dict] = {401: {"description": "A signature did not verify"},
                                    404: {"description": "Unknown provider or token"}}


@router.post("/hooks/{name}/{token}", responses=_ANSWERS)
async def provider_hook(name: str, token: str, request: Request) -> Response:
    """Receive a provider's callback (delivery receipt, inbound SMS, SES notification)."""
    return await _receive(name, token, request)


@router.get("/hooks/{name}/{token}", responses=_ANSWERS)
async def provider_hook_get(name: str, token: str, request: Request) -> Response:
    """The same, for providers that call back with GET (eSMS's receipts)."""
    return await _receive(name, token, request)


async def _receive(name: str, token: str, request: Request) -> Response:
    m = request.app.state.messaging
    if not hmac.compare_digest(token, m.hook_token(name)):
        raise NotFoundError("There is no such callback address.")
    req = WebhookRequest(method=request.method, query=dict(request.query_params),
                         headers={k.lower(): v for k, v in request.headers.items()},
                         body=await request.body())
    return await run_in_threadpool(_handle, m, name, req)
