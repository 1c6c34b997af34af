"""SpeedSMS against its sandbox over real HTTP: Basic auth, the send body, the rate
limit's 429, error codes, and reports and replies on one webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sen.demo.sandbox import SpeedSmsSandbox, serve_in_thread
from sen.errors import AuthError, ProviderError, ValidationError
from sen.messaging.model import Purpose, SendResult, Status
from sen.messaging.providers.base import WebhookRequest
from sen.messaging.providers.speedsms import (
    SpeedSmsConfig,
    SpeedSmsProvider,
    SpeedSmsSecrets,
    parse_webhook,
    report_status,
)
from tests.messaging.providers.support import message


@pytest.fixture
def sandbox() -> Iterator[tuple[SpeedSmsSandbox, str]]:
    box = SpeedSmsSandbox(hang_s=1.0, undeliverable=("84900000009",))
    with serve_in_thread(box.app()) as url:
        yield box, url
    box.close()


def provider(url: str, token: str = "speedsms-token", **config) -> SpeedSmsProvider:
    settings = {"sender": "SENSHOES", "base_url": url + "/index.php", "price_care": 650,
                "timeout_s": 0.4} | config
    return SpeedSmsProvider("speed", SpeedSmsConfig(**settings),
                            SpeedSmsSecrets(access_token=token, webhook_token="wh"))


def test_a_message_goes_with_basic_auth_and_the_documented_body(sandbox) -> None:
    box, url = sandbox
    result = provider(url).send(message())
    [taken] = box.messages()
    assert (taken.phone, taken.extra) == ("84912345678", {"sms_type": 3, "sender": "SENSHOES"})
    assert result == SendResult(taken.provider_id, 600)  # SpeedSMS's own price wins
    assert not SpeedSmsProvider.idempotent


def test_a_wrong_token_is_terminal_and_names_the_secret(sandbox) -> None:
    _, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, token="wrong").send(message())
    assert caught.value.code == "401" and not caught.value.transient
    assert "access_token" in caught.value.hint


def test_the_rate_limit_answers_429_with_the_reset_header(sandbox) -> None:
    box, url = sandbox
    box.limit, box.window_s = 2, 30.0
    speed = provider(url)
    speed.send(message("a"))
    speed.send(message("b"))
    with pytest.raises(ProviderError) as caught:
        speed.send(message("c"))
    assert caught.value.transient and caught.value.code == "429"
    assert 25 <= caught.value.retry_after <= 30
    assert box.count("84912345678") == 2


def test_an_injected_429_carries_its_wait(sandbox) -> None:
    box, url = sandbox
    box.faults.inject("429", retry_after=7)
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.retry_after == 7


@pytest.mark.parametrize(("fault", "code"), [("timeout", "timeout"), ("500", "500"),
                                             ("malformed", "malformed")])
def test_transport_failures_are_transient(sandbox, fault: str, code: str) -> None:
    box, url = sandbox
    box.faults.inject(fault)
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.transient and caught.value.code == code


def test_internal_error_code_is_transient(sandbox) -> None:
    box, url = sandbox
    box.faults.inject("error", code="500")
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.transient and caught.value.code == "500"


def test_an_invalid_number_is_about_the_recipient(sandbox) -> None:
    _, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message(address="+841234"))
    assert caught.value.recipient and caught.value.code == "105"


@pytest.mark.parametrize(("setup", "code", "words"), [
    ({"config": {"sender": "NOBODY"}}, "101", "sender"),
    ({"balance": 10}, "300", "Top up"),
])
def test_account_problems_are_terminal(sandbox, setup, code, words) -> None:
    box, url = sandbox
    box.balance = setup.get("balance")
    with pytest.raises(ProviderError) as caught:
        provider(url, **setup.get("config", {})).send(message())
    assert (caught.value.code, caught.value.transient, caught.value.recipient) == (
        code, False, False)
    assert words in caught.value.hint


def test_advertising_needs_its_own_sms_type(sandbox) -> None:
    box, url = sandbox
    ad = message(purpose=Purpose.ADVERTISING, body="[QC] Sale 50%. Tu choi: TC")
    with pytest.raises(ProviderError) as caught:
        provider(url).send(ad)
    assert "advertising_sms_type" in caught.value.hint and box.messages() == []
    provider(url, advertising_sms_type=1).send(ad)
    assert box.messages()[0].extra["sms_type"] == 1


def test_reports_and_replies_arrive_on_one_webhook(sandbox, catcher) -> None:
    box, url = sandbox
    (caught, hook) = catcher
    box.report_url = hook + "/hooks/speedsms?token=wh"
    speed = provider(url)
    ok = speed.send(message("a"))
    bad = speed.send(message("b", "+84900000009"))
    box.simulate_inbound("0912345678", "Tu choi")
    calls = caught.wait(3)
    results = [parse_webhook(c, speed.config, speed.secrets) for c in calls]
    receipts = {r.provider_id: r for res in results for r in res.receipts}
    [reply] = [i for res in results for i in res.inbound]
    assert receipts[ok.provider_id].status == Status.DELIVERED
    assert receipts[bad.provider_id].status == Status.FAILED
    assert receipts[bad.provider_id].address == "+84900000009"
    assert (reply.address, reply.text, reply.opt_out) == ("+84912345678", "Tu choi", True)


def test_the_webhook_refuses_calls_without_the_token_and_non_reports(sandbox) -> None:
    speed = provider(sandbox[1])
    body = b'{"type":"report","tranId":1,"phone":"84912345678","status":0}'
    with pytest.raises(AuthError):
        parse_webhook(WebhookRequest("POST", {}, {}, body), speed.config, speed.secrets)
    with pytest.raises(ValidationError):
        parse_webhook(WebhookRequest("POST", {"token": "wh"}, {}, b"{}"), speed.config,
                      speed.secrets)


@pytest.mark.parametrize(("value", "status"), [(0, Status.DELIVERED), (1, Status.SENT),
                                               (63, Status.SENT), (64, Status.FAILED),
                                               ("100", Status.FAILED), ("x", None)])
def test_report_status(value, status) -> None:
    assert report_status(value) == status
