"""One-off campaigns: a segment, a message, now or at a time, measured against a holdout.

A marketer chooses the segment, the channels in fallback order with a template
each, the purpose, when (now, or a time of day in each customer's own zone),
what to do inside quiet hours, a holdout share, a goal and a budget. Before
launch :func:`estimate` shows the audience, how many the gate would refuse
and why, the messages per channel, SMS parts and cost. :func:`launch` then

1. takes the segment's members as they are now (the audience is fixed at
   launch) and draws the holdout, recording every member's group in
   ``audience_members`` (holdouts also as ``Holdout Assigned`` events);
2. captures each treated member's template context;
3. puts everyone through the gate into the outbox (:mod:`sen.messaging.outbox`).

Launch is idempotent: run again after a crash it skips everything already
recorded. Dispatch then sends as messages fall due; a paused campaign's
waiting messages are held until it resumes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator

from sen.errors import ConflictError, NotFoundError, ValidationError
from sen.messaging import events
from sen.messaging.audience import Member, segment_members, split, with_push
from sen.messaging.model import HOLDOUT_ASSIGNED, Channel, Purpose, Status
from sen.messaging.outbox import Budget, Candidate, Enqueued, Route, Sender, enqueue
from sen.messaging.policy import MessagingPolicy
from sen.store.operational import (
    audience_members,
    campaigns,
    clicks,
    coupons,
    insert_ignore,
    messages,
)

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
STATES = ("draft", "launching", "running", "paused", "done", "cancelled")
ContextFn = Callable[[Sequence[str], set[str]], dict[str, dict[str, Any]]]
VariablesFn = Callable[[str], tuple[int, set[str]]]  # template → (version, variables)


class ChannelStep(BaseModel):
    channel: Channel
    template: str = Field(min_length=1, max_length=100)


class Goal(BaseModel):
    """The conversion the campaign aims at, e.g. ``Order Completed`` within 7 days."""

    event: str = "Order Completed"
    within_days: int = Field(default=7, ge=1, le=90)


class Exclusions(BaseModel):
    """People kept out: those in (or held out of) other campaigns, those messaged by
    journeys, members of segments."""

    campaigns: list[str] = Field(default_factory=list)
    journeys: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)


class CampaignDefinition(BaseModel):
    """What a marketer sets up; see the module docstring."""

    name: str
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    segment: str = Field(min_length=1)
    purpose: Purpose = Purpose.ADVERTISING
    channels: list[ChannelStep] = Field(min_length=1, max_length=4)
    send_at: datetime | None = Field(
        default=None, description="Wall-clock time in each customer's own zone; empty "
        "means at launch.")
    quiet: Literal["wait", "drop"] = "wait"
    holdout_percent: float = Field(default=0.0, ge=0.0, le=50.0)
    goal: Goal | None = Field(default_factory=Goal)
    budget: int | None = Field(default=None, ge=0, description="VND")
    exclude: Exclusions = Field(default_factory=Exclusions)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (e.g. black-friday-2026)")
        return value

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[ChannelStep]) -> list[ChannelStep]:
        seen = [s.channel for s in value]
        if len(set(seen)) != len(seen):
            raise ValueError("each channel may appear once in the fallback order")
        return value


@dataclass(frozen=True)
class Campaign:
    definition: CampaignDefinition
    status: str
    created_by: str | None
    created_at: datetime
    launched_at: datetime | None
    audience: int | None
    holdout: int | None
    queued: int | None
    suppressed: int | None


def _row_to_campaign(row: Any) -> Campaign:
    return Campaign(CampaignDefinition.model_validate_json(row.definition), row.status,
                    row.created_by, row.created_at, row.launched_at, row.audience, row.holdout,
                    row.queued, row.suppressed)


def get(ops: sa.Engine, name: str) -> Campaign:
    with ops.connect() as con:
        row = con.execute(sa.select(campaigns).where(campaigns.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no campaign '{name}'.",
                            hint="See the campaigns with `sen campaign list`.")
    return _row_to_campaign(row)


def all_campaigns(ops: sa.Engine) -> list[Campaign]:
    with ops.connect() as con:
        rows = con.execute(sa.select(campaigns).order_by(campaigns.c.created_at.desc())).all()
    return [_row_to_campaign(r) for r in rows]


def save(ops: sa.Engine, definition: CampaignDefinition, *, now: datetime,
         actor: str | None = None) -> Campaign:
    """Create a draft or change one; a launched campaign cannot change."""
    values = {"title": definition.title, "description": definition.description,
              "segment": definition.segment, "purpose": str(definition.purpose),
              "definition": definition.model_dump_json(), "updated_at": now}
    with ops.begin() as con:
        row = con.execute(sa.select(campaigns.c.status)
                          .where(campaigns.c.name == definition.name)).first()
        if row is None:
            con.execute(sa.insert(campaigns).values(name=definition.name, status="draft",
                                                    created_by=actor, created_at=now, **values))
        elif row.status == "draft":
            con.execute(sa.update(campaigns).where(campaigns.c.name == definition.name)
                        .values(**values))
        else:
            raise ConflictError(f"Campaign '{definition.name}' is {row.status}; it can no "
                                "longer change.", hint="Copy it under a new name instead.")
    return get(ops, definition.name)


def owner(name: str) -> str:
    return f"campaign:{name}"


def due_time(send_at: datetime | None, zone: ZoneInfo, now: datetime) -> datetime:
    """The naive-UTC time a message is due: ``send_at`` on her own clock, or now."""
    if send_at is None:
        return now
    local = send_at.replace(tzinfo=zone)
    due = local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return max(due, now)


def excluded_profiles(engine: Any, ops: sa.Engine, rules: Exclusions) -> set[str]:
    """Profiles the exclusions keep out."""
    out: set[str] = set()
    with ops.connect() as con:
        if rules.campaigns:
            out.update(con.execute(sa.select(audience_members.c.profile_id).where(
                audience_members.c.owner.in_([owner(c) for c in rules.campaigns]))).scalars())
        if rules.journeys:
            out.update(con.execute(sa.select(messages.c.profile_id).distinct().where(
                messages.c.journey.in_(rules.journeys),
                messages.c.status != Status.SUPPRESSED)).scalars())
    if rules.segments:
        out.update(r[0] for r in engine.execute(
            "SELECT DISTINCT profile_id FROM segment_members WHERE segment IN "
            "(SELECT unnest(?::VARCHAR[]))", [rules.segments]).fetchall())
    return out


@dataclass
class Plan:
    """Everything a launch or an estimate needs, read once."""

    definition: CampaignDefinition
    treatment: list[Member]
    holdout: list[Member]
    excluded: set[str]
    versions: dict[str, int]
    variables: set[str]

    def sender(self) -> Sender:
        d = self.definition
        return Sender(d.purpose, campaign=d.name, quiet=d.quiet, template_versions=self.versions)


def plan(engine: Any, ops: sa.Engine, definition: CampaignDefinition,
         templates: VariablesFn) -> Plan:
    members = segment_members(engine, definition.segment)
    if any(s.channel == Channel.PUSH for s in definition.channels):
        members = with_push(engine, ops, members)
    treatment, holdout = split(owner(definition.name), members, definition.holdout_percent)
    versions: dict[str, int] = {}
    variables: set[str] = set()
    for step in definition.channels:
        version, used = templates(step.template)
        versions[step.template] = version
        variables |= used
    return Plan(definition, treatment, holdout, excluded_profiles(engine, ops,
                                                                   definition.exclude),
                versions, variables)


def candidates(p: Plan, context: ContextFn, zone: ZoneInfo, now: datetime, *,
               chunk: int = 20_000) -> Iterator[Candidate]:
    """The treatment group as gate candidates, contexts captured chunk by chunk."""
    d = p.definition
    at = due_time(d.send_at, zone, now)
    for start in range(0, len(p.treatment), chunk):
        part = p.treatment[start:start + chunk]
        values = context([m.profile_id for m in part], p.variables) if p.variables else {}
        for m in part:
            routes = tuple(Route(s.channel, s.template, m.address(s.channel)) for s in d.channels)
            yield Candidate(key=f"campaign:{d.name}:{m.profile_id}", profile_id=m.profile_id,
                            record=m.record, routes=routes, at=at,
                            context=values.get(m.profile_id, {}),
                            excluded=m.profile_id in p.excluded)


def _record_audience(ops: sa.Engine, p: Plan, now: datetime) -> None:
    own = owner(p.definition.name)
    groups = (("treatment", p.treatment), ("holdout", p.holdout))
    with ops.begin() as con:
        for grp, members in groups:
            for start in range(0, len(members), 5000):
                insert_ignore(con, audience_members, [
                    {"owner": own, "profile_id": m.profile_id, "record": m.record, "grp": grp,
                     "assigned_at": now} for m in members[start:start + 5000]])
        events.add(con, [events.LogEvent(
            message_id=f"holdout:{own}:{m.profile_id}", event=HOLDOUT_ASSIGNED,
            record=m.record, timestamp=now,
            properties={"campaign_id": p.definition.name, "journey_id": None,
                        "percent": p.definition.holdout_percent}) for m in p.holdout])


def _set_status(ops: sa.Engine, name: str, status: str, now: datetime, **values: Any) -> None:
    with ops.begin() as con:
        con.execute(sa.update(campaigns).where(campaigns.c.name == name)
                    .values(status=status, updated_at=now, **values))


def launch(engine: Any, ops: sa.Engine, name: str, *, templates: VariablesFn,
           context: ContextFn, policy: MessagingPolicy, zone: ZoneInfo, now: datetime,
           budget_cost: Callable[[Route, Candidate], int] | None = None,
           progress: Callable[[Enqueued], None] | None = None) -> Enqueued:
    """Launch a draft (or finish a launch a crash interrupted); see the module docstring."""
    campaign = get(ops, name)
    if campaign.status not in ("draft", "launching"):
        raise ConflictError(f"Campaign '{name}' is already {campaign.status}.",
                            hint="A campaign is launched once; copy it to send again.")
    d = campaign.definition
    _set_status(ops, name, "launching", now, launched_at=campaign.launched_at or now)
    p = plan(engine, ops, d, templates)
    _record_audience(ops, p, now)
    budget = Budget(d.budget, budget_cost) if d.budget is not None and budget_cost else None
    done = enqueue(ops, candidates(p, context, zone, now), p.sender(), policy, zone=zone,
                   now=now, budget=budget, progress=progress, expected=len(p.treatment),
                   channels=[s.channel for s in d.channels])
    totals = stats(ops, name)
    _set_status(ops, name, "running", now, audience=len(p.treatment) + len(p.holdout),
                holdout=len(p.holdout), queued=totals.queued_total,
                suppressed=sum(totals.suppressed.values()))
    return done


@dataclass
class Estimate:
    """What a launch would do now: audience, holdout, the gate's verdicts, cost."""

    audience: int
    holdout: int
    excluded: int
    sampled: int
    gate: Enqueued
    scale: float = 1.0
    parts: dict[str, float] = field(default_factory=dict)  # channel → average SMS parts
    cost: int = 0


