"""``/api/audiences``: saved segments kept in sync with Meta and Google ad audiences.

A link is defined here (``PUT``), synced after each run of its segment by
``sen serve`` or now (``POST /{name}/sync``), and its attempts are listed with
counts and errors. Syncing calls the platform from the request's thread and
writes the result through the event writer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sen.segments.audiences import links
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.segments_api import DEFINE_SEGMENTS
from sen.web.users import User

router = APIRouter(prefix="/api/audiences", tags=["audiences"])
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Definer = Annotated[User, Depends(require_role(*DEFINE_SEGMENTS))]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    segment: str = Field(min_length=1, max_length=100)
    destination: links.Destination
    audience_id: str = Field(pattern=r"^[0-9]{1,30}$")
    purpose: links.Purpose = "target"
    enabled: bool = True


class LinkRunOut(BaseModel):
    """A :class:`sen.segments.audiences.links.LinkRun`, read from its attributes."""

    model_config = ConfigDict(from_attributes=True)
    run_at: datetime
    segment_run_at: datetime | None
    status: str
    added: int
    removed: int
    unchanged: int
    skipped: int
    seconds: float
    error: str | None


class LinkOut(BaseModel):
    name: str
    segment: str
    destination: str
    audience_id: str
    purpose: str
    enabled: bool
    runs: list[LinkRunOut] = []

    @classmethod
    def of(cls, link: links.AudienceLink, runs: list[links.LinkRun] = ()) -> LinkOut:
        return cls(name=link.name, segment=link.segment, destination=link.destination,
                   audience_id=link.audience_id, purpose=link.purpose, enabled=link.enabled,
                   runs=[LinkRunOut.model_validate(r) for r in runs])


@router.get("", response_model=list[LinkOut])
def list_links(request: Request, _: Reader, segment: str | None = None,
               runs: Annotated[int, Query(ge=0, le=50)] = 5) -> list[LinkOut]:
    """Every link (or a segment's), with its latest attempts, newest first."""
    engine = request.app.state.analytics
    return [LinkOut.of(link, links.history(engine, link.name, runs))
            for link in links.all_links(request.app.state.ops, segment=segment)]


@router.get("/{name}", response_model=LinkOut)
def get_link(name: str, request: Request, _: Reader) -> LinkOut:
    link = links.get_link(request.app.state.ops, name)
    return LinkOut.of(link, links.history(request.app.state.analytics, name))


@router.put("/{name}", response_model=LinkOut)
def put_link(name: str, body: LinkIn, request: Request, user: Definer) -> LinkOut:
    """Create or replace a link; it syncs after its segment's next run (or now)."""
    link = links.AudienceLink(name=name, **body.model_dump())
    return LinkOut.of(links.save_link(request.app.state.ops, link, actor=user.username))


@router.delete("/{name}", status_code=204)
def delete_link(name: str, request: Request, _: Definer) -> None:
    """Forget the link and what was sent; the platform's audience is left as it is."""
    engine = request.app.state.analytics
    request.app.state.writer.run_exclusive(
        lambda: links.delete_link(request.app.state.ops, engine, name))


@router.post("/{name}/sync", response_model=LinkRunOut)
def sync_link(name: str, request: Request, _: Definer) -> LinkRunOut:
    """Send the segment's changes since the last good sync now. A platform error is
    answered as a failed run (200) with the platform's message; nothing is lost, the
    next sync sends it again."""
    state = request.app.state
    link = links.get_link(state.ops, name)
    return LinkRunOut.model_validate(links.sync(state.analytics, link, settings=state.settings,
                                    write=state.writer.run_exclusive))
