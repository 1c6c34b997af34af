"""The marketer UI: server-rendered pages, Vietnamese by default.

Pages are plain HTML forms over the same service functions as the API; there
is no JavaScript to build or download. Every route here marks the request as a
UI request, so errors come back as pages (a 401 as a redirect to the login
form) rather than JSON.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from sen.errors import AuthError, SenError
from sen.ingest.sources import SOURCE_KINDS, create_source, list_sources
from sen.store.operational import ROLES
from sen.web import i18n, tokens, users
from sen.web.auth import (
    CSRF_FIELD,
    DECIDE_IDENTITY,
    MANAGE_SOURCES,
    MANAGE_USERS,
    VIEW_SOURCES,
    CsrfError,
    csrf_matches,
    csrf_token,
    current_user,
    log_in,
    log_out,
    ops_engine,
    require_role,
)
from sen.web.charts import bar_chart
from sen.web.overview import compute_overview
from sen.web.users import AccountDisabledError, User

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def mark_ui(request: Request) -> None:
    """Errors of this request are rendered as pages (see :mod:`sen.web.error_handlers`)."""
    request.state.ui = True


router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
# Who sees the messaging pages in the navigation (the pages check roles themselves).
VIEW_CHANNELS = ("admin", "marketer")
VIEW_MESSAGING = ("admin", "marketer", "analyst")
Ops = Annotated[sa.Engine, Depends(ops_engine)]
Viewer = Annotated[User, Depends(current_user)]


def locale_of(request: Request, user: User | None = None) -> str:
    """``?lang=`` (remembered in the session), then the session, the account, the default."""
    asked = request.query_params.get("lang")
    if asked in i18n.LOCALES:
        request.session["lang"] = asked
    return i18n.pick_locale(asked, request.session.get("lang"), user.locale if user else None,
                            default=request.app.state.settings.default_locale)


def render(request: Request, name: str, context: dict[str, Any], *,
           user: User | None = None, status_code: int = 200) -> Response:
    """A page with everything the layout needs: words, formats, user and CSRF token."""
    lang = locale_of(request, user)
    tz = request.app.state.settings.tz
    base = {
        "lang": lang, "t": i18n.translator(lang), "user": user, "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD, "path": request.url.path,
        "money": lambda v: i18n.format_money(v, lang),
        "number": lambda v: i18n.format_number(v, lang),
        "percent": lambda v: i18n.format_percent(v, lang),
        "day": lambda d: i18n.format_date(d, lang),
        "moment": lambda m: i18n.format_datetime(m, lang, tz) if m else "",
        "can_manage_users": user is not None and user.role in MANAGE_USERS,
        "can_view_sources": user is not None and user.role in VIEW_SOURCES,
        "can_manage_sources": user is not None and user.role in MANAGE_SOURCES,
        "can_decide_identity": user is not None and user.role in DECIDE_IDENTITY,
        "can_view_channels": user is not None and user.role in VIEW_CHANNELS,
        "can_view_messaging": user is not None and user.role in VIEW_MESSAGING,
    }
    return templates.TemplateResponse(request, name, {**base, **context},
                                      status_code=status_code)


def error_page(request: Request, exc: SenError, status: int) -> Response:
    """How a UI request's error looks: the login form for 401, a page for the rest."""
    if isinstance(exc, AuthError) and status == 401:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    user = getattr(request.state, "user", None)
    return render(request, "error.html", {"status": status, "message": exc.message,
                                          "csrf_failed": isinstance(exc, CsrfError)},
                  user=user, status_code=status)


