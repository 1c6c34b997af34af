"""**Kênh gửi tin / Channels**: provider accounts, a test send, the messaging policy.

Admins add and change provider accounts and the policy; marketers read them
(the same roles as ``/api/providers`` and ``/api/messaging/policy``). Forms are
plain HTML posts: a mistake comes back on the same form, in the user's
language, beside the input it is about, with what she typed kept (secrets
excepted: they are never written into a page). The policy's half lives in
:mod:`sen.web.pages.channel_policy`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from sen.errors import NotFoundError, SenError
from sen.messaging import provider_store, templates
from sen.messaging import settings as msettings
from sen.messaging.providers import KINDS
from sen.web import i18n
from sen.web.auth import require_role
from sen.web.pages import forms, policy_form, provider_form
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
READ_CHANNELS = ("admin", "marketer")
Reader = Annotated[User, Depends(require_role(*READ_CHANNELS))]
Admin = Annotated[User, Depends(require_role("admin"))]
FLASH = "flash"
OPTION_WORDS = frozenset(k for k in i18n.MESSAGES if k.startswith("provider.option."))


def _m(request: Request) -> Any:
    return request.app.state.messaging


def channels_page(request: Request, user: User, *, status: int = 200, **extra: Any) -> Response:
    """The list, the policy and the texts (``extra`` carries a failed form back)."""
    m = _m(request)
    lang = locale_of(request, user)
    context = {
        "accounts": [(a, m.webhook_url(a.name)) for a in provider_store.accounts(m.ops, m.box)],
        "kinds": provider_form.kind_options(lang), "titles": _titles(lang),
        "policy": policy_form.view(msettings.policy(m.ops), extra.pop("policy_form", None)),
        "texts": extra.pop("texts_form", None) or templates.render_settings(m.ops).model_dump(),
        "policy_problems": {}, "texts_problems": {}, "confirm_consent_off": False,
        "is_admin": user.role == "admin", "flash": request.session.pop(FLASH, None),
        **extra}
    return render(request, "messaging/channels.html", context, user=user, status_code=status)


def _titles(lang: str) -> dict[str, str]:
    return {k: s.title[1] if lang == "en" else s.title[0] for k, s in KINDS.items()}


@router.get("/channels")
def channels(request: Request, user: Reader) -> Response:
    return channels_page(request, user)


def _form_page(request: Request, user: User, kind: str, *, name: str | None,
               status: int = 200, **extra: Any) -> Response:
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"There is no provider kind '{kind}'.")
    m = _m(request)
    lang = locale_of(request, user)
    account = extra.pop("account", None)
    raw = extra.pop("raw", None)
    fields = provider_form.inputs(spec, lang, account.config if account else None, raw)
    context = {
        "kind": kind, "kind_title": _titles(lang)[kind], "channel": str(spec.channel),
        "name": name, "account": account, "inputs": fields, "problems": {},
        "webhook_url": m.webhook_url(name) if name else None,
        "is_admin": user.role == "admin", "test": None, "test_form": {},
        "enabled": account.enabled if account else True,
        "priority": account.priority if account else 100,
        "option_words": OPTION_WORDS, "flash": request.session.pop(FLASH, None), **extra}
    return render(request, "messaging/provider.html", context, user=user, status_code=status)


@router.get("/channels/new")
def new_provider(request: Request, user: Admin, kind: str = "esms") -> Response:
    """An empty form for a provider of ``kind``."""
    return _form_page(request, user, kind, name=None)


@router.get("/channels/providers/{name}")
def provider_page(request: Request, name: str, user: Reader) -> Response:
    """One provider: its settings (a form for admins), callback URL and test send."""
    m = _m(request)
    account = provider_store.account(m.ops, m.box, name)
    return _form_page(request, user, account.kind, name=name, account=account)


@router.post("/channels/providers")
async def save_provider(request: Request, user: Admin) -> Response:
    """Create or change a provider; problems come back beside their inputs."""
    form = dict(await request.form())
    m = _m(request)
    lang = locale_of(request, user)
    kind, name = str(form.get("kind", "")), str(form.get("name", "")).strip()
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFoundError(f"There is no provider kind '{kind}'.")
    existing = _existing(m, name)
    config, secrets, found = provider_form.parse(
        spec, form, existing.secrets_set if existing and existing.kind == kind else (), lang)
    if not provider_store.NAME.match(name):
        found["name"] = forms.rule_message("string_pattern_mismatch", None, "", lang)
    if "callback_url" in spec.config.model_fields and not config.get("callback_url") and name:
        config["callback_url"] = m.webhook_url(name)  # receipts come back to Sen
    enabled, priority = "enabled" in form, _priority(form, found, lang)
    if not found:
        try:
            await run_in_threadpool(provider_store.save, m.ops, m.box, name=name, kind=kind,
                                    config=config, secrets=secrets, enabled=enabled,
                                    priority=priority, now=m.now())
        except SenError as exc:
            found[getattr(exc, "field", None) or forms.GENERAL] = exc.message
    if found:
        return _form_page(request, user, kind, name=name if existing else None, status=400,
                          raw={k: v for k, v in form.items() if not k.startswith("secrets.")},
                          problems=found, account=existing, typed_name=name,
                          enabled=enabled, priority=form.get("priority", ""))
    request.session[FLASH] = {"key": "channels.saved", "params": {"name": name}}
    return RedirectResponse(f"/channels/providers/{name}", status_code=303)


def _existing(m: Any, name: str) -> Any:
    try:
        return provider_store.account(m.ops, m.box, name) if name else None
    except NotFoundError:
        return None


def _priority(form: dict[str, Any], found: dict[str, str], lang: str) -> int:
    try:
        value = forms.whole_number(str(form.get("priority", "")))
    except ValueError:
        value = -1
    if value is None:
        return 100
    if not 0 <= value <= 1000:
        found["priority"] = forms.rule_message("less_than_equal", {"le": 1000}, "", lang)
    return value


@router.post("/channels/providers/{name}/test")
async def test_provider(request: Request, name: str, user: Admin) -> Response:
    """Send one message through this provider and show its answer (or error and hint)."""
    form = await request.form()
    m = _m(request)
    account = provider_store.account(m.ops, m.box, name)
    address, text = str(form.get("address", "")).strip(), str(form.get("text", "")).strip()
    lang = locale_of(request, user)
    found = {}
    if len(address) < 3:
        found["test.address"] = forms.rule_message("missing", None, "", lang)
    if not text:
        found["test.text"] = forms.rule_message("missing", None, "", lang)
    result = None
    if not found:
        try:
            result = await run_in_threadpool(m.provider_test, name, address, text)
        except SenError as exc:  # a wrong key or setting: said like a provider's refusal
            result = {"ok": False, "error": exc.message, "hint": exc.hint}
    return _form_page(request, user, account.kind, name=name, account=account,
                      test=result, test_form={"address": address, "text": text},
                      problems=found, status=400 if found else 200)
