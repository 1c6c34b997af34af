"""The configurable HTTP gateway, configured for two different vendors: the generic
gateway sandbox (bearer token, form body) and SpeedSMS (Basic auth, JSON list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sen.demo.sandbox import HttpSmsSandbox, SpeedSmsSandbox, serve_in_thread
from sen.errors import AuthError, ProviderError, ValidationError
from sen.messaging.model import Status
from sen.messaging.providers.base import WebhookRequest
from sen.messaging.providers.http_sms import (
    HttpSmsConfig,
    HttpSmsProvider,
    HttpSmsSecrets,
    fill,
    parse_webhook,
)
from tests.messaging.providers.support import message

GATEWAY = {
    "auth": "bearer", "body": "form", "phone_format": "international", "brandname": "SENSHOES",
    "template": {"msisdn": "{phone}", "message": "{text}", "sender": "{brandname}",
                 "ref": "{key}"},
    "success_path": "result.code", "success_values": ["0"], "id_path": "result.id",
    "error_path": "result.code", "message_path": "result.desc", "recipient_errors": ["E12"],
    "receipt_id_path": "id", "receipt_status_path": "stat", "receipt_phone_path": "msisdn",
    "delivered_values": ["DELIVRD"], "pending_values": ["ENROUTE"],
    "inbound_phone_path": "from", "inbound_text_path": "text", "price_care": 500,
    "timeout_s": 0.4,
}


@pytest.fixture
def gateway() -> Iterator[tuple[HttpSmsSandbox, str]]:
    box = HttpSmsSandbox(hang_s=1.0, undeliverable=("84900000009",))
    with serve_in_thread(box.app()) as url:
        yield box, url
    box.close()


def provider(url: str, token: str = "gateway-token", **config) -> HttpSmsProvider:
    return HttpSmsProvider("gw", HttpSmsConfig(**(GATEWAY | {"url": url + "/api/v1/sms"}
                                                  | config)),
                           HttpSmsSecrets(token=token, webhook_token="wh"))


def test_fill_replaces_placeholders_in_nested_templates() -> None:
    template = {"to": ["{phone}"], "text": "{text} ({brandname})", "n": 3, "u": "{unicode}"}
    assert fill(template, {"phone": "8491", "text": "Hi", "brandname": "SEN", "unicode": "1"}
                ) == {"to": ["8491"], "text": "Hi (SEN)", "n": 3, "u": "1"}


def test_a_message_goes_as_configured(gateway) -> None:
    box, url = gateway
    result = provider(url).send(message("k-1"))
    [taken] = box.messages()
    assert (taken.phone, taken.request_id, taken.extra["sender"]) == (
        "84912345678", "k-1", "SENSHOES")
    assert (result.provider_id, result.cost) == (taken.provider_id, 500)


def test_a_wrong_token_is_terminal(gateway) -> None:
    _, url = gateway
    with pytest.raises(ProviderError) as caught:
        provider(url, token="nope").send(message())
    assert caught.value.code == "401" and not caught.value.transient and "auth" in \
        caught.value.hint


def test_listed_error_codes_are_about_the_recipient_others_are_terminal(gateway) -> None:
    _, url = gateway
    with pytest.raises(ProviderError) as bad_number:
        provider(url).send(message(address="+84123"))
    assert bad_number.value.recipient and bad_number.value.code == "E12"
    with pytest.raises(ProviderError) as bad_sender:
        provider(url, brandname="NOBODY").send(message())
    assert not bad_sender.value.recipient and bad_sender.value.code == "E20"
    assert "unknown sender" in bad_sender.value.message


@pytest.mark.parametrize(("fault", "code"), [("timeout", "timeout"), ("500", "500"),
                                             ("malformed", "malformed"), ("429", "429")])
def test_transport_failures_are_transient(gateway, fault: str, code: str) -> None:
    box, url = gateway
    box.faults.inject(fault, retry_after=4)
    with pytest.raises(ProviderError) as caught:
        provider(url).send(message())
    assert caught.value.transient and caught.value.code == code
    if fault == "429":
        assert caught.value.retry_after == 4


def test_receipts_and_replies_through_the_configured_paths(gateway, catcher) -> None:
    box, url = gateway
    (caught, hook) = catcher
    box.report_url = hook + "/hooks/gw?token=wh"
    gw = provider(url)
    ok, bad = gw.send(message("a")), gw.send(message("b", "+84900000009"))
    box.simulate_inbound("+84912345678", "Huy QC")
    calls = caught.wait(3)
    results = [parse_webhook(c, gw.config, gw.secrets) for c in calls]
    receipts = {r.provider_id: r for res in results for r in res.receipts}
    [reply] = [i for res in results for i in res.inbound]
    assert receipts[ok.provider_id].status == Status.DELIVERED
    assert (receipts[bad.provider_id].status, receipts[bad.provider_id].address) == (
        Status.FAILED, "+84900000009")
    assert reply.opt_out and reply.address == "+84912345678"
    pending = WebhookRequest("POST", {"token": "wh"}, {}, b'{"id":"GW1","stat":"ENROUTE"}')
    assert parse_webhook(pending, gw.config, gw.secrets).receipts[0].status == Status.SENT
    with pytest.raises(AuthError):
        parse_webhook(WebhookRequest("POST", {}, {}, calls[0].body), gw.config, gw.secrets)
    with pytest.raises(ValidationError):
        parse_webhook(WebhookRequest("POST", {"token": "wh"}, {}, b"{}"), gw.config, gw.secrets)


def test_the_same_provider_speaks_speedsms_when_configured_so(catcher) -> None:
    (caught, hook) = catcher
    box = SpeedSmsSandbox(report_url=hook + "/hooks/speed")
    config = {
        "auth": "basic", "body": "json", "phone_format": "international",
        "template": {"to": ["{phone}"], "content": "{text}", "sms_type": 3,
                     "sender": "{brandname}"}, "brandname": "SENSHOES",
        "success_path": "status", "success_values": ["success"], "id_path": "data.tranId",
        "error_path": "code", "message_path": "message", "recipient_errors": ["105"],
        "receipt_id_path": "tranId", "receipt_status_path": "status",
        "receipt_phone_path": "phone", "delivered_values": ["0"]}
    with serve_in_thread(box.app()) as url:
        gw = HttpSmsProvider("speed-generic", HttpSmsConfig(url=url + "/index.php/sms/send",
                                                            **config),
                             HttpSmsSecrets(username="speedsms-token", password="x"))
        result = gw.send(message())
        [call] = caught.wait(1)
    box.close()
    [receipt] = parse_webhook(call, gw.config, gw.secrets).receipts
    assert box.count("84912345678") == 1
    assert (receipt.provider_id, receipt.status) == (result.provider_id, Status.DELIVERED)
