"""``/u/{code}``: the one-click opt-out every advertising message carries.

A person who opens the link is unsubscribed at once and sees it confirmed,
once (opening it again says she already is). A link scanner or preview
fetcher opening the same link must not unsubscribe anyone, so a request that
does not look like a person (see :mod:`sen.messaging.bots`) gets the same page
with a button instead. Mail providers' one-click (RFC 8058: a POST with
``List-Unsubscribe=One-Click``) is honoured at once. The page also offers to
refuse advertising on every channel of that customer.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from sen.errors import NotFoundError
from sen.messaging import consent, links
from sen.messaging.bots import classify_click
from sen.messaging.consent import ConsentChange
from sen.messaging.model import CONSENT_CHANNELS, Channel, ConsentStatus, Purpose
from sen.store.operational import messages
from sen.web.ui import mark_ui, render

router = APIRouter(include_in_schema=False)


def _message(m: Any, code: str) -> Any:
    message_id = links.parse_unsubscribe_code(code, m.link_key)
    row = None
    if message_id is not None:
        with m.ops.connect() as con:
            row = con.execute(sa.select(messages).where(messages.c.id == message_id)).first()
    if row is None:
        raise NotFoundError("This unsubscribe link is not valid.")
    return row


def masked(address: str) -> str:
    """Enough of an address to recognise it, not enough to harvest it."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:2]}***@{domain}"
    if address.startswith("+84") and len(address) >= 10:
        return f"0{address[3:6]} *** {address[-3:]}"
    return address[:6] + "…"


def _opt_out(m: Any, row: Any, request: Request, *, every_channel: bool) -> list[Any]:
    proof = {"message_id": row.id, "ip": request.client.host if request.client else None,
             "user_agent": request.headers.get("user-agent"), "page": str(request.url.path)}
    targets = [(Channel(row.channel), row.address)]
    if every_channel and row.profile_id:
        member = m._member(row.profile_id)  # noqa: SLF001 - the runtime's own lookup
        if member is not None:
            targets += [(ch, member.address(ch)) for ch in CONSENT_CHANNELS]
    if Channel(row.channel) == Channel.SMS:
        targets.append((Channel.ZALO, row.address))  # ZNS goes to the same phone
    now = m.now()
    changes = [ConsentChange(ch, address, Purpose.ADVERTISING, ConsentStatus.REVOKED,
                             "unsubscribe_link", now, proof, profile_id=row.profile_id,
                             record=row.record)
               for ch, address in dict.fromkeys(targets) if address]
    return list(consent.apply(m.ops, changes, now=now).changed)


def _page(request: Request, row: Any, *, done: bool, changed: int, code: str) -> Response:
    return render(request, "messaging/unsubscribe.html", {
        "done": done, "changed": changed, "code": code, "channel": row.channel,
        "address": masked(row.address)})


@router.get("/u/{code}")
async def unsubscribe_page(code: str, request: Request) -> Response:
    """Opened by a person: unsubscribed at once; by a scanner: a button instead."""
    mark_ui(request)
    m = request.app.state.messaging
    row = await run_in_threadpool(_message, m, code)
    bot, _ = classify_click(request.headers.get("user-agent"), request.method, None)
    if bot:
        return _page(request, row, done=False, changed=0, code=code)
    changed = await run_in_threadpool(_opt_out, m, row, request, every_channel=False)
    return _page(request, row, done=True, changed=len(changed), code=code)


@router.post("/u/{code}")
async def unsubscribe_post(code: str, request: Request) -> Response:
    """The page's buttons, and mail providers' RFC 8058 one-click POST."""
    m = request.app.state.messaging
    row = await run_in_threadpool(_message, m, code)
    form = await request.form()
    if form.get("List-Unsubscribe") == "One-Click":
        await run_in_threadpool(_opt_out, m, row, request, every_channel=False)
        return PlainTextResponse("unsubscribed")
    mark_ui(request)
    every = form.get("scope") == "all"
    changed = await run_in_threadpool(_opt_out, m, row, request, every_channel=every)
    return _page(request, row, done=True, changed=len(changed), code=code)
