"""The management API under ``/api``: the caller, tokens, users, sources, overview.

Endpoints are thin: validate with a pydantic model, call a service function,
wrap the result in an output model. Errors are Sen's and are turned into JSON
by :mod:`sen.web.error_handlers`.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from sen.ingest.sources import create_source, list_sources
from sen.web import tokens, users
from sen.web.auth import (
    MANAGE_SOURCES,
    MANAGE_USERS,
    VIEW_SOURCES,
    current_user,
    ops_engine,
    require_role,
)
from sen.web.overview import compute_overview
from sen.web.schemas import (
    OverviewOut,
    SourceIn,
    SourceOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from sen.web.users import User

router = APIRouter(prefix="/api", tags=["management"])

Caller = Annotated[User, Depends(current_user)]
Ops = Annotated[sa.Engine, Depends(ops_engine)]


@router.get("/me", response_model=UserOut)
def me(user: Caller) -> UserOut:
    """The account the request is authenticated as."""
    return UserOut.of(user)


@router.get("/tokens", response_model=list[TokenOut])
def get_tokens(user: Caller, ops: Ops) -> list[TokenOut]:
    """The caller's own API tokens, revoked ones included."""
    return [TokenOut.of(t) for t in tokens.list_tokens(ops, user.id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def post_token(body: TokenIn, user: Caller, ops: Ops) -> TokenCreated:
    """A new token for the caller; ``secret`` is shown in this answer only."""
    token, secret = tokens.create_token(ops, user, body.name)
    return TokenCreated(token=TokenOut.of(token), secret=secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def delete_token(token_id: int, user: Caller, ops: Ops) -> TokenOut:
    """Revoke one of the caller's tokens; it is refused (401) from now on."""
    return TokenOut.of(tokens.revoke_token(ops, user.id, token_id))


@router.get("/users", response_model=list[UserOut],
            dependencies=[Depends(require_role(*MANAGE_USERS))])
def get_users(ops: Ops) -> list[UserOut]:
    return [UserOut.of(u) for u in users.list_users(ops)]


@router.post("/users", response_model=UserOut, status_code=201,
             dependencies=[Depends(require_role(*MANAGE_USERS))])
def post_user(body: UserIn, ops: Ops) -> UserOut:
    return UserOut.of(users.create_user(ops, body.username, body.password, body.role,
                                        display_name=body.display_name, locale=body.locale))


@router.patch("/users/{user_id}", response_model=UserOut,
              dependencies=[Depends(require_role(*MANAGE_USERS))])
def patch_user(user_id: int, body: UserPatch, ops: Ops) -> UserOut:
    """Disable or re-enable an account, or reset its password."""
    if body.password is not None:
        users.set_password(ops, user_id, body.password)
    if body.disabled is not None:
        users.disable_user(ops, user_id, body.disabled)
    return UserOut.of(users.get_user(ops, user_id))


@router.get("/sources", response_model=list[SourceOut],
            dependencies=[Depends(require_role(*VIEW_SOURCES))])
def get_sources(ops: Ops) -> list[SourceOut]:
    """Every source with its write key (keys are embedded in pages and apps anyway)."""
    return [SourceOut.of(s) for s in list_sources(ops)]


@router.post("/sources", response_model=SourceOut, status_code=201,
             dependencies=[Depends(require_role(*MANAGE_SOURCES))])
def post_source(body: SourceIn, request: Request, ops: Ops) -> SourceOut:
    """A new source; the answer holds its write key."""
    source = create_source(ops, body.name, body.kind)
    request.app.state.write_keys.refresh()
    return SourceOut.of(source)


@router.get("/overview", response_model=OverviewOut)
def get_overview(request: Request, _: Caller,
                 days: Annotated[int, Query(ge=1, le=366)] = 30) -> OverviewOut:
    """The overview page's numbers for the last ``days`` local days."""
    settings = request.app.state.settings
    return OverviewOut.of(compute_overview(request.app.state.analytics, settings.tz, days=days))
