"""The policy gate, as a table of cases: each check in its order, decree 91's defaults."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from sen.messaging.model import Channel, ConsentStatus, Purpose, Reason
from sen.messaging.policy import (
    Cap,
    Facts,
    MessagingPolicy,
    Planned,
    QuietHours,
    Request,
    decide,
    recheck,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOON_VN = datetime(2026, 12, 1, 5, 0)  # 12:00 in Hanoi, as naive UTC
PHONE = "+84912345678"
GRANTED = Facts(ConsentStatus.GRANTED)


def sms(at: datetime = NOON_VN, *, purpose: Purpose = Purpose.ADVERTISING,
        address: str | None = PHONE, template: str | None = "t1", quiet: str = "wait",
        excluded: bool = False, channel: Channel = Channel.SMS) -> Request:
    return Request(channel, purpose, address, at, VN, template, quiet, excluded)  # type: ignore[arg-type]


def planned(n: int, at: datetime = NOON_VN, channel: Channel = Channel.SMS,
            purpose: Purpose = Purpose.ADVERTISING, template: str = "other") -> list[Planned]:
    return [Planned(channel, purpose, at - timedelta(hours=i + 1), template) for i in range(n)]


POLICY = MessagingPolicy()


@pytest.mark.parametrize(("req", "facts", "reason"), [
    (sms(address=None), GRANTED, Reason.NO_CONTACT),
    (sms(), Facts(ConsentStatus.GRANTED, unreachable=True), Reason.UNREACHABLE),
    (sms(), Facts(None), Reason.NO_CONSENT),
    (sms(), Facts(ConsentStatus.REVOKED), Reason.OPTED_OUT),
    (sms(purpose=Purpose.CARE), Facts(ConsentStatus.REVOKED), Reason.OPTED_OUT),
    (sms(datetime(2026, 12, 1, 16, 0), quiet="drop"), GRANTED, Reason.QUIET_HOURS),  # 23:00
    (sms(), Facts(ConsentStatus.GRANTED, planned=planned(3)), Reason.FREQUENCY_CAP),
    (sms(excluded=True), GRANTED, Reason.EXCLUDED),
    (sms(), Facts(ConsentStatus.GRANTED, planned=planned(1, template="t1")), Reason.DUPLICATE),
    # the order of the checks: contact before consent, consent before caps, caps before
    # exclusion, exclusion before duplicates
    (sms(address=None), Facts(ConsentStatus.REVOKED), Reason.NO_CONTACT),
    (sms(excluded=True), Facts(None, planned=planned(3)), Reason.NO_CONSENT),
    (sms(excluded=True), Facts(ConsentStatus.GRANTED, planned=planned(3)),
     Reason.FREQUENCY_CAP),
    (sms(excluded=True), Facts(ConsentStatus.GRANTED, planned=planned(1, template="t1")),
     Reason.EXCLUDED),
])
def test_refusals_and_their_order(req: Request, facts: Facts, reason: Reason) -> None:
    d = decide(req, facts, POLICY)
    assert not d.allowed
    assert d.reason == reason


@pytest.mark.parametrize(("req", "facts"), [
    (sms(), GRANTED),
    (sms(), Facts(ConsentStatus.GRANTED, planned=planned(2))),
    (sms(purpose=Purpose.CARE), Facts(None)),  # care needs no recorded consent
    (sms(purpose=Purpose.CARE), Facts(None, planned=planned(10, purpose=Purpose.CARE))),
    (sms(channel=Channel.ZALO), Facts(ConsentStatus.GRANTED, planned=planned(3))),
    (sms(), Facts(ConsentStatus.GRANTED, planned=planned(1, template="t1",
                                                          at=NOON_VN - timedelta(hours=24)))),
])
def test_allowed(req: Request, facts: Facts) -> None:
    d = decide(req, facts, POLICY)
    assert d.allowed, d.reason
    assert d.at == req.at


def test_quiet_hours_wait_moves_the_message_to_seven_in_the_morning() -> None:
    at = datetime(2026, 12, 1, 15, 1)  # 22:01 in Hanoi
    d = decide(sms(at), GRANTED, POLICY)
    assert d.allowed
    assert d.at == datetime(2026, 12, 2, 0, 0)  # 07:00 next morning in Hanoi
    early = decide(sms(datetime(2026, 12, 1, 23, 59)), GRANTED, POLICY)  # 06:59
    assert early.at == datetime(2026, 12, 2, 0, 0)


def test_quiet_hours_boundaries_and_other_channels() -> None:
    assert decide(sms(datetime(2026, 12, 1, 14, 59)), GRANTED, POLICY).at == \
        datetime(2026, 12, 1, 14, 59)  # 21:59 goes
    assert decide(sms(datetime(2026, 12, 1, 0, 0)), GRANTED, POLICY).at == \
        datetime(2026, 12, 1, 0, 0)  # 07:00 goes
    email = sms(datetime(2026, 12, 1, 16, 0), channel=Channel.EMAIL)
    assert decide(email, GRANTED, POLICY).at == email.at  # decree 91's hours are for SMS


def test_caps_count_the_window_around_the_planned_time() -> None:
    later = [Planned(Channel.SMS, Purpose.ADVERTISING, NOON_VN + timedelta(hours=h), "x")
             for h in (1, 2, 3)]
    assert decide(sms(), Facts(ConsentStatus.GRANTED, planned=later), POLICY).reason == \
        Reason.FREQUENCY_CAP
    far = [Planned(Channel.SMS, Purpose.ADVERTISING, NOON_VN + timedelta(hours=h), "x")
           for h in (24, 25, 26)]
    assert decide(sms(), Facts(ConsentStatus.GRANTED, planned=far), POLICY).allowed


def test_a_message_deferred_past_quiet_hours_is_capped_at_its_new_time() -> None:
    morning = datetime(2026, 12, 2, 0, 0)
    busy = [Planned(Channel.SMS, Purpose.ADVERTISING, morning + timedelta(hours=h), "x")
            for h in (1, 2, 3)]
    d = decide(sms(datetime(2026, 12, 1, 16, 0)), Facts(ConsentStatus.GRANTED, planned=busy),
               POLICY)
    assert d.reason == Reason.FREQUENCY_CAP


def test_retailer_caps_across_channels_and_per_week() -> None:
    policy = MessagingPolicy(caps=[*POLICY.caps, Cap(purpose="any", window_hours=24 * 7, max=4)])
    week = [Planned(ch, Purpose.ADVERTISING, NOON_VN - timedelta(days=d), "x")
            for d, ch in enumerate((Channel.EMAIL, Channel.ZALO, Channel.PUSH, Channel.ZALO))]
    assert decide(sms(), Facts(ConsentStatus.GRANTED, planned=week), policy).reason == \
        Reason.FREQUENCY_CAP
    assert decide(sms(), Facts(ConsentStatus.GRANTED, planned=week[:3]), policy).allowed


def test_relaxed_consent_still_refuses_an_opt_out() -> None:
    relaxed = MessagingPolicy(require_advertising_consent=False)
    assert decide(sms(), Facts(None), relaxed).allowed
    assert decide(sms(), Facts(ConsentStatus.REVOKED), relaxed).reason == Reason.OPTED_OUT


def test_caps_cannot_be_loosened_past_decree_91() -> None:
    with pytest.raises(ValidationError, match="decree 91"):
        MessagingPolicy(caps=[Cap(channel=Channel.SMS, max=5),
                              Cap(channel=Channel.EMAIL, max=3)])
    tighter = MessagingPolicy(caps=[Cap(channel=Channel.SMS, max=1),
                                    Cap(channel=Channel.EMAIL, max=2)])
    assert decide(sms(), Facts(ConsentStatus.GRANTED, planned=planned(1)), tighter).reason == \
        Reason.FREQUENCY_CAP


def test_care_quiet_hours_are_the_retailers_choice() -> None:
    policy = MessagingPolicy(quiet_hours=[*POLICY.quiet_hours,
                                          QuietHours(purpose=Purpose.CARE, start=time(23),
                                                     end=time(6))])
    at = datetime(2026, 12, 1, 16, 30)  # 23:30
    assert decide(sms(at, purpose=Purpose.CARE), Facts(None), POLICY).at == at
    assert decide(sms(at, purpose=Purpose.CARE), Facts(None), policy).at == \
        datetime(2026, 12, 1, 23, 0)


def test_recheck_ignores_caps_but_not_consent_or_quiet_hours() -> None:
    full = Facts(ConsentStatus.GRANTED, planned=planned(3))
    assert recheck(sms(), full, POLICY).allowed
    assert recheck(sms(), Facts(ConsentStatus.REVOKED), POLICY).reason == Reason.OPTED_OUT
    assert recheck(sms(datetime(2026, 12, 1, 15, 1), quiet="drop"), GRANTED,
                   POLICY).reason == Reason.QUIET_HOURS
