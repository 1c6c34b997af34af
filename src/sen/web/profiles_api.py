"""Profiles and identity in the management API: look-up, the 360, people's decisions.

Endpoints are thin and synchronous, so FastAPI runs them in its threadpool:
reads go through :mod:`sen.web.customer360` on that thread's DuckDB cursor,
decisions wait for the event writer's thread. A profile id that was merged
into another answers **307** to the same address under the current id, with
``{"merged_into": ...}`` as the body.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse

from sen.errors import ValidationError
from sen.web import customer360 as c360
from sen.web.auth import DECIDE_IDENTITY, RUN_IDENTITY, VIEW_PROFILES, require_role
from sen.web.profile_schemas import (
    EventOut,
    IdentifierIn,
    LinkIn,
    MergedInto,
    OrderOut,
    Profile360Out,
    ProfileSummary,
    ReviewDecisionIn,
    ReviewDecisionOut,
    ReviewPairOut,
    RunStatsOut,
    ScoreOut,
    UnmergeIn,
)
from sen.web.traits_fields_api import ProfileTraitsOut
from sen.web.users import User

router = APIRouter(prefix="/api", tags=["profiles"])
Reader = Depends(require_role(*VIEW_PROFILES))
Decider = Annotated[User, Depends(require_role(*DECIDE_IDENTITY))]
Runner = Annotated[User, Depends(require_role(*RUN_IDENTITY))]
MOVED = {307: {"model": MergedInto, "description": "The id was merged into another profile."}}


class Profile360WithTraits(Profile360Out):
    """The customer 360 with the profile's traits (see also ``/traits``)."""

    traits: ProfileTraitsOut | None = None


