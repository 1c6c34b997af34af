"""eSMS against the eSMS sandbox over real HTTP: request shape, idempotency through
RequestId, bulk advertising, every failure, and receipts and keyword replies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sen.demo.sandbox import EsmsSandbox, serve_in_thread
from sen.errors import AuthError, ConfigError, ProviderError
from sen.messaging.model import Purpose, SendResult, Status
from sen.messaging.providers import build
from sen.messaging.providers.esms import EsmsConfig, EsmsProvider, EsmsSecrets
from sen.messaging.providers.esms_webhook import parse_webhook
from tests.messaging.providers.support import message

KEYS = {"api_key": "esms-api-key", "secret_key": "esms-secret"}


@pytest.fixture
def sandbox() -> Iterator[tuple[EsmsSandbox, str]]:
    box = EsmsSandbox(hang_s=1.0, undeliverable=("0900000009",))
    with serve_in_thread(box.app()) as url:
        yield box, url
    box.close()


def provider(url: str, *, secrets: dict | None = None, **config) -> EsmsProvider:
    settings = {"brandname": "SENSHOES", "base_url": url + "/MainService.svc/json",
                "price_care": 700, "price_advertising": 800, "timeout_s": 0.4} | config
    return EsmsProvider("esms-main", EsmsConfig(**settings),
                        EsmsSecrets(**(KEYS | (secrets or {}))))


def ads(n: int, text: str = "[QC] Giam 20% toan bo giay da. Tu choi: TC SENSHOES gui 8079",
        first: int = 0) -> list:
    return [message(f"ad-{i}", f"+8491{i:07d}", text, purpose=Purpose.ADVERTISING, id=i)
            for i in range(first, first + n)]


def test_customer_care_goes_one_by_one_with_the_key_as_request_id(sandbox) -> None:
    box, url = sandbox
    result = provider(url).send(message("order-42-shipped", unicode=True,
                                        body="Đơn hàng DH42 đã giao"))
    [taken] = box.messages()
    assert (taken.phone, taken.text, taken.request_id) == ("0912345678", "Đơn hàng DH42 đã giao",
                                                          "order-42-shipped")
    assert taken.extra == {"sms_type": "2", "brandname": "SENSHOES", "unicode": "1"}
    assert result == SendResult(taken.provider_id, 700)


def test_esms_sandbox_mode_checks_without_sending(sandbox) -> None:
    box, url = sandbox
    assert provider(url, sandbox=True).send(message()).provider_id
    with pytest.raises(ProviderError):
        provider(url, sandbox=True, brandname="NOBODY").send(message())
    assert box.messages() == []


def test_a_resend_with_the_same_key_is_recognised_and_sent_once(sandbox) -> None:
    box, url = sandbox
    esms = provider(url)
    first = esms.send(message("order-7"))
    again = esms.send(message("order-7"))
    assert not first.duplicate and again.duplicate and again.provider_id is None
    assert box.count("0912345678") == 1


def test_a_message_taken_before_a_timeout_is_not_sent_twice(sandbox) -> None:
    box, url = sandbox
    esms = provider(url)
    box.faults.inject("accept_timeout")
    with pytest.raises(ProviderError) as caught:
        esms.send(message("order-8"))
    assert caught.value.transient and caught.value.code == "timeout"
    assert esms.send(message("order-8")).duplicate
    assert box.count("0912345678") == 1


def test_keys_longer_than_request_id_allows_are_digested_stably(sandbox) -> None:
    box, url = sandbox
    esms, key = provider(url), "campaign:spring-sale:" + "x" * 60
    esms.send(message(key))
    assert esms.send(message(key)).duplicate
    [taken] = box.messages()
    assert len(taken.request_id) <= 50 and taken.request_id != key


@pytest.mark.parametrize(("fault", "code"), [("timeout", "timeout"), ("500", "500"),
                                             ("malformed", "malformed")])
def test_transport_failures_are_transient(sandbox, fault: str, code: str) -> None:
    box, url = sandbox
    box.faults.inject(fault)
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.transient and not caught.value.recipient and caught.value.code == code
    assert box.count("0912345678") == 0


def test_429_is_transient_and_says_when_to_retry(sandbox) -> None:
    box, url = sandbox
    box.faults.inject("429", retry_after=12)
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.transient and caught.value.retry_after == 12


@pytest.mark.parametrize(("setup", "code", "setting"), [
    ({"secrets": {"secret_key": "wrong"}}, "101", "secret_key"),
    ({"brandname": "NOBODY"}, "104", "brandname"),
])
def test_wrong_settings_are_terminal_and_name_the_setting(sandbox, setup, code, setting) -> None:
    _, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, **setup).send(message())
    error = caught.value
    assert (error.code, error.transient, error.recipient) == (code, False, False)
    assert setting in error.hint


def test_no_balance_is_terminal(sandbox) -> None:
    box, url = sandbox
    box.balance = 100
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.code == "103" and not caught.value.transient
    assert "Top up" in caught.value.hint


@pytest.mark.parametrize(("address", "code"), [("+8491234", "108"), ("+84900000001", "99")])
def test_number_problems_are_about_the_recipient(sandbox, address: str, code: str) -> None:
    box, url = sandbox
    box.blocked.add("0900000001")
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message(address=address))
    assert caught.value.recipient and caught.value.code == code and not caught.value.transient


def test_advertising_goes_in_one_bulk_request_per_text(sandbox) -> None:
    box, url = sandbox
    batch = ads(30) + [message("care-1", "+84987654321")] + ads(2, "[QC] Other text", 40)
    results = provider(url).send_batch(batch)
    assert [type(r) for r in results] == [SendResult] * 31 + [ProviderError] * 2
    ad_ids = {r.provider_id for r in results[:30]}
    assert len(ad_ids) == 1 and results[30].provider_id not in ad_ids
    assert all(r.cost == 800 for r in results[:30])
    assert {r.code for r in results[31:]} == {"107"}  # two numbers cannot make a bulk request
    taken = [m for m in box.messages() if m.extra["sms_type"] == "1"]
    assert len(taken) == 30 and len({m.request_id for m in taken}) == 1
    assert box.count("0987654321") == 1 and box.count("0910000040") == 0


def test_a_bulk_request_sent_again_is_recognised(sandbox) -> None:
    box, url = sandbox
    esms = provider(url)
    esms.send_batch(ads(35))
    again = esms.send_batch(list(reversed(ads(35))))
    assert all(isinstance(r, SendResult) and r.duplicate for r in again)
    assert len(box.messages()) == 35


def test_single_advertising_is_refused_in_bulk_mode_before_any_request(sandbox) -> None:
    box, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url).send(ads(1)[0])
    assert caught.value.code == "107" and "advertising_mode" in caught.value.hint
    assert box.messages() == []


def test_single_mode_advertising_where_esms_does_not_allow_it(sandbox) -> None:
    box, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, advertising_mode="single").send(ads(1)[0])
    assert caught.value.code == "118" and "advertising_mode" in caught.value.hint
    box.single_advertising = True
    provider(url, advertising_mode="single").send(ads(1)[0])
    assert box.messages()[0].extra["sms_type"] == "1"


def test_cost_is_parts_times_the_price_of_the_purpose(sandbox) -> None:
    _, url = sandbox
    esms = provider(url)
    assert esms.estimate_cost(message(body="a" * 161)) == 2 * 700
    assert esms.estimate_cost(message(body="Đ" * 70, purpose=Purpose.ADVERTISING)) == 800
    assert esms.estimate_cost(message(body="Đ" * 71, purpose=Purpose.ADVERTISING)) == 1600


def test_receipts_come_back_to_the_callback_url(sandbox, catcher) -> None:
    box, url = sandbox
    (caught, hook) = catcher
    secrets = {"callback_token": "cb-secret"}
    esms = provider(url, callback_url=hook + "/hooks/esms", secrets=secrets)
    sent = esms.send(message("order-9"))
    failed = esms.send(message("order-10", "+84900000009"))
    calls = caught.wait(2)
    assert all(c.method == "GET" and c.query["token"] == "cb-secret" for c in calls)
    receipts = {r.key: r for c in calls
                for r in parse_webhook(c, esms.config, esms.secrets).receipts}
    ok, bad = receipts["order-9"], receipts["order-10"]
    assert (ok.status, ok.provider_id, ok.address, ok.cost) == (
        Status.DELIVERED, sent.provider_id, "+84912345678", 700)
    assert (bad.status, bad.provider_id, bad.address) == (
        Status.FAILED, failed.provider_id, "+84900000009")


def test_bulk_receipts_are_one_aggregate_without_a_number(sandbox, catcher) -> None:
    _, url = sandbox
    (caught, hook) = catcher
    esms = provider(url, callback_url=hook + "/hooks/esms")
    results = esms.send_batch(ads(40))
    [call] = caught.wait(1)
    [receipt] = parse_webhook(call, esms.config, esms.secrets).receipts
    assert receipt.provider_id == results[0].provider_id and receipt.address is None
    assert receipt.status == Status.DELIVERED and receipt.cost == 800


def test_a_receipt_without_the_callback_token_is_refused(sandbox) -> None:
    from sen.messaging.providers.base import WebhookRequest

    esms = provider(sandbox[1], secrets={"callback_token": "cb-secret"})
    forged = WebhookRequest("GET", {"SMSID": "x", "SendStatus": "5", "SendSuccess": "1",
                                    "token": "guess"})
    with pytest.raises(AuthError):
        parse_webhook(forged, esms.config, esms.secrets)


def test_keyword_replies_from_the_short_code_are_checked_and_read(sandbox, catcher) -> None:
    box, url = sandbox
    (caught, hook) = catcher
    box.mo_url = hook + "/hooks/esms"
    esms = provider(url, secrets={"mo_private_key": "esms-mo-key"}, opt_out_reply="Da huy")
    box.simulate_inbound("0912345678", "TC SENSHOES")
    box.simulate_inbound("0912345678", "Khi nao co hang size 39?")
    calls = caught.wait(2)
    results = [parse_webhook(c, esms.config, esms.secrets) for c in calls]
    stop, question = (r.inbound[0] for r in results)
    assert (stop.address, stop.opt_out, question.opt_out) == ("+84912345678", True, False)
    assert stop.at is not None and b"<Message>Da huy</Message>" in results[0].reply
    assert b"<Message></Message>" in results[1].reply
    wrong = provider(url, secrets={"mo_private_key": "another"})
    with pytest.raises(AuthError):
        parse_webhook(calls[0], wrong.config, wrong.secrets)
    with pytest.raises(AuthError):
        parse_webhook(calls[0], esms.config, EsmsSecrets(**KEYS))


def test_the_registry_builds_esms_and_checks_its_settings(sandbox) -> None:
    _, url = sandbox
    built = build("esms", "esms-main", {"brandname": "SENSHOES",
                                        "base_url": url + "/MainService.svc/json"}, KEYS)
    assert isinstance(built, EsmsProvider) and built.idempotent and built.max_batch == 5000
    assert built.send(message()).provider_id
    with pytest.raises(ConfigError):
        build("esms", "esms-main", {"brandname": "SENSHOES", "price_care": -1}, KEYS)