def estimate(engine: Any, ops: sa.Engine, definition: CampaignDefinition, *,
             templates: VariablesFn, context: ContextFn, policy: MessagingPolicy,
             zone: ZoneInfo, now: datetime, sample: int = 20_000,
             cost_of: Callable[[Route, Candidate], int] | None = None) -> Estimate:
    """A dry run of the gate over the audience (a random sample of ``sample`` when
    it is larger, scaled up), with the cost of what would be queued."""
    p = plan(engine, ops, definition, templates)
    treatment = p.treatment
    scale = 1.0
    if len(treatment) > sample:
        step = len(treatment) / sample
        treatment = [treatment[int(i * step)] for i in range(sample)]
        scale = len(p.treatment) / sample
    p.treatment = treatment
    budget = Budget(10**18, cost_of) if cost_of else None
    gate = enqueue(ops, candidates(p, context, zone, now), p.sender(), policy, zone=zone,
                   now=now, dry_run=True, budget=budget)
    return Estimate(audience=round(len(treatment) * scale) + len(p.holdout),
                    holdout=len(p.holdout), excluded=len(p.excluded), sampled=len(treatment),
                    gate=gate, scale=scale, cost=round(gate.cost * scale))


def pause(ops: sa.Engine, name: str, *, now: datetime) -> int:
    """Hold a running campaign's waiting messages; how many were held."""
    if get(ops, name).status not in ("running", "launching"):
        raise ConflictError(f"Campaign '{name}' is not running.")
    with ops.begin() as con:
        n = con.execute(sa.update(messages).where(messages.c.campaign == name,
                                                  messages.c.status == Status.QUEUED)
                        .values(status=Status.HELD, updated_at=now)).rowcount
    _set_status(ops, name, "paused", now)
    return n


