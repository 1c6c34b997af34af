"""The outbox on both operational stores: the gate's decisions written atomically."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from sen.messaging.model import MESSAGE_SUPPRESSED, Channel, Purpose, Status
from sen.messaging.outbox import Budget, Sender, enqueue
from sen.messaging.policy import MessagingPolicy
from tests.messaging.conftest import NOON, VN, candidate, grant, pending, rows

AD = Sender(Purpose.ADVERTISING, campaign="c1")
POLICY = MessagingPolicy()


def test_allowed_messages_queue_and_refused_ones_are_recorded_with_events(ops: sa.Engine) -> None:
    grant(ops, 1, 2)
    done = enqueue(ops, [candidate(i) for i in (1, 2, 3)], AD, POLICY, zone=VN, now=NOON)
    assert (done.queued, dict(done.suppressed)) == (2, {"no_consent": 1})
    by_profile = {r.profile_id: r for r in rows(ops)}
    assert by_profile["p1"].status == Status.QUEUED
    assert by_profile["p3"].status == Status.SUPPRESSED
    assert by_profile["p3"].error == "no_consent"
    assert orjson.loads(by_profile["p1"].context) == {"name": "Khách 1"}
    [event] = pending(ops, MESSAGE_SUPPRESSED)
    props = orjson.loads(event.properties)
    assert (event.user_id, props["reason"], props["campaign_id"]) == ("user3", "no_consent", "c1")


def test_a_relaunch_skips_what_is_already_in_the_outbox(ops: sa.Engine) -> None:
    grant(ops, 1, 2)
    enqueue(ops, [candidate(1)], AD, POLICY, zone=VN, now=NOON)
    again = enqueue(ops, [candidate(1), candidate(2), candidate(3)], AD, POLICY, zone=VN,
                    now=NOON)
    assert (again.existing, again.queued, sum(again.suppressed.values())) == (1, 1, 1)
    assert len(rows(ops)) == 3
    assert len(pending(ops, MESSAGE_SUPPRESSED)) == 1


def test_caps_count_earlier_campaigns(ops: sa.Engine) -> None:
    grant(ops, 1)
    for n in range(4):
        enqueue(ops, [candidate(1, f"c{n}", template=f"t{n}")],
                Sender(Purpose.ADVERTISING, campaign=f"c{n}"), POLICY, zone=VN,
                now=NOON + timedelta(minutes=n))
    assert [r.status for r in rows(ops)] == ["queued"] * 3 + ["suppressed"]
    assert rows(ops)[-1].error == "frequency_cap"


def test_quiet_hours_defer_to_seven_and_drop_when_asked(ops: sa.Engine) -> None:
    grant(ops, 1, 2)
    late = datetime(2026, 12, 1, 15, 30)  # 22:30 in Hanoi
    enqueue(ops, [candidate(1, at=late)], AD, POLICY, zone=VN, now=late)
    enqueue(ops, [candidate(2, at=late)], Sender(Purpose.ADVERTISING, campaign="c1",
                                                 quiet="drop"), POLICY, zone=VN, now=late)
    one, two = rows(ops)
    assert (one.status, one.due_at) == (Status.QUEUED, datetime(2026, 12, 2, 0, 0))
    assert (two.status, two.error) == (Status.SUPPRESSED, "quiet_hours")


def test_the_fallback_chain_takes_the_first_channel_the_gate_allows(ops: sa.Engine) -> None:
    grant(ops, 1, channel=Channel.SMS)
    grant(ops, 1, 2, channel=Channel.ZALO)
    chain = (Channel.ZALO, Channel.SMS)
    enqueue(ops, [candidate(1, channels=chain), candidate(2, channels=chain),
                  candidate(3, channels=chain)], AD, POLICY, zone=VN, now=NOON)
    p1, p2, p3 = rows(ops)
    assert (p1.channel, orjson.loads(p1.fallback)) == ("zalo", [["sms", "t", "+84910000001"]])
    assert p2.channel == "zalo"  # its SMS fallback is judged by the gate if Zalo fails
    assert (p3.status, p3.error) == ("suppressed", "no_consent")
    props = orjson.loads(pending(ops, MESSAGE_SUPPRESSED)[0].properties)
    assert props["reasons"] == {"zalo": "no_consent", "sms": "no_consent"}


def test_budget_stops_queuing_when_spent(ops: sa.Engine) -> None:
    grant(ops, *range(5))
    done = enqueue(ops, [candidate(i) for i in range(5)], AD, POLICY, zone=VN, now=NOON,
                   budget=Budget(left=2000, cost=lambda route, c: 700))
    assert (done.queued, done.cost, dict(done.suppressed)) == (2, 1400, {"budget": 3})


def test_a_dry_run_writes_nothing(ops: sa.Engine) -> None:
    grant(ops, 1)
    done = enqueue(ops, [candidate(1), candidate(2)], AD, POLICY, zone=VN, now=NOON,
                   dry_run=True)
    assert (done.queued, dict(done.suppressed)) == (1, {"no_consent": 1})
    assert rows(ops) == []
    assert pending(ops, MESSAGE_SUPPRESSED) == []


def test_two_campaigns_launched_together_never_share_the_last_slot(ops: sa.Engine) -> None:
    """Each recipient has one slot left under decree 91's cap; two campaigns race for it."""
    people = range(40)
    grant(ops, *people)
    for n in range(2):  # two slots already used for everyone
        enqueue(ops, [candidate(i, f"old{n}", template=f"old{n}") for i in people],
                Sender(Purpose.ADVERTISING, campaign=f"old{n}"), POLICY, zone=VN, now=NOON)
    start = threading.Barrier(2)

    def launch(name: str) -> None:
        start.wait()
        enqueue(ops, [candidate(i, name, template=name) for i in people],
                Sender(Purpose.ADVERTISING, campaign=name), POLICY, zone=VN, now=NOON, chunk=7)

    threads = [threading.Thread(target=launch, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = [r for r in rows(ops) if r.status == Status.QUEUED]
    per_person = {i: sum(1 for r in live if r.profile_id == f"p{i}") for i in people}
    assert set(per_person.values()) == {3}
    new = [r for r in rows(ops) if r.campaign in ("a", "b")]
    assert len(new) == 80
    assert sum(r.status == Status.QUEUED for r in new) == 40
