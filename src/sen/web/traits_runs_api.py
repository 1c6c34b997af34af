"""``/api/traits/refresh``, ``/update`` and ``/runs``: trait runs on demand and their history.

Runs go through the server's :class:`sen.traits.jobs.TraitsUpdater`, on the
event writer's thread, like the scheduled ones.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from sen.traits.runner import TraitRun
from sen.web.auth import RUN_TRAITS, VIEW_PROFILES, require_role
from sen.web.users import User

router = APIRouter(prefix="/api/traits", tags=["traits"])
Runner = Annotated[User, Depends(require_role(*RUN_TRAITS))]
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]


class TraitRunOut(BaseModel):
    kind: str
    as_of: datetime
    profiles: int
    seconds: float
    steps: dict[str, float] = {}
    models: dict[str, Any] | None = None

    @classmethod
    def of(cls, run: TraitRun) -> TraitRunOut:
        return cls(kind=run.kind, as_of=run.as_of, profiles=run.profiles, seconds=run.seconds,
                   steps=run.steps, models=run.models)


@router.post("/refresh", response_model=TraitRunOut)
def run_refresh(request: Request, _: Runner) -> TraitRunOut:
    """Recompute every profile's traits and refit the models now."""
    return TraitRunOut.of(request.app.state.traits.run_now(full=True))


@router.post("/update", response_model=TraitRunOut)
def run_update(request: Request, _: Runner) -> TraitRunOut:
    """Recompute the traits of profiles changed since the last run now."""
    return TraitRunOut.of(request.app.state.traits.run_now(full=False))


@router.get("/runs", response_model=list[TraitRunOut])
def runs(request: Request, _: Reader,
         limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[TraitRunOut]:
    """The latest runs, newest first, with the models each used."""
    rows = request.app.state.analytics.cursor().execute(
        "SELECT kind, as_of, profiles, seconds, models FROM trait_runs "
        "ORDER BY started_at DESC LIMIT ?", [limit]).fetchall()
    return [TraitRunOut(kind=k, as_of=a, profiles=p, seconds=s,
                        models=json.loads(m) if m else None) for k, a, p, s, m in rows]