def resume(ops: sa.Engine, name: str, *, now: datetime) -> int:
    """Queue a paused campaign's held messages again (the gate checks them at dispatch)."""
    if get(ops, name).status != "paused":
        raise ConflictError(f"Campaign '{name}' is not paused.")
    with ops.begin() as con:
        n = con.execute(sa.update(messages).where(messages.c.campaign == name,
                                                  messages.c.status == Status.HELD)
                        .values(status=Status.QUEUED, updated_at=now)).rowcount
    _set_status(ops, name, "running", now)
    return n


@dataclass
class Stats:
    """Live counts of one campaign."""

    by_status: dict[str, int]
    suppressed: dict[str, int]
    by_channel: dict[str, int]
    clicked: int
    redeemed: int
    cost: int
    holdout: int
    treatment: int

    @property
    def queued_total(self) -> int:
        return sum(n for s, n in self.by_status.items() if s != Status.SUPPRESSED)

    def count(self, status: str) -> int:
        return self.by_status.get(status, 0)


def stats(ops: sa.Engine, name: str) -> Stats:
    t = messages
    with ops.connect() as con:
        by_status: dict[str, int] = {}
        suppressed: dict[str, int] = {}
        for status, error, n in con.execute(
                sa.select(t.c.status, t.c.error, sa.func.count()).where(t.c.campaign == name)
                .group_by(t.c.status, t.c.error)):
            by_status[status] = by_status.get(status, 0) + n
            if status == Status.SUPPRESSED:
                suppressed[error or "unknown"] = suppressed.get(error or "unknown", 0) + n
        by_channel = dict(con.execute(
            sa.select(t.c.channel, sa.func.count()).where(
                t.c.campaign == name, t.c.status != Status.SUPPRESSED).group_by(t.c.channel)
        ).all())
        clicked = con.execute(sa.select(sa.func.count(sa.distinct(clicks.c.message_id))).where(
            clicks.c.bot.is_(False), clicks.c.message_id.in_(
                sa.select(t.c.id).where(t.c.campaign == name)))).scalar_one()
        redeemed = con.execute(sa.select(sa.func.count()).where(
            coupons.c.campaign == name, coupons.c.redeemed_at.is_not(None))).scalar_one()
        cost = con.execute(sa.select(sa.func.coalesce(sa.func.sum(t.c.cost), 0))
                           .where(t.c.campaign == name)).scalar_one()
        groups = dict(con.execute(sa.select(audience_members.c.grp, sa.func.count()).where(
            audience_members.c.owner == owner(name)).group_by(audience_members.c.grp)).all())
    return Stats(by_status, suppressed, by_channel, clicked, redeemed, int(cost),
                 groups.get("holdout", 0), groups.get("treatment", 0))


