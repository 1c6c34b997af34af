"""**Mẫu tin / Templates**: the list by channel, and the editor with its live preview.

The list is server-rendered. The editor is the page's form plus
``static/template_editor.js``: as she types, it asks ``POST /api/templates/check``
for problems (shown beside the part they are about) and ``POST
/api/templates/preview`` for the message as a chosen customer would get it
(for SMS with the counter and cost of the accented and the stripped text),
and saves through ``PUT /api/templates/{name}``. What the script needs at
start (the template, the customer fields, a customer to preview for, the SMS
price, the words) comes in the page as JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sen.errors import ValidationError
from sen.messaging import context, provider_store, templates
from sen.messaging.model import Channel
from sen.web import i18n
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.pages import forms
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
EDIT_TEMPLATES = ("admin", "marketer")
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Editor = Annotated[User, Depends(require_role(*EDIT_TEMPLATES))]
FLASH = "flash"
CHANNELS = tuple(str(c) for c in Channel if c != Channel.WEBHOOK)
# Words the editor's script shows, sent with the page in its language.
EDITOR_WORDS = (
    "editor.saved", "editor.saved_same", "editor.saving", "editor.not_saved",
    "editor.conflict", "editor.network", "editor.no_customer", "editor.previewing",
    "editor.encoding.gsm7", "editor.encoding.ucs2", "editor.sends", "editor.unknown_field",
    "editor.param", "editor.param_field", "editor.remove", "editor.customer_none",
    "editor.warning", "form.rule.missing", "form.rule.pattern", "form.rule.too_long",
    "form.rule.invalid", "form.unknown",
)


def sms_prices(m: Any) -> dict[str, int]:
    """The SMS price per part of the first enabled SMS account, per purpose (0 if none)."""
    for a in provider_store.accounts(m.ops, m.box):
        if a.channel == "sms" and a.enabled:
            return {"care": int(a.config.get("price_care") or 0),
                    "advertising": int(a.config.get("price_advertising") or 0)}
    return {"care": 0, "advertising": 0}


def sample_customer(engine: Any) -> dict[str, str] | None:
    """A customer with a phone to preview for until she picks one (the most recent)."""
    row = engine.cursor().execute(
        "SELECT profile_id, name, phone FROM profiles WHERE phone IS NOT NULL "
        "ORDER BY last_seen DESC NULLS LAST, profile_id LIMIT 1").fetchone()
    if row is None:
        return None
    return {"profile_id": row[0], "name": row[1] or "", "phone": row[2]}


@router.get("/templates")
def templates_page(request: Request, user: Reader, archived: bool = False) -> Response:
    """Templates by channel, archived ones on request."""
    ops = request.app.state.ops
    rows = templates.list_templates(ops, archived=archived)
    by_channel = {c: [t for t in rows if str(t.channel) == c] for c in (*CHANNELS, "webhook")}
    return render(request, "messaging/templates.html", {
        "by_channel": {c: ts for c, ts in by_channel.items() if ts}, "channels": CHANNELS,
        "archived": archived, "can_edit": user.role in EDIT_TEMPLATES,
        "flash": request.session.pop(FLASH, None)}, user=user)


def _editor(request: Request, user: User, template: templates.Template | None,
            channel: str) -> Response:
    state = request.app.state
    lang = locale_of(request, user)
    fields = [f.as_dict() | {"label": f.label(lang)} for f in context.fields(state.analytics)]
    setup = {
        "lang": lang, "template": template.model_dump(mode="json") if template else None,
        "channel": channel, "fields": fields, "prices": sms_prices(state.messaging),
        "customer": sample_customer(state.analytics),
        "can_edit": user.role in EDIT_TEMPLATES and not (template and template.archived),
        "words": {k: i18n.translate(lang, k) for k in EDITOR_WORDS},
    }
    return render(request, "messaging/template_editor.html", {
        "template": template, "channel": channel, "channels": CHANNELS, "fields": fields,
        "setup": forms.page_json(setup), "can_edit": setup["can_edit"],
        "can_archive": user.role in EDIT_TEMPLATES,
        "flash": request.session.pop(FLASH, None)}, user=user)


@router.get("/templates/new")
def new_template(request: Request, user: Editor, channel: str = "sms") -> Response:
    """An empty editor for ``channel``."""
    return _editor(request, user, None, channel if channel in CHANNELS else "sms")


@router.get("/templates/{name}")
def template_page(request: Request, name: str, user: Reader, saved: bool = False) -> Response:
    """A saved template in the editor (read-only when archived or for readers)."""
    template = templates.get(request.app.state.ops, name)
    if str(template.channel) not in CHANNELS:
        raise ValidationError("Webhook templates are edited through the API.",
                              field="channel")
    if saved and FLASH not in request.session:  # the editor's first save lands here
        request.session[FLASH] = {"key": "templates.saved", "params": {"name": name}}
    return _editor(request, user, template, str(template.channel))


@router.post("/templates/{name}/archive")
def archive(request: Request, name: str, user: Editor) -> Response:
    templates.archive(request.app.state.ops, name)
    request.session[FLASH] = {"key": "templates.archived", "params": {"name": name}}
    return RedirectResponse(f"/templates/{name}", status_code=303)


@router.post("/templates/{name}/restore")
def restore(request: Request, name: str, user: Editor) -> Response:
    templates.restore(request.app.state.ops, name)
    request.session[FLASH] = {"key": "templates.restored", "params": {"name": name}}
    return RedirectResponse(f"/templates/{name}", status_code=303)
