"""The policy gate: one pure function decides every message, whoever sends it.

:func:`decide` takes a candidate message (:class:`Request`), what is known of
its recipient (:class:`Facts`: consent, reachability, the messages she was
sent or is due) and the retailer's :class:`MessagingPolicy`, and returns a
:class:`Decision`. The checks run in a fixed order and the first refusal wins:

1. a reachable contact for the channel;
2. consent for channel and purpose;
3. quiet hours (wait until they end, or drop, as the sender chose);
4. frequency caps;
5. exclusions (other campaigns or journeys, segments);
6. duplicates (the same template within ``duplicate_hours``).

Defaults follow decree 91/2020 for advertising: SMS only between 07:00 and
22:00 in the recipient's local time, at most 3 advertising SMS and 3
advertising emails per recipient per 24 hours, and recorded consent before
any advertising. Customer care has its own (by default no) caps and hours.

Caps are rolling windows counted around the message's planned time: a
message planned at ``t`` is allowed when fewer than ``max`` live messages of
the cap's kind are planned in ``(t - window, t + window)``. That is stricter
than needed by at most one window, and it guarantees that no window of that
length ever holds more than ``max``, whatever order messages are planned in.

The gate does no I/O; :mod:`sen.messaging.outbox` gathers the facts under a
lock and writes the decision in the same transaction. Its inputs and answers are
plain (not frozen) slotted dataclasses, treated as values: a broadcast makes a
few of them per recipient, and freezing costs more than the decision itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from sen.messaging.model import Channel, ConsentStatus, Purpose, Reason

QuietPolicy = Literal["wait", "drop"]
UTC = ZoneInfo("UTC")


class Cap(BaseModel):
    """At most ``max`` messages of ``purpose`` on ``channel`` (any channel when empty)
    per recipient in any ``window_hours``."""

    purpose: Purpose | Literal["any"] = Purpose.ADVERTISING
    channel: Channel | None = None
    window_hours: int = Field(default=24, ge=1, le=24 * 92)
    max: int = Field(ge=0)

    def applies(self, channel: Channel, purpose: Purpose) -> bool:
        return ((self.purpose == "any" or self.purpose == purpose)
                and (self.channel is None or self.channel == channel))


class QuietHours(BaseModel):
    """No message of ``purpose`` on ``channel`` (any when empty) from ``start`` to
    ``end`` in the recipient's local time (``start`` after ``end`` spans midnight)."""

    purpose: Purpose | Literal["any"] = Purpose.ADVERTISING
    channel: Channel | None = None
    start: time = time(22, 0)
    end: time = time(7, 0)

    def applies(self, channel: Channel, purpose: Purpose) -> bool:
        return ((self.purpose == "any" or self.purpose == purpose)
                and (self.channel is None or self.channel == channel))

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Rules(NamedTuple):
    """What applies to one (channel, purpose): caps with their windows, quiet hours."""

    caps: tuple[tuple[Cap, timedelta], ...]
    quiet: tuple[QuietHours, ...]


DECREE_91_CAPS = (Cap(channel=Channel.SMS, window_hours=24, max=3),
                  Cap(channel=Channel.EMAIL, window_hours=24, max=3))
DECREE_91_QUIET = (QuietHours(channel=Channel.SMS, start=time(22, 0), end=time(7, 0)),)


class MessagingPolicy(BaseModel):
    """The retailer's rules for every message (kept in the operational store).

    ``require_advertising_consent`` is decree 91's rule and on by default:
    advertising goes only to addresses with recorded consent. Turning it off
    sends advertising to everyone who has not refused, which the settings page
    warns about. Customer care never needs recorded consent, only the absence
    of a refusal for care.
    """

    require_advertising_consent: bool = True
    caps: list[Cap] = Field(default_factory=lambda: [c.model_copy() for c in DECREE_91_CAPS])
    quiet_hours: list[QuietHours] = Field(
        default_factory=lambda: [q.model_copy() for q in DECREE_91_QUIET])
    duplicate_hours: int = Field(default=24, ge=0, le=24 * 92)

    @model_validator(mode="after")
    def _decree_91_floor(self) -> MessagingPolicy:
        """Caps may be tightened, never loosened past decree 91 for advertising SMS/email."""
        for required in DECREE_91_CAPS:
            if not any(c.channel == required.channel and c.purpose == Purpose.ADVERTISING
                       and c.window_hours >= required.window_hours and c.max <= required.max
                       for c in self.caps):
                raise ValueError(
                    f"advertising {required.channel} needs a cap of at most {required.max} "
                    f"per {required.window_hours} hours (decree 91/2020)")
        return self

    _rules: dict = PrivateAttr(default_factory=dict)

    def rules(self, channel: Channel, purpose: Purpose) -> Rules:
        """The caps and quiet hours that apply to one kind of message, worked out once
        per policy (the gate asks for every message of a broadcast)."""
        key = (channel, purpose)
        cache = self.__pydantic_private__["_rules"]  # type: ignore[index]
        found = cache.get(key)
        if found is None:
            found = cache[key] = Rules(
                tuple((c, timedelta(hours=c.window_hours)) for c in self.caps
                      if c.applies(channel, purpose)),
                tuple(q for q in self.quiet_hours if q.applies(channel, purpose)))
        return found

    def longest_window(self) -> timedelta:
        hours = max([c.window_hours for c in self.caps] + [self.duplicate_hours, 1])
        return timedelta(hours=hours)


@dataclass(slots=True)
class Planned:
    """A live message already planned for this recipient (from the outbox)."""

    channel: Channel
    purpose: Purpose
    at: datetime
    template: str | None


