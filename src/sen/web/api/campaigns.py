"""``/api/campaigns``: one-off campaigns: save a draft, estimate, test, launch, watch.

Launching a big audience takes a while (contexts are captured and every
member goes through the gate), so ``POST …/launch`` answers 202 at once and
the launch runs in the server's background; ``GET …`` shows its progress and
the live counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from sen.errors import ConflictError
from sen.messaging import campaigns
from sen.messaging.campaigns import CampaignDefinition
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.users import User

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"])
RUN_CAMPAIGNS = ("admin", "marketer")
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Runner = Annotated[User, Depends(require_role(*RUN_CAMPAIGNS))]


class StatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    by_status: dict[str, int]
    suppressed: dict[str, int]
    by_channel: dict[str, int]
    clicked: int
    redeemed: int
    cost: int
    holdout: int
    treatment: int


class CampaignOut(BaseModel):
    definition: CampaignDefinition
    status: str
    created_by: str | None
    created_at: datetime
    launched_at: datetime | None
    audience: int | None
    holdout: int | None
    queued: int | None
    suppressed: int | None
    stats: StatsOut | None = None
    launch_progress: dict[str, Any] | None = None

    @classmethod
    def of(cls, c: campaigns.Campaign, stats: campaigns.Stats | None = None,
           progress: dict[str, Any] | None = None) -> CampaignOut:
        return cls(definition=c.definition, status=c.status, created_by=c.created_by,
                   created_at=c.created_at, launched_at=c.launched_at, audience=c.audience,
                   holdout=c.holdout, queued=c.queued, suppressed=c.suppressed,
                   stats=StatsOut.model_validate(stats) if stats else None,
                   launch_progress=progress)


class EstimateOut(BaseModel):
    audience: int
    holdout: int
    excluded: int
    sampled: int
    queued: int
    deferred: int
    suppressed: dict[str, int]
    by_channel: dict[str, int]
    sms_parts: dict[str, float]
    cost: int


class TestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile_ids: list[str] = Field(min_length=1, max_length=20)


class TestOut(BaseModel):
    queued: int
    suppressed: dict[str, int]


def _messaging(request: Request) -> Any:
    return request.app.state.messaging


@router.get("", response_model=list[CampaignOut])
def list_campaigns(request: Request, user: Reader) -> list[CampaignOut]:
    """Every campaign, newest first."""
    return [CampaignOut.of(c) for c in campaigns.all_campaigns(request.app.state.ops)]


@router.put("/{name}", response_model=CampaignOut)
def put_campaign(name: str, body: CampaignDefinition, request: Request,
                 user: Runner) -> CampaignOut:
    """Create or change a draft (the name in the body must match the path)."""
    m = _messaging(request)
    definition = body.model_copy(update={"name": name})
    return CampaignOut.of(campaigns.save(m.ops, definition, now=m.now(),
                                         actor=user.username))


@router.get("/{name}", response_model=CampaignOut,
            responses={404: {"description": "No such campaign"}})
def get_campaign(name: str, request: Request, user: Reader) -> CampaignOut:
    """The campaign, its live counts and, while it launches, how far it got."""
    m = _messaging(request)
    c = campaigns.get(m.ops, name)
    return CampaignOut.of(c, campaigns.stats(m.ops, name), m.launches.get(name))


@router.post("/{name}/estimate", response_model=EstimateOut)
def post_estimate(name: str, request: Request, user: Runner) -> EstimateOut:
    """What launching now would do: audience, suppressions by reason, cost."""
    m = _messaging(request)
    e = m.estimate(campaigns.get(m.ops, name).definition)
    return EstimateOut(audience=e.audience, holdout=e.holdout, excluded=e.excluded,
                       sampled=e.sampled, queued=round(e.gate.queued * e.scale),
                       deferred=round(e.gate.deferred * e.scale),
                       suppressed={k: round(v * e.scale) for k, v in e.gate.suppressed.items()},
                       by_channel={k: round(v * e.scale) for k, v in e.gate.by_channel.items()},
                       sms_parts=e.parts, cost=e.cost)


@router.post("/{name}/test", response_model=TestOut)
def post_test(name: str, body: TestIn, request: Request, user: Runner) -> TestOut:
    """Send the campaign's message now to chosen customers (through the gate)."""
    m = _messaging(request)
    done = m.test_send(campaigns.get(m.ops, name).definition, body.profile_ids)
    return TestOut(queued=done.queued, suppressed=dict(done.suppressed))


@router.post("/{name}/launch", response_model=CampaignOut, status_code=202,
             responses={409: {"description": "Already launched"}})
def post_launch(name: str, request: Request, user: Runner) -> CampaignOut:
    """Start sending; the launch runs in the background (see ``launch_progress``)."""
    m = _messaging(request)
    c = campaigns.get(m.ops, name)
    if c.status not in ("draft", "launching"):
        raise ConflictError(f"Campaign '{name}' is already {c.status}.",
                            hint="A campaign is launched once; copy it to send again.")
    m.start_launch(name, user.username)
    return CampaignOut.of(campaigns.get(m.ops, name), None, m.launches.get(name))


@router.post("/{name}/pause", response_model=CampaignOut)
def post_pause(name: str, request: Request, user: Runner) -> CampaignOut:
    """Hold every message not yet sent."""
    m = _messaging(request)
    campaigns.pause(m.ops, name, now=m.now())
    return CampaignOut.of(campaigns.get(m.ops, name), campaigns.stats(m.ops, name))


@router.post("/{name}/resume", response_model=CampaignOut)
def post_resume(name: str, request: Request, user: Runner) -> CampaignOut:
    """Let held messages go again (each is checked by the gate when it goes)."""
    m = _messaging(request)
    campaigns.resume(m.ops, name, now=m.now())
    return CampaignOut.of(campaigns.get(m.ops, name), campaigns.stats(m.ops, name))
