"""Whatever the recipients, consents, caps, clock times and concurrent campaigns: no
message reaches an opted-out customer, one over a cap, or one inside quiet hours,
and every refusal has its event.

Each example launches several campaigns at once (threads, so on PostgreSQL they
really race for the same recipients' slots), revokes some consents between
queuing and sending, and dispatches at clock times that cross nights, through
the real outbox and dispatcher to a local eSMS server. Then it reads what the
server received and checks the rules against it.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sen.config import get_settings
from sen.demo.sandbox import EsmsSandbox, serve_in_thread
from sen.messaging import provider_store, templates
from sen.messaging import settings as msettings
from sen.messaging.consent import ConsentChange, apply
from sen.messaging.model import (
    MESSAGE_SUPPRESSED,
    Channel,
    ConsentStatus,
    Purpose,
    Status,
)
from sen.messaging.outbox import Candidate, Route, Sender, enqueue
from sen.messaging.policy import Cap, MessagingPolicy
from sen.messaging.runtime import Messaging
from sen.messaging.templates import Template
from sen.store.operational import messages, pending_events
from tests.messaging.conftest import VN

START = datetime(2026, 12, 1, 0, 0)  # 07:00 in Hanoi
_examples = itertools.count()


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


recipient = st.fixed_dictionaries({
    "consent": st.sampled_from(["granted", "none", "revoked", "revoked_later"]),
})
campaign = st.fixed_dictionaries({
    "members": st.sets(st.integers(0, 7), min_size=1, max_size=8),
    "hour": st.integers(0, 47),  # planned time, hours after 07:00 on day one
    "quiet": st.sampled_from(["wait", "drop"]),
})
scenario = st.fixed_dictionaries({
    "people": st.lists(recipient, min_size=8, max_size=8),
    "campaigns": st.lists(campaign, min_size=2, max_size=4),
    "sms_cap": st.integers(1, 3),
    "any_cap": st.one_of(st.none(), st.integers(1, 4)),
    "dispatch_hours": st.lists(st.integers(0, 72), min_size=1, max_size=4),
})


def _policy(sms_cap: int, any_cap: int | None) -> MessagingPolicy:
    caps = [Cap(channel=Channel.SMS, window_hours=24, max=sms_cap),
            Cap(channel=Channel.EMAIL, window_hours=24, max=3)]
    if any_cap is not None:
        caps.append(Cap(purpose="any", window_hours=24, max=any_cap))
    return MessagingPolicy(caps=caps, duplicate_hours=0)


def _setup(ops: sa.Engine, tmp_path: Path, url: str) -> Messaging:
    settings_ = get_settings(data_dir=tmp_path, public_url="http://sen.test")
    m = Messaging(settings_, None, ops, clock=Clock())
    provider_store.save(ops, m.box, name="esms", kind="esms", config={
        "brandname": "SENSHOES", "base_url": f"{url}/MainService.svc/json",
        "advertising_mode": "single"},
        secrets={"api_key": "esms-api-key", "secret_key": "esms-secret"}, now=START)
    templates.save(ops, Template(name="ad", title="Ad", channel=Channel.SMS,
                                 purpose=Purpose.ADVERTISING,
                                 body="Uu dai cho {{ first_name | default('ban') }}"))
    return m


def test_no_message_breaks_consent_caps_or_quiet_hours(ops: sa.Engine, tmp_path: Path) -> None:
    esms = EsmsSandbox(single_advertising=True)
    with serve_in_thread(esms.app()) as url:
        m = _setup(ops, tmp_path, url)

        @settings(max_examples=25, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])
        @given(scenario)
        def check(sc: dict) -> None:
            run_example(m, esms, next(_examples), sc)

        check()


def _phone(example: int, i: int) -> str:
    return f"+8497{example:03d}{i:04d}"


def _consent(m: Messaging, phones: list[str], people: list[dict], *, later: bool) -> None:
    changes = []
    for phone, person in zip(phones, people, strict=True):
        state = person["consent"]
        if not later and state in ("granted", "revoked", "revoked_later"):
            status = ConsentStatus.REVOKED if state == "revoked" else ConsentStatus.GRANTED
        elif later and state == "revoked_later":
            status = ConsentStatus.REVOKED
        else:
            continue
        changes.append(ConsentChange(Channel.SMS, phone, Purpose.ADVERTISING, status, "api",
                                     m.clock() + timedelta(seconds=1 if later else 0)))
    apply(m.ops, changes, now=m.clock())


def run_example(m: Messaging, esms: EsmsSandbox, n: int, sc: dict) -> None:
    clock: Clock = m.clock  # type: ignore[assignment]
    clock.at = START
    m.ops.dispose()
    policy = _policy(sc["sms_cap"], sc["any_cap"])
    msettings.save_policy(m.ops, policy.model_dump(mode="json"), now=START)
    phones = [_phone(n, i) for i in range(8)]
    _consent(m, phones, sc["people"], later=False)
    barrier = threading.Barrier(len(sc["campaigns"]))

    def launch(k: int, c: dict) -> None:
        at = START + timedelta(hours=c["hour"])
        cands = [Candidate(key=f"e{n}:c{k}:p{i}", profile_id=f"e{n}p{i}", record=f"u:e{n}p{i}",
                           routes=(Route(Channel.SMS, "ad", phones[i]),), at=at,
                           context={"first_name": f"K{i}"}) for i in sorted(c["members"])]
        barrier.wait()
        enqueue(m.ops, cands, Sender(Purpose.ADVERTISING, campaign=f"e{n}c{k}",
                                     quiet=c["quiet"]), policy, zone=VN, now=START, chunk=3)

    threads = [threading.Thread(target=launch, args=(k, c))
               for k, c in enumerate(sc["campaigns"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _consent(m, phones, sc["people"], later=True)
    dispatcher = m.dispatcher()
    try:
        for hours in [*sorted(sc["dispatch_hours"]), 24 * 4]:
            clock.at = START + timedelta(hours=hours)
            dispatcher.drain()
    finally:
        dispatcher.close()
    _check(m, esms, n, sc, phones, policy)


def _check(m: Messaging, esms: EsmsSandbox, n: int, sc: dict, phones: list[str],
           policy: MessagingPolicy) -> None:
    national = {"0" + p.removeprefix("+84"): p for p in phones}
    received = [(national[a.phone], a.request_id) for a in esms.messages() if a.phone in national]
    with m.ops.connect() as con:
        rows = con.execute(sa.select(messages).where(
            messages.c.campaign.like(f"e{n}c%"))).all()
        logged = set(con.execute(sa.select(pending_events.c.message_id).where(
            pending_events.c.event == MESSAGE_SUPPRESSED)).scalars())
    by_id = {r.id: r for r in rows}
    sent = [r for r in rows if r.status in (Status.SENT, Status.DELIVERED)]
    # the provider received exactly what the outbox says was sent, once each
    assert sorted(f"sen{r.id}" for r in sent) == sorted(rid for _, rid in received)
    may = {p for p, person in zip(phones, sc["people"], strict=True)
           if person["consent"] == "granted"}
    by_address: dict[str, list[datetime]] = defaultdict(list)
    for r in sent:
        assert r.address in may, "a message reached someone without consent"
        local = r.sent_at.replace(tzinfo=VN.utcoffset(r.sent_at) and None)
        hour = (r.sent_at + timedelta(hours=7)).hour  # Hanoi has no daylight saving
        assert 7 <= hour < 22, f"sent at {hour}:00 local, inside quiet hours ({local})"
        by_address[r.address].append(r.sent_at)
        assert by_id[r.id].channel == "sms"
    cap = min(c.max for c in policy.caps if c.applies(Channel.SMS, Purpose.ADVERTISING))
    for times in by_address.values():
        times.sort()
        for i, t in enumerate(times):
            window = [x for x in times[i:] if x - t < timedelta(hours=24)]
            assert len(window) <= cap, f"{len(window)} messages within 24 h, cap {cap}"
    for r in rows:
        if r.status == Status.SUPPRESSED:
            assert f"suppressed:{r.key}" in logged, "a refusal without its event"
            assert r.error