@dataclass(slots=True)
class Request:
    """A candidate message. ``at`` is its planned time (naive UTC); ``zone`` the
    recipient's time zone; ``quiet`` what to do inside quiet hours."""

    channel: Channel
    purpose: Purpose
    address: str | None
    at: datetime
    zone: ZoneInfo
    template: str | None = None
    quiet: QuietPolicy = "wait"
    excluded: bool = False


@dataclass(slots=True)
class Facts:
    """What is known of the recipient: consent for the request's channel and
    purpose at its address, whether the address is unreachable, and her live
    messages (to this profile or this address) around the planned time."""

    consent: ConsentStatus | None = None
    unreachable: bool = False
    planned: Sequence[Planned] = ()


@dataclass(slots=True)
class Decision:
    """``allowed`` with the time to send (``at``, maybe moved past quiet hours), or
    refused with a ``reason``."""

    allowed: bool
    at: datetime
    reason: Reason | None = None

    @classmethod
    def refuse(cls, reason: Reason, at: datetime) -> Decision:
        return cls(False, at, reason)


def _consent(req: Request, facts: Facts, policy: MessagingPolicy) -> Reason | None:
    if facts.consent == ConsentStatus.REVOKED:
        return Reason.OPTED_OUT
    if (req.purpose == Purpose.ADVERTISING and policy.require_advertising_consent
            and facts.consent != ConsentStatus.GRANTED):
        return Reason.NO_CONSENT
    return None


@lru_cache(maxsize=64)
def _fixed_offset(zone: ZoneInfo) -> timedelta | None:
    """The zone's offset when it never changes (Vietnam's: +07:00), else None."""
    probes = [datetime(year, month, 1) for year in (2020, 2026, 2032) for month in (1, 4, 7, 10)]
    offsets = {zone.utcoffset(p) for p in probes}
    return offsets.pop() if len(offsets) == 1 else None


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    """Naive UTC ``at`` in ``zone``, aware; fast where the zone keeps one offset."""
    offset = _fixed_offset(zone)
    if offset is not None:
        return (at + offset).replace(tzinfo=zone)
    return at.replace(tzinfo=UTC).astimezone(zone)


def quiet_end(req: Request, policy: MessagingPolicy) -> datetime | None:
    """When quiet hours end if ``req.at`` falls inside some (naive UTC), else None."""
    return _quiet_end(req, policy.rules(req.channel, req.purpose).quiet)


def _quiet_end(req: Request, quiet: tuple[QuietHours, ...]) -> datetime | None:
    if not quiet:
        return None
    offset = _fixed_offset(req.zone)
    at = req.at
    for _ in range(4):  # overlapping windows: step past each in turn
        # Naive local time where the offset is fixed (cheap); aware elsewhere.
        local = at + offset if offset is not None else _local(at, req.zone)
        clock = local.time()
        window = None
        for q in quiet:
            if q.contains(clock):
                window = q
                break
        if window is None:
            return at if at != req.at else None
        end = local.replace(hour=window.end.hour, minute=window.end.minute, second=0,
                            microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        at = end - offset if offset is not None else \
            end.astimezone(UTC).replace(tzinfo=None)
    return at


def over_cap(req: Request, at: datetime, planned: Sequence[Planned],
             policy: MessagingPolicy) -> bool:
    """Whether one more message at ``at`` would break a cap."""
    return _over_cap(at, planned, policy.rules(req.channel, req.purpose).caps)


def _over_cap(at: datetime, planned: Sequence[Planned],
              caps: tuple[tuple[Cap, timedelta], ...]) -> bool:
    for cap, window in caps:
        if cap.max == 0:
            return True
        if not planned:
            continue
        n = sum(1 for p in planned
                if cap.applies(p.channel, p.purpose) and abs(p.at - at) < window)
        if n >= cap.max:
            return True
    return False


def is_duplicate(req: Request, at: datetime, planned: Sequence[Planned],
                 policy: MessagingPolicy) -> bool:
    if not planned or req.template is None or policy.duplicate_hours == 0:
        return False
    window = timedelta(hours=policy.duplicate_hours)
    return any(p.template == req.template and abs(p.at - at) < window for p in planned)


def decide(req: Request, facts: Facts, policy: MessagingPolicy) -> Decision:
    """The gate's answer for one candidate message (see the module docstring)."""
    if not req.address:
        return Decision.refuse(Reason.NO_CONTACT, req.at)
    if facts.unreachable:
        return Decision.refuse(Reason.UNREACHABLE, req.at)
    refused = _consent(req, facts, policy)
    if refused is not None:
        return Decision.refuse(refused, req.at)
    at = req.at
    rules = policy.rules(req.channel, req.purpose)
    moved = _quiet_end(req, rules.quiet)
    if moved is not None:
        if req.quiet == "drop":
            return Decision.refuse(Reason.QUIET_HOURS, req.at)
        at = moved
    if _over_cap(at, facts.planned, rules.caps):
        return Decision.refuse(Reason.FREQUENCY_CAP, at)
    if req.excluded:
        return Decision.refuse(Reason.EXCLUDED, at)
    if is_duplicate(req, at, facts.planned, policy):
        return Decision.refuse(Reason.DUPLICATE, at)
    return Decision(True, at)


def recheck(req: Request, facts: Facts, policy: MessagingPolicy) -> Decision:
    """The gate again at dispatch: contact, consent and quiet hours (caps were
    reserved when the message was queued, so they are not counted twice)."""
    return decide(req, Facts(facts.consent, facts.unreachable, ()), policy)
