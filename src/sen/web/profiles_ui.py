"""The customer pages: search, the customer 360, unmerge, and the duplicate review queue.

Same rules as :mod:`sen.web.ui`: server-rendered forms, no JavaScript, CSRF on
every POST (checked by ``current_user``), errors as pages. A decision answers
with a redirect (POST, redirect, GET) and says what it did once, through the
session, on the page it leads to.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from sen.errors import ValidationError
from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import CONSENT_CHANNELS, Channel, ConsentStatus, Purpose
from sen.web import customer360 as c360
from sen.web import customer_messaging, i18n
from sen.web.auth import DECIDE_IDENTITY, RUN_IDENTITY, VIEW_PROFILES, require_role
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Decider = Annotated[User, Depends(require_role(*DECIDE_IDENTITY))]
Runner = Annotated[User, Depends(require_role(*RUN_IDENTITY))]
FLASH = "flash"
CONSENT_FORM = "consent_form"
REASON_WORDS = frozenset(k for k in i18n.MESSAGES if k.startswith("reason."))
RECORD_CONSENT = ("admin", "support")  # those who hear "stop sending me SMS"
# Properties worth a glance in the timeline, in this order; money ones are formatted.
SUMMARY_KEYS = ("order_id", "total", "revenue", "name", "title", "sku", "product_id", "path",
                "url", "channel", "store_code", "template", "campaign", "phone", "email")
MONEY_KEYS = frozenset({"total", "revenue", "price", "subtotal"})


def _engine(request: Request) -> Any:
    return request.app.state.analytics


def _writer(request: Request) -> Any:
    return request.app.state.writer


def _flash(request: Request, key: str, profiles: list[list[str]] | None = None,
           **params: Any) -> None:
    """What a decision did, shown once on the next page (``profiles``: links to show)."""
    request.session[FLASH] = {"key": key, "params": params, "profiles": profiles or []}


def _back(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _id_type(value: str) -> str:
    if value not in c360.LOOKUP_TYPES:
        raise ValidationError(f"Unknown identifier type {value!r}.", field="id_type")
    return value


def event_summary(event: dict[str, Any], lang: str) -> str:
    """A few telling properties (or traits, for an identify) of a timeline event."""
    raw = event["traits"] if event["type"] == "identify" else event["properties"]
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = []
    for key in SUMMARY_KEYS:
        value = data.get(key)
        if value is None or value == "" or isinstance(value, dict | list):
            continue
        if key in MONEY_KEYS and isinstance(value, int | float):
            value = i18n.format_money(round(value), lang)
        parts.append(f"{key}: {value}")
    return " · ".join(parts[:5])


@router.get("/profiles")
def profiles_page(request: Request, user: Reader, q: str = "") -> Response:
    query = q.strip()[:200]
    results = c360.search(_engine(request), query) if query else []
    return render(request, "profiles.html", {"q": query, "results": results}, user=user)


@router.get("/profiles/{profile_id}")
def profile_page(request: Request, profile_id: str, user: Reader,
                 before: datetime | None = None) -> Response:
    """The customer 360; a merged-away id redirects to the profile it lives in now."""
    view = c360.customer_360(_engine(request), profile_id, with_activity=True, before=before)
    if view.profile_id != profile_id:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/profiles/{view.profile_id}{query}", status_code=307)
    lang = locale_of(request, user)
    older = view.events[-1]["timestamp"] if len(view.events) == c360.TIMELINE_LIMIT else None
    state = request.app.state
    return render(request, "profile.html", {
        "consents": customer_messaging.consent_rows(state.analytics, state.ops, profile_id),
        "outbox": customer_messaging.recent_messages(state.analytics, state.ops, profile_id),
        "consent_form": request.session.pop(CONSENT_FORM, None),
        "can_record_consent": user.role in RECORD_CONSENT, "reason_words": REASON_WORDS,
        "view": view, "flash": request.session.pop(FLASH, None), "before": before,
        "older": older.isoformat() if older else None,
        "summary": lambda e: event_summary(e, lang),
    }, user=user)


@router.post("/profiles/{profile_id}/consent")
def record_consent(request: Request, profile_id: str,
                   user: Annotated[User, Depends(require_role(*RECORD_CONSENT))],
                   channel: Annotated[str, Form()], purpose: Annotated[str, Form()],
                   status: Annotated[str, Form()], note: Annotated[str, Form()] = ""
                   ) -> Response:
    """What she said on the phone or at the till ("she agreed / she refused"), at once."""
    state = request.app.state
    m = state.messaging
    pid = c360.current_id(_engine(request), profile_id)
    typed = {"channel": channel, "purpose": purpose, "status": status, "note": note[:500]}
    who = customer_messaging.member(state.analytics, state.ops, pid)
    address = who.address(Channel(channel)) if who and channel in CONSENT_CHANNELS else None
    if channel not in CONSENT_CHANNELS or purpose not in tuple(Purpose) or \
            status not in tuple(ConsentStatus) or not address:
        request.session[CONSENT_FORM] = {**typed, "error": "consent.no_address" if
                                         channel in CONSENT_CHANNELS else "form.rule.one_of"}
        return _back(f"/profiles/{pid}#consent")
    now = m.now()
    consent.apply(state.ops, [ConsentChange(
        Channel(channel), address, Purpose(purpose), ConsentStatus(status), "ui", now,
        {"entered_by": user.username, "note": typed["note"]}, profile_id=pid,
        record=m.record_of(pid))], now=now)
    _flash(request, "consent.recorded", channel=i18n.translate(locale_of(request, user),
                                                               f"channel.{channel}"))
    return _back(f"/profiles/{pid}#consent")


@router.get("/profiles/{profile_id}/unmerge")
def unmerge_confirm(request: Request, profile_id: str, user: Decider, id_type: str,
                    value: str) -> Response:
    """Say what an unmerge will do before it is done."""
    view = c360.customer_360(_engine(request), profile_id)
    carriers = [i for i in view.identifiers
                if i["id_type"] == _id_type(id_type) and i["value"] == value]
    return render(request, "unmerge.html", {"view": view, "id_type": id_type, "value": value,
                                            "carriers": carriers}, user=user)


@router.post("/profiles/{profile_id}/unmerge")
def unmerge(request: Request, profile_id: str, user: Decider,
            id_type: Annotated[str, Form()], value: Annotated[str, Form()]) -> Response:
    engine = _engine(request)
    c360.unmerge(_writer(request), engine, profile_id, _id_type(id_type), value,
                 actor=user.username)
    now_on = c360.lookup(engine, id_type, value)
    _flash(request, "flash.unmerged", value=value,
           profiles=[[p["profile_id"], p["name"]] for p in now_on[:10]], n=len(now_on))
    return _back(f"/profiles/{c360.current_id(engine, profile_id)}")


@router.post("/profiles/{profile_id}/restore")
def restore(request: Request, profile_id: str, user: Decider,
            id_type: Annotated[str, Form()], value: Annotated[str, Form()]) -> Response:
    c360.restore(_writer(request), _engine(request), _id_type(id_type), value,
                 actor=user.username)
    _flash(request, "flash.restored", value=value)
    return _back(f"/profiles/{c360.current_id(_engine(request), profile_id)}")


@router.post("/profiles/{profile_id}/unlink")
def unlink(request: Request, profile_id: str, user: Decider,
           record_a: Annotated[str, Form()], record_b: Annotated[str, Form()]) -> Response:
    c360.unlink(_writer(request), _engine(request), record_a, record_b, actor=user.username)
    _flash(request, "flash.unlinked")
    return _back(f"/profiles/{c360.current_id(_engine(request), profile_id)}")


@router.get("/identity/review")
def review_page(request: Request, user: Decider) -> Response:
    pairs = c360.review_queue(_engine(request))
    return render(request, "review.html", {
        "pairs": pairs, "flash": request.session.pop(FLASH, None),
        "can_score": user.role in RUN_IDENTITY}, user=user)


@router.post("/identity/review")
def review_decide(request: Request, user: Decider, record_a: Annotated[str, Form()],
                  record_b: Annotated[str, Form()],
                  decision: Annotated[str, Form()]) -> Response:
    if decision not in ("approve", "reject"):
        raise ValidationError("decision must be approve or reject.", field="decision")
    approve = decision == "approve"
    c360.decide(_writer(request), _engine(request), record_a, record_b, approve=approve,
                actor=user.username)
    _flash(request, "flash.approved" if approve else "flash.rejected")
    return _back("/identity/review")


@router.post("/identity/score")
def review_score(request: Request, user: Runner) -> Response:
    _flash(request, "flash.scored", n=c360.score(_writer(request), _engine(request)))
    return _back("/identity/review")