def safe_next(target: str | None) -> str:
    """Only paths on this site, so the login form cannot send users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, ops: Ops, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    """Check the password and start a session; the form again, with the reason, if not."""
    def again(key: str, status: int) -> Response:
        return render(request, "login.html", {"next": safe_next(next), "error": key,
                                              "username": username}, status_code=status)

    if not csrf_matches(request, csrf_token):
        return again("login.expired", 400)
    try:
        user = users.authenticate(ops, username, password)
    except AccountDisabledError:
        return again("login.disabled", 401)
    except AuthError:
        return again("login.failed", 401)
    log_in(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, _: Viewer) -> Response:
    """POST only, with the CSRF token (checked by ``current_user``): no link can log you out."""
    log_out(request)
    return RedirectResponse("/login", status_code=303)


def _series(per_day: dict[date, int], lang: str, fmt: Any) -> Any:
    points = [(i18n.format_day_short(d, lang), v) for d, v in per_day.items()]
    tips = [f"{i18n.format_date(d, lang)}: {fmt(v)}" for d, v in per_day.items()]
    return bar_chart(points, tooltip=tips, format_value=fmt)


@router.get("/")
async def overview_page(request: Request, user: Viewer) -> Response:
    settings = request.app.state.settings
    ov = await run_in_threadpool(compute_overview, request.app.state.analytics, settings.tz)
    lang = locale_of(request, user)
    num = lambda v: i18n.format_number(v, lang)  # noqa: E731
    charts = [(key, _series({d: getattr(c, metric) for d, c in ov.by_day.items()}, lang, num))
              for key, metric in (("overview.events_per_day", "events"),
                                  ("overview.orders_per_day", "orders"),
                                  ("overview.customers_per_day", "customers"))]
    charts.append(("overview.converted_per_day",
                   _series(ov.identity.converted_by_day, lang, num)))
    return render(request, "overview.html", {
        "ov": ov, "charts": charts, "decimal": lambda v: i18n.format_decimal(v, lang)},
        user=user)


def _sources_page(request: Request, ops: sa.Engine, user: User, **extra: Any) -> Response:
    context = {"sources": list_sources(ops), "kinds": SOURCE_KINDS, "error": None,
               "created": None, "form": {}, **extra}
    return render(request, "sources.html", context, user=user,
                  status_code=400 if context["error"] else 200)


@router.get("/sources")
def sources_page(request: Request, ops: Ops,
                 user: Annotated[User, Depends(require_role(*VIEW_SOURCES))]) -> Response:
    return _sources_page(request, ops, user)


@router.post("/sources")
def sources_create(request: Request, ops: Ops,
                   user: Annotated[User, Depends(require_role(*MANAGE_SOURCES))],
                   name: Annotated[str, Form()] = "",
                   kind: Annotated[str, Form()] = "web") -> Response:
    try:
        source = create_source(ops, name.strip(), kind)
    except SenError as exc:
        return _sources_page(request, ops, user, error=exc.message,
                             form={"name": name, "kind": kind})
    request.app.state.write_keys.refresh()
    return _sources_page(request, ops, user, created=source)


def _tokens_page(request: Request, ops: sa.Engine, user: User, **extra: Any) -> Response:
    context = {"tokens": tokens.list_tokens(ops, user.id), "secret": None, "error": None,
               **extra}
    return render(request, "tokens.html", context, user=user,
                  status_code=400 if context["error"] else 200)


@router.get("/tokens")
def tokens_page(request: Request, ops: Ops, user: Viewer) -> Response:
    return _tokens_page(request, ops, user)


@router.post("/tokens")
def tokens_create(request: Request, ops: Ops, user: Viewer,
                  name: Annotated[str, Form()] = "") -> Response:
    """Make a token and show its secret on this one page, never again."""
    try:
        _, secret = tokens.create_token(ops, user, name)
    except SenError as exc:
        return _tokens_page(request, ops, user, error=exc.message)
    return _tokens_page(request, ops, user, secret=secret)


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(token_id: int, request: Request, ops: Ops, user: Viewer) -> Response:
    tokens.revoke_token(ops, user.id, token_id)
    return RedirectResponse("/tokens", status_code=303)


def _users_page(request: Request, ops: sa.Engine, user: User, **extra: Any) -> Response:
    context = {"users": users.list_users(ops), "roles": ROLES, "error": None, "created": None,
               "form": {}, **extra}
    return render(request, "users.html", context, user=user,
                  status_code=400 if context["error"] else 200)


@router.get("/users")
def users_page(request: Request, ops: Ops,
               user: Annotated[User, Depends(require_role(*MANAGE_USERS))]) -> Response:
    return _users_page(request, ops, user)


@router.post("/users")
def users_create(request: Request, ops: Ops,
                 user: Annotated[User, Depends(require_role(*MANAGE_USERS))],
                 username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                 role: Annotated[str, Form()] = "marketer",
                 display_name: Annotated[str, Form()] = "") -> Response:
    try:
        new = users.create_user(ops, username, password, role, display_name=display_name or None)
    except SenError as exc:
        return _users_page(request, ops, user, error=exc.message,
                           form={"username": username, "role": role,
                                 "display_name": display_name})
    return _users_page(request, ops, user, created=new)
