"""Messages per second per recipient domain, on a clock the test moves."""

from __future__ import annotations

import pytest

from sen.errors import ProviderError
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers.throttle import Busy, DomainThrottle
from tests.messaging.providers.test_smtp import provider


class Clock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def care(address: str, key: str) -> OutgoingMessage:
    return OutgoingMessage(id=1, key=key, channel=Channel.EMAIL, purpose=Purpose.CARE,
                           address=address, body="Đơn hàng đã giao", subject="Đơn hàng")


def test_slots_are_spaced_by_the_rate_and_domains_do_not_share() -> None:
    throttle = DomainThrottle({"gmail.com": 4})
    assert [throttle.reserve("gmail.com", 0.0, 10) for _ in range(4)] == [0, 0.25, 0.5, 0.75]
    assert throttle.reserve("yahoo.com", 0.0, 10) == 0  # not limited
    assert throttle.reserve("gmail.com", 5.0, 10) == 0  # time passed: no backlog kept


def test_subdomains_follow_their_domain_and_the_longest_rule_wins() -> None:
    throttle = DomainThrottle({"yahoo.com": 1, "mail.yahoo.com": 10}, default=2)
    assert throttle.rule("sub.yahoo.com") == ("yahoo.com", 1)
    assert throttle.rule("mail.yahoo.com") == ("mail.yahoo.com", 10)
    assert throttle.rule("fpt.vn") == ("fpt.vn", 2)


def test_a_wait_over_the_limit_takes_no_slot() -> None:
    throttle = DomainThrottle({"gmail.com": 1})
    throttle.reserve("gmail.com", 0.0, 0.5)
    with pytest.raises(Busy) as caught:
        throttle.reserve("gmail.com", 0.0, 0.5)
    assert caught.value.retry_after == pytest.approx(1.0)
    assert throttle.reserve("gmail.com", 1.0, 0.5) == 0  # the refused call took nothing


def test_the_provider_waits_for_each_slot_and_keeps_the_rate(relay, ca_file) -> None:
    clock = Clock()
    sender = provider(relay, ca_file, domain_rates={"gmail.com": 2}, max_throttle_wait_s=1,
                      extra={"clock": clock, "sleep": clock.sleep})
    sent_at = []
    for i in range(5):
        sender.send(care("khach@gmail.com", f"g{i}"))
        sent_at.append(clock.now)
    sender.send(care("khach@fpt.vn", "other"))
    sender.close()
    assert clock.sleeps == [0.5, 0.5, 0.5, 0.5]  # the other domain waited for nothing
    assert [b - a for a, b in zip(sent_at, sent_at[1:], strict=False)] == [0.5] * 4
    assert len(relay.messages) == 6


def test_a_long_wait_becomes_a_transient_error_with_retry_after(relay, ca_file) -> None:
    clock = Clock()
    sender = provider(relay, ca_file, domain_rates={"gmail.com": 0.2}, max_throttle_wait_s=1,
                      extra={"clock": clock, "sleep": clock.sleep})
    sender.send(care("a@gmail.com", "first"))
    with pytest.raises(ProviderError) as caught:
        sender.send(care("b@gmail.com", "second"))
    sender.close()
    assert caught.value.transient and caught.value.code == "throttled"
    assert caught.value.retry_after == pytest.approx(5.0)
    assert clock.sleeps == [] and len(relay.messages) == 1
