"""``GET /l/{code}``: a tracked link, recorded and answered with a redirect at once.

The person tapping a link in an SMS waits for nothing but one transaction
(the click row and, the first time, its event); the page itself comes from
the shop. ``HEAD`` is answered the same way and counted as a bot's request.
A code that names no link gets a small page in Vietnamese and English that
says what to do, never what went wrong inside.

What the router needs on ``app.state``: ``ops`` (the operational store) and
``settings`` (for the box that opens the link key); the key is read once and
kept on ``app.state.link_key``.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sen.errors import SenError
from sen.messaging.events import utc_now
from sen.messaging.links import link_key, record_click, record_open
from sen.store.secrets import SecretBox

log = logging.getLogger(__name__)
router = APIRouter(tags=["tracked links"])

# Punctuation a message or a chat app glues onto the end of a link ("…/l/abc.").
_TRAILING = ".,;:!?)]}>'\"”’»"
_HEADERS = {"Cache-Control": "no-store, private", "X-Robots-Tag": "noindex, nofollow"}

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{title_vi} · {title_en}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;
color:#222;line-height:1.5}}h1{{font-size:1.3rem}}h2{{font-size:1.1rem;margin-top:2rem}}
p{{color:#444}}</style></head>
<body><main>
<h1>{title_vi}</h1><p>{text_vi}</p>
<h2 lang="en">{title_en}</h2><p lang="en">{text_en}</p>
</main></body></html>
"""
NOT_FOUND_PAGE = _PAGE.format(
    title_vi="Liên kết không hợp lệ",
    text_vi="Liên kết này không tồn tại hoặc chưa được chép đầy đủ. Hãy mở lại liên kết "
    "từ tin nhắn gốc, hoặc truy cập trực tiếp trang web của cửa hàng.",
    title_en="This link is not valid",
    text_en="This link does not exist or was not copied in full. Open it again from the "
    "original message, or go to the shop's website directly.")
UNAVAILABLE_PAGE = _PAGE.format(
    title_vi="Tạm thời không mở được liên kết",
    text_vi="Xin lỗi, liên kết tạm thời không mở được. Vui lòng thử lại sau ít phút.",
    title_en="This link cannot be opened right now",
    text_en="Sorry, the link cannot be opened at the moment. Please try again in a few "
    "minutes.")


def _key(request: Request) -> bytes:
    state = request.app.state
    key = getattr(state, "link_key", None)
    if key is None:
        key = state.link_key = link_key(state.ops, SecretBox.for_settings(state.settings))
    return key


# A transparent 1x1 GIF: the email's open pixel.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000"
                      "010001000002024401003b")


@router.get("/o/{code}", response_class=Response, include_in_schema=False)
async def open_pixel(code: str, request: Request) -> Response:
    """An email's open pixel: records ``Message Opened`` once, answers the image."""
    try:
        key = await run_in_threadpool(_key, request)
        await run_in_threadpool(record_open, request.app.state.ops,
                                code.removesuffix(".gif"), key=key,
                                user_agent=request.headers.get("user-agent"), now=utc_now())
    except SenError:
        log.exception("an open pixel could not be recorded")
    return Response(PIXEL, media_type="image/gif", headers=_HEADERS)


@router.api_route("/l/{code}", methods=["GET", "HEAD"], response_class=Response,
                  include_in_schema=False)
async def follow_link(code: str, request: Request) -> Response:
    """Record the click and send the browser on to the link's destination."""
    headers = request.headers
    try:
        key = await run_in_threadpool(_key, request)
        click = await run_in_threadpool(
            record_click, request.app.state.ops, code.rstrip(_TRAILING), key=key,
            ip=request.client.host if request.client else None,
            user_agent=headers.get("user-agent"), method=request.method, now=utc_now(),
            purpose=headers.get("sec-purpose") or headers.get("purpose"))
    except SenError:
        log.exception("a tracked link could not be resolved")
        return HTMLResponse(UNAVAILABLE_PAGE, status_code=503,
                            headers={**_HEADERS, "Retry-After": "60"})
    if click is None:
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers=_HEADERS)
    return RedirectResponse(click.destination, status_code=302, headers=_HEADERS)
