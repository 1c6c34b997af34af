"""``/demo/inboxes``: what the demo's sandbox providers received, newest first.

``sen demo up`` records where the running sandboxes list what they took
(``app_settings['demo.sandboxes']``); this page asks each one and shows the
messages as a phone or mailbox would, refreshing every few seconds so a
marketer who launched a campaign watches it arrive. Outside the demo, or once
the sandboxes stopped, it says so.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sen.demo.sandboxes import SETTINGS_KEY
from sen.messaging.settings import read_value
from sen.web.ui import Viewer, mark_ui, render

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
SHOWN = 50
REFRESH_S = 5


@dataclass(frozen=True)
class Received:
    """One message as the recipient sees it."""

    at: datetime | None
    to: str
    title: str
    text: str


@dataclass(frozen=True)
class Box:
    provider: str
    channel: str
    title: str
    url: str
    running: bool
    total: int
    messages: list[Received]


def _at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _zns_text(text: str) -> str:
    """A ZNS message's parameters (the sandbox keeps them as JSON) as ``name: value``."""
    try:
        params = json.loads(text)
    except ValueError:
        return text
    if not isinstance(params, dict):
        return text
    return " · ".join(f"{k}: {v}" for k, v in params.items())


def received(channel: str, entry: dict[str, Any]) -> Received:
    """An inbox entry of any sandbox as a :class:`Received`."""
    if channel == "email":
        return Received(_at(entry.get("at")), ", ".join(entry.get("to") or []),
                        str(entry.get("subject") or ""), str(entry.get("text") or ""))
    text = str(entry.get("text") or "")
    extra = entry.get("extra") or {}
    title = str(extra.get("template_id") or extra.get("brandname") or "")
    return Received(_at(entry.get("at")), str(entry.get("phone") or ""), title,
                    _zns_text(text) if channel == "zalo" else text)


async def _box(client: httpx.AsyncClient, listed: dict[str, str]) -> Box:
    channel = listed.get("channel", "")
    try:
        answer = await client.get(listed["url"])
        answer.raise_for_status()
        entries = answer.json().get("messages") or []
    except (httpx.HTTPError, ValueError, KeyError):
        return Box(listed.get("provider", ""), channel, listed.get("title", ""),
                   listed.get("url", ""), False, 0, [])
    shown = [received(channel, e) for e in reversed(entries[-SHOWN:])]
    return Box(listed["provider"], channel, listed.get("title", ""), listed["url"], True,
               len(entries), shown)


async def boxes(ops: Any) -> list[Box] | None:
    """Every recorded sandbox with what it received; ``None`` outside the demo."""
    raw = await run_in_threadpool(read_value, ops, SETTINGS_KEY)
    if raw is None:
        return None
    listed = json.loads(raw)
    async with httpx.AsyncClient(timeout=2.0) as client:
        return list(await asyncio.gather(*(_box(client, item) for item in listed)))


@router.get("/demo/inboxes")
async def inboxes_page(request: Request, user: Viewer) -> Response:
    found = await boxes(request.app.state.ops)
    page = render(request, "demo_inboxes.html", {"boxes": found, "refresh": REFRESH_S},
                  user=user)
    if found and any(b.running for b in found):
        page.headers["Refresh"] = str(REFRESH_S)  # watch it arrive, without scripts
    return page