def finish_if_done(ops: sa.Engine, name: str, now: datetime) -> bool:
    """Mark a running campaign done once nothing of it waits or is being sent."""
    s = stats(ops, name)
    waiting = sum(s.count(st) for st in (Status.QUEUED, Status.HELD, Status.SENDING))
    if waiting or get(ops, name).status != "running":
        return False
    _set_status(ops, name, "done", now, finished_at=now)
    return True


def test_send(engine: Any, ops: sa.Engine, definition: CampaignDefinition,
              members: Iterable[Member], *, templates: VariablesFn, context: ContextFn,
              policy: MessagingPolicy, zone: ZoneInfo, now: datetime) -> Enqueued:
    """Send the campaign's message now to chosen profiles (staff, usually), through
    the gate like any message, outside the campaign's counts."""
    chosen = list(members)
    if not chosen:
        raise ValidationError("Choose at least one customer to send the test to.",
                              field="profiles", rule="required")
    p = Plan(definition.model_copy(update={"send_at": None, "holdout_percent": 0.0}),
             chosen, [], set(), {}, set())
    for step in definition.channels:
        version, used = templates(step.template)
        p.versions[step.template] = version
        p.variables |= used
    stamp = now.strftime("%Y%m%dT%H%M%S")
    cands = [Candidate(key=f"test:{definition.name}:{c.profile_id}:{stamp}",
                       profile_id=c.profile_id, record=c.record, routes=c.routes, at=now,
                       context=c.context) for c in candidates(p, context, zone, now)]
    sender = Sender(definition.purpose, step="test", quiet=definition.quiet,
                    template_versions=p.versions)
    return enqueue(ops, cands, sender, policy, zone=zone, now=now)


def quiet_hours_text(policy: MessagingPolicy) -> list[tuple[str, time, time]]:
    """For pages: the quiet hours in force, per channel."""
    return [(str(q.channel or "all"), q.start, q.end) for q in policy.quiet_hours]

