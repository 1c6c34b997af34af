"""Who is calling: FastAPI dependencies for sessions, bearer tokens and roles.

Two ways in, one user: the UI logs in with a password and gets a signed session
cookie (Starlette's ``SessionMiddleware``); scripts send ``Authorization:
Bearer <token>``. Every request reloads the account, so disabling a user or
revoking a token takes effect on the very next request.

A cookie is sent by the browser whatever page caused the request, so a request
that changes something and is authenticated by the session must also carry the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
Bearer requests need none: no browser attaches a bearer token by itself.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from sen.errors import AuthError, NotFoundError, PermissionDeniedError
from sen.web.tokens import user_for_token
from sen.web.users import User, get_user

SESSION_USER = "uid"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Who may do what, in one place so the UI and the API agree.
MANAGE_USERS = ("admin",)
MANAGE_SOURCES = ("admin",)
VIEW_SOURCES = ("admin", "marketer", "analyst")
RUN_IMPORTS = ("admin", "analyst")
# Everyone reads profiles (support agents answer the hotline with the 360). Unmerging,
# linking and the review queue are for those who judge one customer at a time: admins and
# support agents. Running identity and scoring duplicates are whole-store jobs: admins.
VIEW_PROFILES = ("admin", "marketer", "analyst", "support")
DECIDE_IDENTITY = ("admin", "support")
RUN_IDENTITY = ("admin",)
RUN_TRAITS = ("admin", "analyst")
# A customer's data on request (decree 13/2023): those who answer customers, one at a time.
HANDLE_PRIVACY = ("admin", "support")


class CsrfError(PermissionDeniedError):
    """A session request that changes something came without the session's CSRF token.

    403, not 401: the caller is logged in, but this request may have been forged
    by another site, so it is refused without ending the session.
    """


def ops_engine(request: Request) -> sa.Engine:
    """The operational store the lifespan opened."""
    return request.app.state.ops


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def csrf_matches(request: Request, supplied: str | None) -> bool:
    expected = request.session.get(SESSION_CSRF)
    return bool(expected and supplied) and hmac.compare_digest(str(expected), str(supplied))


async def _supplied_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def log_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token, nothing kept from before)."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session[SESSION_USER] = user.id
    if lang:
        request.session["lang"] = lang
    csrf_token(request)


def log_out(request: Request) -> None:
    request.session.clear()


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or ""


def _session_user(request: Request, ops: sa.Engine) -> User:
    uid = request.session.get(SESSION_USER)
    if uid is None:
        raise AuthError("You are not logged in.",
                        hint="Log in at /login, or send Authorization: Bearer <token>.")
    try:
        user = get_user(ops, int(uid))
    except NotFoundError:
        user = None
    if user is None or user.disabled:
        request.session.clear()
        raise AuthError("Your session is no longer valid.", hint="Log in again.")
    return user


async def current_user(request: Request) -> User:
    """The caller, from a bearer token or the session; AuthError (401) if neither works."""
    ops = ops_engine(request)
    token = bearer_token(request)
    if token is not None:
        user = await run_in_threadpool(user_for_token, ops, token)
    else:
        user = await run_in_threadpool(_session_user, request, ops)
        if request.method not in SAFE_METHODS and \
                not csrf_matches(request, await _supplied_csrf(request)):
            raise CsrfError("The form is out of date (missing or wrong CSRF token).",
                            hint="Reload the page and try again.")
    request.state.user = user
    return user


def require_role(*roles: str) -> Callable[..., Awaitable[User]]:
    """A dependency admitting only callers whose role is one of ``roles`` (else 403)."""

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise PermissionDeniedError(
                f"Your role ({user.role}) cannot do this; it needs {' or '.join(roles)}.",
                hint="Ask an administrator.",
            )
        return user

    return dependency
