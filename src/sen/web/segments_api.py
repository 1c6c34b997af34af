"""``/api/segments``: live previews, saved segments, runs, history, overlap and SQL.

Previews read the store directly (a count over a million profiles takes well
under a second); runs write members, snapshots and Segment Entered/Exited
events, so they go through the event writer's thread like every other write.
Members are exported by ``GET /api/traits/export?segment=<name>``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from sen.segments import evaluate, rules, saved
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.users import User

router = APIRouter(prefix="/api/segments", tags=["segments"])
DEFINE_SEGMENTS = ("admin", "marketer")
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Definer = Annotated[User, Depends(require_role(*DEFINE_SEGMENTS))]


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: dict[str, Any]
    as_of: datetime | None = None
    sample: int = Field(10, ge=0, le=100)


class Branch(BaseModel):
    path: str
    count: int


class PreviewOut(BaseModel):
    count: int
    branches: list[Branch]
    sample: list[dict[str, Any]]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    rule: dict[str, Any]
    refresh_minutes: int = Field(60, ge=5, le=7 * 24 * 60)


class RunOut(BaseModel):
    """A :class:`sen.segments.saved.SegmentRun`, read from its attributes."""

    model_config = ConfigDict(from_attributes=True)
    segment: str
    run_at: datetime
    members: int
    entered: int
    exited: int
    seconds: float


class SegmentOut(BaseModel):
    name: str
    title: str
    description: str
    rule: dict[str, Any]
    refresh_minutes: int
    uses: list[str]
    history: list[RunOut] = []

    @classmethod
    def of(cls, s: saved.Segment, history: list[saved.SegmentRun] = ()) -> SegmentOut:
        return cls(name=s.name, title=s.title, description=s.description,
                   rule=rules.dump(s.rule), refresh_minutes=s.refresh_minutes,
                   uses=sorted(s.uses), history=[RunOut.model_validate(r) for r in history])


def _engine(request: Request) -> Any:
    return request.app.state.analytics


def _writer(request: Request) -> Any:
    return request.app.state.writer


@router.post("/preview", response_model=PreviewOut)
def preview(body: PreviewIn, request: Request, _: Reader) -> PreviewOut:
    """Count an unsaved rule, each of its branches, and show a few members."""
    p = evaluate.preview(_engine(request), rules.parse(body.rule), as_of=body.as_of,
                         sample=body.sample)
    return PreviewOut(count=p.count, branches=[Branch(path=a, count=n) for a, n in p.branches],
                      sample=p.sample)


@router.post("/sql")
def compiled_sql(body: PreviewIn, request: Request, _: Reader) -> dict[str, str]:
    """The SQL an unsaved rule runs as."""
    return {"sql": evaluate.sql(_engine(request), rules.parse(body.rule), as_of=body.as_of)}


@router.get("", response_model=list[SegmentOut])
def list_segments(request: Request, _: Reader,
                  trend: Annotated[int, Query(ge=0, le=100)] = 10) -> list[SegmentOut]:
    """Every saved segment with its latest runs (newest first): size and trend."""
    engine = _engine(request)
    return [SegmentOut.of(s, saved.history(engine, s.name, trend))
            for s in saved.all_segments(request.app.state.ops)]


@router.get("/{name}", response_model=SegmentOut)
def get_segment(name: str, request: Request, _: Reader) -> SegmentOut:
    return SegmentOut.of(saved.get(request.app.state.ops, name),
                         saved.history(_engine(request), name))


@router.put("/{name}", response_model=SegmentOut)
def put_segment(name: str, body: SegmentIn, request: Request, user: Definer) -> SegmentOut:
    """Create or replace a saved segment (it runs at its next refresh, or on demand)."""
    segment = saved.Segment(name=name, title=body.title, description=body.description,
                            rule=rules.parse(body.rule), refresh_minutes=body.refresh_minutes)
    evaluate.sql(_engine(request), segment.rule)  # a rule that cannot run is not saved
    return SegmentOut.of(saved.save(request.app.state.ops, segment, actor=user.username))


@router.delete("/{name}", status_code=204)
def archive_segment(name: str, request: Request, _: Definer) -> None:
    """Archive a segment: it stops running; its history stays."""
    ops = request.app.state.ops
    current = saved.get(ops, name)
    saved.save(ops, dataclasses.replace(current, archived=True))


@router.post("/{name}/run", response_model=RunOut)
def run_segment(name: str, request: Request, _: Definer) -> RunOut:
    """Recompute the members now: snapshot, entered/exited events, size history."""
    segment = saved.get(request.app.state.ops, name)
    engine = _engine(request)
    return RunOut.model_validate(_writer(request).run_exclusive(lambda: saved.run(engine, segment)))


class SnapshotOut(BaseModel):
    run_at: datetime
    members: int


@router.get("/{name}/snapshots", response_model=list[SnapshotOut])
def list_snapshots(name: str, request: Request, _: Reader) -> list[SnapshotOut]:
    """The runs whose members are kept, newest first; download one with
    ``GET /api/traits/export?segment={name}&snapshot={run_at}``."""
    saved.get(request.app.state.ops, name)
    return [SnapshotOut(run_at=at, members=n) for at, n in saved.snapshots(_engine(request),
                                                                          name)]


class OverlapIn(BaseModel):
    names: list[str] = Field(min_length=1, max_length=20)


@router.post("/overlap")
def overlap(body: OverlapIn, request: Request, _: Reader) -> dict[str, dict[str, int]]:
    """Members shared by every pair of the named segments (the diagonal is each size)."""
    for name in body.names:
        saved.get(request.app.state.ops, name)
    return saved.overlap(_engine(request), body.names)
