"""**Chiến dịch / Campaigns**: the list, the definition form, estimate, test, launch, watch.

The list and the definition form are server-rendered; a form that breaks a rule
comes back with each problem beside its input and everything typed kept.
``static/campaign.js`` does what needs no reload: **Ước tính / Estimate**
(``POST /api/campaigns/{name}/estimate``), a test send to chosen customers,
**Gửi / Launch** after a confirmation that states the audience and the cost,
and the live numbers (``GET /api/campaigns/{name}`` every few seconds while it
launches or runs). Pause and resume are plain forms.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from sen.errors import ConflictError, NotFoundError
from sen.messaging import campaigns, templates
from sen.messaging.model import Reason, Status
from sen.segments import saved
from sen.store.operational import messages
from sen.web import i18n
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.pages import campaign_form, forms
from sen.web.segments_ui import _event_names
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
RUN_CAMPAIGNS = ("admin", "marketer")
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Runner = Annotated[User, Depends(require_role(*RUN_CAMPAIGNS))]
FLASH = "flash"
LIVE = ("launching", "running", "paused")
STATUSES = tuple(str(s) for s in Status)
REASONS = (*(str(r) for r in Reason), "unknown")
CAMPAIGN_STATES = campaigns.STATES
# Words campaign.js shows, sent with the page in its language.
SCRIPT_WORDS = (
    "campaigns.estimating", "campaigns.estimate_failed", "campaigns.launch_confirm",
    "campaigns.launching", "campaigns.test_done", "campaigns.test_none",
    "campaigns.sampled", "campaigns.no_estimate", "editor.customer_none", "editor.remove",
    *(f"reason.{r}" for r in REASONS), *(f"campaign.status.{s}" for s in CAMPAIGN_STATES),
    *(f"msg.status.{s}" for s in STATUSES), "channel.sms", "channel.zalo", "channel.email",
    "channel.push", "channel.webhook",
)


def _sent(stats: campaigns.Stats) -> int:
    return sum(stats.count(s) for s in (Status.SENT, Status.DELIVERED, Status.FAILED,
                                        Status.BOUNCED))


@router.get("/campaigns")
def campaigns_page(request: Request, user: Reader) -> Response:
    """Every campaign with its status in words and its numbers so far."""
    ops = request.app.state.ops
    rows = [{"c": c, "stats": campaigns.stats(ops, c.definition.name)}
            for c in campaigns.all_campaigns(ops)]
    return render(request, "messaging/campaigns.html", {
        "rows": rows, "sent": _sent, "can_run": user.role in RUN_CAMPAIGNS,
        "flash": request.session.pop(FLASH, None)}, user=user)


def _journeys(ops: sa.Engine) -> list[str]:
    with ops.connect() as con:
        return sorted(con.execute(sa.select(messages.c.journey).distinct()
                                  .where(messages.c.journey.is_not(None))).scalars())


def _choices(request: Request, current: str | None) -> dict[str, Any]:
    """What the form suggests: segments, templates by channel, campaigns, journeys, events."""
    state = request.app.state
    return {
        "segments": [(s.name, s.title) for s in saved.all_segments(state.ops)],
        "templates": [(t.name, t.title, str(t.channel)) for t in
                      templates.list_templates(state.ops)],
        "other_campaigns": [(c.definition.name, c.definition.title)
                            for c in campaigns.all_campaigns(state.ops)
                            if c.definition.name != current],
        "journeys": _journeys(state.ops), "events": _event_names(state.analytics),
    }


def _page(request: Request, user: User, campaign: campaigns.Campaign | None, *,
          data: dict[str, Any] | None = None, problems: dict[str, str] | None = None,
          status: int = 200) -> Response:
    lang = locale_of(request, user)
    m = request.app.state.messaging
    name = campaign.definition.name if campaign else None
    stats = campaigns.stats(m.ops, name) if campaign else None
    setup = {"lang": lang, "name": name, "status": campaign.status if campaign else None,
             "live": LIVE, "words": {k: i18n.translate(lang, k) for k in SCRIPT_WORDS},
             "can_run": user.role in RUN_CAMPAIGNS}
    return render(request, "messaging/campaign.html", {
        "campaign": campaign, "form": campaign_form.view(
            campaign.definition if campaign else None, data),
        "problems": problems or {}, "stats": stats, "sent": _sent,
        "progress": m.launches.get(name) if name else None,
        "editable": campaign is None or campaign.status == "draft",
        "can_run": user.role in RUN_CAMPAIGNS, "setup": forms.page_json(setup),
        "reasons": REASONS, "flash": request.session.pop(FLASH, None),
        **_choices(request, name)}, user=user, status_code=status)


@router.get("/campaigns/new")
def new_campaign(request: Request, user: Runner) -> Response:
    return _page(request, user, None)


@router.get("/campaigns/{name}")
def campaign_page(request: Request, name: str, user: Reader) -> Response:
    """A draft's form, estimate, test and launch; a launched campaign's live numbers."""
    return _page(request, user, campaigns.get(request.app.state.ops, name))


@router.post("/campaigns")
async def save_campaign(request: Request, user: Runner) -> Response:
    """Save a draft; every problem comes back beside its input, the form as typed."""
    form = await request.form()
    lang = locale_of(request, user)
    m = request.app.state.messaging
    data, found = campaign_form.read(form, lang)
    definition, invalid = campaign_form.validate(data, lang)
    found = {**invalid, **found}
    existing = _existing(m.ops, data["name"]) if data["name"] else None
    segments = {s.name for s in saved.all_segments(m.ops)}
    known = {t.name: t for t in templates.list_templates(m.ops, archived=True)}
    found.update(campaign_form.check_references(data, segments, known, lang))
    if not found and form.get("is_new") and existing is not None:
        found["name"] = i18n.translate(lang, "campaigns.name_taken", name=data["name"])
    if not found and definition is not None:
        try:
            await run_in_threadpool(campaigns.save, m.ops, definition, now=m.now(),
                                    actor=user.username)
        except ConflictError as exc:
            found[forms.GENERAL] = i18n.translate(lang, "campaigns.not_draft") + " " + (
                exc.hint or "")
    if found:
        return _page(request, user, existing if not form.get("is_new") else None, data=data,
                     problems=found, status=400)
    request.session[FLASH] = {"key": "campaigns.saved", "params": {"name": data["name"]}}
    return RedirectResponse(f"/campaigns/{data['name']}", status_code=303)


def _existing(ops: sa.Engine, name: str) -> campaigns.Campaign | None:
    try:
        return campaigns.get(ops, name)
    except NotFoundError:
        return None


@router.post("/campaigns/{name}/pause")
def pause(request: Request, name: str, user: Runner) -> Response:
    m = request.app.state.messaging
    _switch(request, name, lambda: campaigns.pause(m.ops, name, now=m.now()), "paused")
    return RedirectResponse(f"/campaigns/{name}", status_code=303)


@router.post("/campaigns/{name}/resume")
def resume(request: Request, name: str, user: Runner) -> Response:
    m = request.app.state.messaging
    _switch(request, name, lambda: campaigns.resume(m.ops, name, now=m.now()), "resumed")
    return RedirectResponse(f"/campaigns/{name}", status_code=303)


def _switch(request: Request, name: str, act: Any, done: str) -> None:
    """Pause or resume; a campaign that moved on meanwhile (it finished, someone else
    paused it) says so on its page instead of an error page."""
    try:
        n = act()
    except ConflictError:
        request.session[FLASH] = {"key": "campaigns.moved_on", "error": True, "params": {}}
        return
    request.session[FLASH] = {"key": f"campaigns.{done}", "params": {"n": n}}