class LookupQuery(BaseModel):
    """Exactly one identifier, as a person typed it."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = None
    email: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None
    zalo_id: str | None = None
    loyalty_card: str | None = None
    marketplace_buyer: str | None = None
    device_id: str | None = None

    def only(self) -> tuple[str, str]:
        given = [(t, v) for t in c360.LOOKUP_TYPES if (v := getattr(self, t)) is not None]
        if len(given) != 1:
            got = ", ".join(t for t, _ in given) or "none"
            raise ValidationError(
                f"Give exactly one identifier to look up ({', '.join(c360.LOOKUP_TYPES)}); "
                f"got {got}.", field="query", rule="exactly_one")
        return given[0]


def _engine(request: Request) -> Any:
    return request.app.state.analytics


def _writer(request: Request) -> Any:
    return request.app.state.writer


def _moved(request: Request, asked: str, current: str) -> JSONResponse:
    path = request.url.path.replace(f"/profiles/{asked}", f"/profiles/{current}", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return JSONResponse(MergedInto(merged_into=current).model_dump(), status_code=307,
                        headers={"Location": path + query})


@router.get("/profiles/lookup", response_model=list[ProfileSummary], dependencies=[Reader])
def lookup(request: Request, query: Annotated[LookupQuery, Query()]) -> list[ProfileSummary]:
    """Profiles holding one identifier as typed (``?phone=0912 345 678``). A shared value
    (a family's phone) returns every profile that carries it."""
    id_type, raw = query.only()
    return [ProfileSummary(**p) for p in c360.lookup(_engine(request), id_type, raw)]


@router.get("/profiles/search", response_model=list[ProfileSummary], dependencies=[Reader])
def search(request: Request, q: Annotated[str, Query(min_length=1, max_length=200)],
           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ProfileSummary]:
    """Profiles by phone, email or name (every word of it, diacritics aside)."""
    return [ProfileSummary(**p) for p in c360.search(_engine(request), q, limit)]


@router.get("/profiles/{profile_id}", response_model=Profile360WithTraits, responses=MOVED,
            dependencies=[Reader])
def get_profile(profile_id: str, request: Request) -> Any:
    """The golden record, identifiers, field history, merge history and traits of a
    profile."""
    view = c360.customer_360(_engine(request), profile_id, with_traits=True)
    if view.profile_id != profile_id:
        return _moved(request, profile_id, view.profile_id)
    base = Profile360Out.of(view)
    return Profile360WithTraits(**dict(base), traits=ProfileTraitsOut.of(view.traits)
                                if view.traits is not None else None)


@router.get("/profiles/{profile_id}/events", response_model=list[EventOut], responses=MOVED,
            dependencies=[Reader])
def get_events(profile_id: str, request: Request,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               before: datetime | None = None) -> Any:
    """The profile's events in every source, newest first; page with ``before`` (UTC)."""
    if before is not None and before.tzinfo is not None:
        before = before.astimezone(UTC).replace(tzinfo=None)
    current, rows = c360.events(_engine(request), profile_id, limit=limit, before=before)
    if current != profile_id:
        return _moved(request, profile_id, current)
    return [EventOut.of(r) for r in rows]


@router.get("/profiles/{profile_id}/orders", response_model=list[OrderOut], responses=MOVED,
            dependencies=[Reader])
def get_orders(profile_id: str, request: Request,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    """The profile's orders in every channel, newest first."""
    current, rows = c360.orders(_engine(request), profile_id, limit=limit)
    if current != profile_id:
        return _moved(request, profile_id, current)
    return [OrderOut(**r) for r in rows]


@router.post("/profiles/{profile_id}/unmerge", response_model=RunStatsOut)
def unmerge(profile_id: str, body: UnmergeIn, request: Request, user: Decider) -> RunStatsOut:
    """Split the profile where a value joined it; the value links nobody from now on."""
    return RunStatsOut.of(c360.unmerge(_writer(request), _engine(request), profile_id,
                                       body.id_type, body.value, actor=user.username,
                                       note=body.note))


@router.post("/identity/restore", response_model=RunStatsOut)
def restore(body: IdentifierIn, request: Request, user: Decider) -> RunStatsOut:
    """Undo an unmerge: the value links records again."""
    return RunStatsOut.of(c360.restore(_writer(request), _engine(request), body.id_type,
                                       body.value, actor=user.username))


@router.post("/identity/links", response_model=RunStatsOut)
def post_link(body: LinkIn, request: Request, user: Decider) -> RunStatsOut:
    """Join two records (and so their profiles): a person says they are one customer."""
    return RunStatsOut.of(c360.link(_writer(request), _engine(request), body.record_a,
                                    body.record_b, actor=user.username, note=body.note))


@router.delete("/identity/links", response_model=RunStatsOut)
def delete_link(request: Request, user: Decider,
                record_a: Annotated[str, Query(min_length=3, max_length=500)],
                record_b: Annotated[str, Query(min_length=3, max_length=500)]) -> RunStatsOut:
    """Undo a link a person made."""
    return RunStatsOut.of(c360.unlink(_writer(request), _engine(request), record_a, record_b,
                                      actor=user.username))


@router.get("/identity/review", response_model=list[ReviewPairOut],
            dependencies=[Depends(require_role(*DECIDE_IDENTITY))])
def get_review(request: Request,
               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[ReviewPairOut]:
    """Probable duplicates waiting for a person, most probable first."""
    return [ReviewPairOut(**p) for p in c360.review_queue(_engine(request), limit)]


@router.post("/identity/review", response_model=ReviewDecisionOut)
def post_review(body: ReviewDecisionIn, request: Request, user: Decider) -> ReviewDecisionOut:
    """Approve (link the pair) or reject (keep it off the queue for good)."""
    stats = c360.decide(_writer(request), _engine(request), body.record_a, body.record_b,
                        approve=body.approve, actor=user.username)
    return ReviewDecisionOut(approved=body.approve,
                             stats=RunStatsOut.of(stats) if stats is not None else None)


@router.post("/identity/update", response_model=RunStatsOut)
def run_update(request: Request, _: Runner) -> RunStatsOut:
    """Fold the events stored since the last run into profiles now."""
    return RunStatsOut.of(request.app.state.identity.run_now())


@router.post("/identity/score", response_model=ScoreOut)
def run_score(request: Request, _: Runner) -> ScoreOut:
    """Score probable duplicates and refill the review queue."""
    return ScoreOut(pending=c360.score(_writer(request), _engine(request)))
