"""Dispatch end to end on both operational stores, against local eSMS and Zalo servers.

Messages go through the real gate, outbox, composer (templates, tracked links,
coupons), provider pool and providers; the sandboxes speak eSMS's and Zalo's
documented wire formats and count what they received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from sen.config import get_settings
from sen.demo.sandbox import EsmsSandbox, ZaloSandbox, serve_in_thread
from sen.messaging import coupons, provider_store, receipts, templates
from sen.messaging.dispatch import claim
from sen.messaging.model import (
    COUPON_ISSUED,
    MESSAGE_DELIVERED,
    MESSAGE_FAILED,
    MESSAGE_SENT,
    MESSAGE_SUPPRESSED,
    Channel,
    ConsentStatus,
    Purpose,
    Status,
)
from sen.messaging.outbox import Sender, enqueue
from sen.messaging.policy import MessagingPolicy
from sen.messaging.providers.esms_webhook import parse_webhook as esms_hook
from sen.messaging.runtime import Messaging
from sen.messaging.templates import Template, ZnsSpec
from tests.messaging.conftest import NOON, VN, candidate, grant, pending, rows
from tests.messaging.providers.support import Catcher

SMS_TEXT = ("Chào {{ first_name | default('bạn') }}, Vela giảm 30% tại https://vela.vn/sale "
            "mã {{ coupon }}")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


@dataclass
class Harness:
    ops: sa.Engine
    messaging: Messaging
    clock: Clock
    esms: EsmsSandbox
    zalo: ZaloSandbox
    catcher: Catcher

    def dispatcher(self, **kw: Any) -> Any:
        return self.messaging.dispatcher(**kw)

    def enqueue(self, *people: int, key: str = "c1", at: datetime | None = None,
                channels: tuple[Channel, ...] = (Channel.SMS,), template: str = "sale",
                quiet: str = "wait") -> Any:
        sender = Sender(Purpose.ADVERTISING, campaign=key, quiet=quiet)  # type: ignore[arg-type]
        return enqueue(self.ops, [replace(candidate(i, key, at=at or self.clock(),
                                                    channels=channels, template=template),
                                          context={"first_name": f"Lan{i}"}) for i in people],
                       sender, MessagingPolicy(), zone=VN, now=self.clock())


def national(phone: str) -> str:
    return "0" + phone.removeprefix("+84")


@pytest.fixture
def harness(ops: sa.Engine, tmp_path: Path) -> Iterator[Harness]:
    catcher = Catcher()
    esms = EsmsSandbox(single_advertising=True, undeliverable=())
    zalo = ZaloSandbox(no_zalo=("84910000003",), templates={"990011": {"ten", "ma"}})
    access, refresh = zalo.issue_tokens()
    with serve_in_thread(catcher.app()) as hook, serve_in_thread(esms.app()) as esms_url, \
            serve_in_thread(zalo.app()) as zalo_url:
        settings = get_settings(data_dir=tmp_path, public_url="http://sen.test",
                                link_base_url="https://s.sen.test")
        clock = Clock(NOON)
        m = Messaging(settings, None, ops, clock=clock)
        provider_store.save(ops, m.box, name="esms", kind="esms", config={
            "brandname": "SENSHOES", "base_url": f"{esms_url}/MainService.svc/json",
            "advertising_mode": "single", "price_advertising": 800, "callback_url": f"{hook}/esms"},
            secrets={"api_key": "esms-api-key", "secret_key": "esms-secret"}, now=NOON)
        provider_store.save(ops, m.box, name="zalo", kind="zalo", config={
            "app_id": zalo.app_id, "base_url": zalo_url, "oauth_base_url": zalo_url},
            secrets={"app_secret": zalo.app_secret, "oa_secret_key": zalo.oa_secret_key,
                     "refresh_token": refresh, "access_token": access}, now=NOON)
        coupons.create_pool(ops, "bf", "Black Friday", prefix="BF", offer="Giảm 30%",
                            valid_days=14)
        templates.save(ops, Template(name="sale", title="Sale", channel=Channel.SMS,
                                     purpose=Purpose.ADVERTISING, body=SMS_TEXT,
                                     coupon_pool="bf"))
        templates.save(ops, Template(name="sale-zns", title="Sale ZNS", channel=Channel.ZALO,
                                     purpose=Purpose.ADVERTISING, coupon_pool="bf",
                                     zns=ZnsSpec(template_id="990011", params={
                                         "ten": "first_name | default('bạn')",
                                         "ma": "coupon"})))
        yield Harness(ops, m, clock, esms, zalo, catcher)


def test_a_message_is_rendered_sent_and_logged_once(harness: Harness) -> None:
    grant(harness.ops, 1, 2)
    harness.enqueue(1, 2)
    done = harness.dispatcher().drain()
    assert done.sent == 2
    got = {m.phone: m.text for m in harness.esms.messages()}
    assert set(got) == {national("+84910000001"), national("+84910000002")}
    text = got[national("+84910000001")]
    assert text.startswith("[QC] Chào Lan1, Vela giảm 30% tại https://s.sen.test/l/")
    assert "vela.vn" not in text  # the link is tracked
    assert "Tu choi" in text or "Từ chối" in text  # decree 91's opt-out instruction
    sent = rows(harness.ops)
    assert {r.status for r in sent} == {Status.SENT}
    for r in sent:
        assert r.provider_id and r.coupon and r.coupon in r.body
        assert orjson.loads(r.links) == ["https://vela.vn/sale"]
        assert re.search(r"mã BF[0-9A-Z]+", r.body)
    assert len({r.coupon for r in sent}) == 2
    assert len(pending(harness.ops, MESSAGE_SENT)) == 2
    assert len(pending(harness.ops, COUPON_ISSUED)) == 2
    assert harness.dispatcher().drain().total() == 0  # nothing is sent twice


def test_receipts_from_the_provider_mark_messages_delivered(harness: Harness) -> None:
    grant(harness.ops, 1, 2)
    harness.enqueue(1, 2)
    harness.dispatcher().drain()
    caught = harness.catcher.wait(2)
    found = [r for req in caught for r in esms_hook(
        req, *_esms_models(harness)).receipts]
    done = receipts.apply_receipts(harness.ops, found, now=harness.clock(),
                                   policy=MessagingPolicy(), zone=VN)
    assert done.matched == 2 and done.unmatched == 0
    assert {r.status for r in rows(harness.ops)} == {Status.DELIVERED}
    again = receipts.apply_receipts(harness.ops, found, now=harness.clock(),
                                    policy=MessagingPolicy(), zone=VN)
    assert again.matched == 2
    assert len(pending(harness.ops, MESSAGE_DELIVERED)) == 2  # a repeated callback adds nothing


def _esms_models(h: Harness) -> tuple[Any, Any]:
    from sen.messaging.providers import KINDS

    spec = KINDS["esms"]
    account = provider_store.account(h.ops, h.messaging.box, "esms")
    with h.ops.connect() as con:
        from sen.store.operational import providers

        sealed = con.execute(sa.select(providers.c.secrets)
                             .where(providers.c.name == "esms")).scalar_one()
    return (spec.config.model_validate(account.config),
            spec.secrets.model_validate(h.messaging.box.open(sealed)))


def test_a_message_queued_at_2159_does_not_go_out_at_2201(harness: Harness) -> None:
    grant(harness.ops, 1, 2)
    late = datetime(2026, 12, 1, 14, 59)  # 21:59 in Hanoi
    harness.clock.at = late
    harness.enqueue(1, key="wait")
    harness.enqueue(2, key="drop", quiet="drop")
    harness.clock.advance(minutes=2)  # 22:01
    done = harness.dispatcher().drain()
    assert (done.sent, done.deferred, done.suppressed) == (0, 1, 1)
    waiting, dropped = rows(harness.ops)
    assert (waiting.status, waiting.due_at) == (Status.QUEUED, datetime(2026, 12, 2, 0, 0))
    assert (dropped.status, dropped.error) == (Status.SUPPRESSED, "quiet_hours")
    assert harness.esms.messages() == []
    assert orjson.loads(pending(harness.ops, MESSAGE_SUPPRESSED)[0].properties)["stage"] == \
        "dispatch"
    harness.clock.at = datetime(2026, 12, 2, 0, 1)  # 07:01
    assert harness.dispatcher().drain().sent == 1


def test_consent_revoked_after_queuing_stops_the_message(harness: Harness) -> None:
    grant(harness.ops, 1, 2)
    harness.enqueue(1, 2)
    grant(harness.ops, 2, status=ConsentStatus.REVOKED, at=NOON + timedelta(seconds=1))
    done = harness.dispatcher().drain()
    assert (done.sent, harness.esms.count(national("+84910000002"))) == (1, 0)


def test_transient_failures_are_retried_with_backoff(harness: Harness) -> None:
    grant(harness.ops, 1)
    harness.enqueue(1)
    harness.esms.faults.inject("500", times=1)
    d = harness.dispatcher()
    assert d.run_once().retried == 1
    row = rows(harness.ops)[0]
    assert row.status == Status.QUEUED and row.next_attempt_at > harness.clock()
    assert d.run_once().total() == 0  # not before its time
    harness.clock.advance(minutes=5)
    assert d.drain().sent == 1
    assert harness.esms.count(national("+84910000001")) == 1


def test_a_reply_lost_after_the_provider_took_it_is_not_sent_twice(harness: Harness) -> None:
    """eSMS takes the message, the answer never comes; the retry carries the same
    RequestId, eSMS answers 124, and the customer has one SMS."""
    grant(harness.ops, 1)
    harness.enqueue(1)
    harness.esms.faults.inject("accept_timeout", times=1)
    d = harness.dispatcher()
    d.run_once()
    harness.clock.advance(minutes=5)
    d.drain()
    assert harness.esms.count(national("+84910000001")) == 1
    assert rows(harness.ops)[0].status == Status.SENT


def test_a_dispatcher_that_died_mid_send_is_recovered_safely(harness: Harness) -> None:
    grant(harness.ops, 1, channel=Channel.SMS)
    grant(harness.ops, 2, channel=Channel.ZALO)
    harness.enqueue(1)
    harness.enqueue(2, key="z", channels=(Channel.ZALO,), template="sale-zns")
    claim(harness.ops, Channel.SMS, "dead", 10, harness.clock(), "esms")
    claim(harness.ops, Channel.ZALO, "dead", 10, harness.clock(), "zalo")
    harness.clock.advance(minutes=3)  # past the lease
    harness.dispatcher(lease_s=120).drain()
    sms_row, zalo_row = rows(harness.ops)
    assert sms_row.status == Status.SENT  # eSMS drops a repeat: sent again safely
    assert zalo_row.status == Status.UNKNOWN  # Zalo does not: never resent blindly
    assert harness.zalo.messages() == []
    n = receipts.resolve_unknown(harness.ops, [zalo_row.id], "resend", now=harness.clock(),
                                 actor="lan")
    assert n == 1
    harness.dispatcher().drain()
    assert len(harness.zalo.messages()) == 1


def test_a_recipient_without_zalo_gets_the_sms_instead(harness: Harness) -> None:
    grant(harness.ops, 3, channel=Channel.ZALO)
    grant(harness.ops, 3, channel=Channel.SMS)
    sender = Sender(Purpose.ADVERTISING, campaign="fb")
    from sen.messaging.outbox import Candidate, Route

    c = Candidate(key="fb:p3", profile_id="p3", record="u:user3",
                  routes=(Route(Channel.ZALO, "sale-zns", "+84910000003"),
                          Route(Channel.SMS, "sale", "+84910000003")), at=NOON,
                  context={"first_name": "Hà"})
    enqueue(harness.ops, [c], sender, MessagingPolicy(), zone=VN, now=NOON)
    done = harness.dispatcher().drain()
    assert (done.failed, done.fallbacks, done.sent) == (1, 1, 1)
    zalo_row, sms_row = rows(harness.ops)
    assert (zalo_row.channel, zalo_row.status) == ("zalo", Status.FAILED)
    assert (sms_row.channel, sms_row.status, sms_row.fallback_of) == ("sms", Status.SENT,
                                                                       zalo_row.id)
    assert harness.esms.count(national("+84910000003")) == 1
    assert len(pending(harness.ops, MESSAGE_FAILED)) == 1


def test_a_provider_that_keeps_failing_opens_its_circuit(harness: Harness) -> None:
    grant(harness.ops, *range(1, 8))
    harness.enqueue(*range(1, 8))
    harness.esms.faults.inject("500", times=100)
    d = harness.dispatcher(batch=1, threads=1)
    for _ in range(5):
        d.run_once()
        harness.clock.advance(hours=2)  # past every backoff
    breaker = harness.messaging.pool().get(Channel.SMS).breaker
    assert breaker.current_state == "open"
    assert Channel.SMS not in harness.messaging.pool().channels()
    assert d.run_once().total() == 0  # nothing is claimed while it is open
    assert {r.status for r in rows(harness.ops)} == {Status.QUEUED}
