"""Zalo ZNS against the Zalo sandbox over real HTTP: the template request, expired
tokens renewed once with single-use refresh tokens, recipient errors, and the
signed delivery webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sen.demo.sandbox import ZaloSandbox, serve_in_thread
from sen.errors import AuthError, ProviderError
from sen.messaging.model import Channel, Purpose, Status
from sen.messaging.providers import build
from sen.messaging.providers.base import WebhookRequest
from sen.messaging.providers.tokens import MemoryTokenStore, TokenStore
from sen.messaging.providers.zalo import ZaloConfig, ZaloProvider, ZaloSecrets
from sen.messaging.providers.zalo_webhook import parse_webhook, signature
from tests.messaging.providers.support import message

DATA = {"template_id": "231455",
        "template_data": {"customer_name": "Nguyễn Thị Hoa", "order_code": "DH42",
                          "status": "Đã giao"}}


@pytest.fixture
def sandbox() -> Iterator[tuple[ZaloSandbox, str]]:
    box = ZaloSandbox(hang_s=1.0, no_zalo=("84900000001",), inactive=("84900000002",))
    with serve_in_thread(box.app()) as url:
        yield box, url
    box.close()


def zns(key: str = "order-42", address: str = "+84912345678", data: dict | None = None):
    return message(key, address, "", channel=Channel.ZALO, data=DATA if data is None else data)


def secrets_for(box: ZaloSandbox, *, with_access: bool = True) -> ZaloSecrets:
    access, refresh = box.issue_tokens()
    return ZaloSecrets(app_secret=box.app_secret, oa_secret_key=box.oa_secret_key,
                       refresh_token=refresh, access_token=access if with_access else None)


def provider(url: str, box: ZaloSandbox, secrets: ZaloSecrets | None = None,
             tokens: TokenStore | None = None, **config) -> ZaloProvider:
    settings = {"app_id": box.app_id, "base_url": url, "oauth_base_url": url,
                "price_care": 300, "timeout_s": 0.4} | config
    return ZaloProvider("zalo-oa", ZaloConfig(**settings), secrets or secrets_for(box),
                        tokens=tokens or MemoryTokenStore())


def test_a_template_message_goes_with_the_access_token(sandbox) -> None:
    box, url = sandbox
    result = provider(url, box, mode="development").send(zns())
    [taken] = box.messages()
    assert (taken.phone, taken.request_id, taken.provider_id) == (
        "84912345678", "order-42", result.provider_id)
    assert json.loads(taken.text) == DATA["template_data"]
    assert taken.extra == {"template_id": "231455", "mode": "development"}
    assert result.cost == 300 and box.refreshes == 0
    assert not ZaloProvider.idempotent and ZaloProvider.channel == Channel.ZALO


def test_without_an_access_token_it_refreshes_first(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box, secrets_for(box, with_access=False))
    zalo.send(zns())
    assert box.refreshes == 1 and box.count("84912345678") == 1


def test_an_expired_token_is_refreshed_and_the_message_sent_once(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box)
    zalo.send(zns("a"))
    box.faults.inject("expired_token")
    zalo.send(zns("b"))
    zalo.send(zns("c"))  # the renewed pair is kept
    assert box.refreshes == 1 and box.count("84912345678") == 3


def test_a_reused_refresh_token_is_terminal_and_names_the_setting(sandbox) -> None:
    box, url = sandbox
    secrets = secrets_for(box)
    first = provider(url, box, secrets)
    box.expire_tokens()
    first.send(zns("a"))  # uses up the refresh token in the secrets
    elsewhere = provider(url, box, secrets)  # a store that never heard of the new pair
    box.expire_tokens()
    with pytest.raises(ProviderError) as caught:
        elsewhere.send(zns("b"))
    error = caught.value
    assert not error.transient and not error.recipient and error.code == "-14014"
    assert "refresh_token" in error.hint
    assert box.count("84912345678") == 1


def test_a_wrong_app_secret_is_terminal_and_names_it(sandbox) -> None:
    box, url = sandbox
    secrets = secrets_for(box, with_access=False).model_copy(update={"app_secret": "wrong"})
    with pytest.raises(ProviderError) as caught:
        provider(url, box, secrets).send(zns())
    assert not caught.value.transient and "app_secret" in caught.value.hint
    assert box.refreshes == 0 and box.messages() == []


def test_a_token_refused_even_after_renewal_is_terminal(sandbox) -> None:
    box, url = sandbox
    box.faults.inject("error", code="-124", times=2)
    with pytest.raises(ProviderError) as caught:
        provider(url, box).send(zns())
    assert caught.value.code == "-124" and "refresh_token" in caught.value.hint
    assert box.refreshes == 1


@pytest.mark.parametrize(("address", "code"), [("+84900000001", "-118"),
                                               ("+84900000002", "-114"), ("+8412", "-108")])
def test_recipient_errors_let_the_campaign_fall_back(sandbox, address: str, code: str) -> None:
    box, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, box).send(zns(address=address))
    assert caught.value.recipient and caught.value.code == code and not caught.value.transient


@pytest.mark.parametrize(("data", "code"), [
    ({"template_id": "999", "template_data": {"x": "1"}}, "-109"),
    ({"template_id": "231455", "template_data": {"customer_name": "Hoa"}}, "-112"),
])
def test_template_errors_are_terminal_with_a_hint(sandbox, data, code) -> None:
    box, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, box).send(zns(data=data))
    assert caught.value.code == code and not caught.value.recipient and "template" in \
        caught.value.hint


def test_a_message_without_template_is_refused_before_any_request(sandbox) -> None:
    box, url = sandbox
    with pytest.raises(ProviderError) as caught:
        provider(url, box).send(zns(data={}))
    assert caught.value.code == "template" and box.messages() == []


@pytest.mark.parametrize(("fault", "code"), [("timeout", "timeout"), ("500", "500"),
                                             ("malformed", "malformed"), ("429", "429")])
def test_transport_failures_are_transient(sandbox, fault: str, code: str) -> None:
    box, url = sandbox
    zalo = provider(url, box)
    box.faults.inject(fault)
    with pytest.raises(ProviderError) as caught:
        zalo.send(zns())
    assert caught.value.transient and caught.value.code == code


def test_an_oauth_outage_is_transient(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box, secrets_for(box, with_access=False))
    box.oauth_faults.inject("500")
    with pytest.raises(ProviderError) as caught:
        zalo.send(zns())
    assert caught.value.transient and box.messages() == []
    zalo.send(zns())
    assert box.refreshes == 1


def test_cost_is_per_message_and_purpose(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box, price_advertising=450)
    assert zalo.estimate_cost(zns()) == 300
    promo = message("p", channel=Channel.ZALO, purpose=Purpose.ADVERTISING, data=DATA)
    assert zalo.estimate_cost(promo) == 450


def test_delivery_arrives_signed_and_becomes_a_receipt(sandbox, catcher) -> None:
    box, url = sandbox
    (caught, hook) = catcher
    box.webhook_url = hook + "/hooks/zalo"
    zalo = provider(url, box)
    sent = zalo.send(zns("order-77"))
    [call] = caught.wait(1)
    assert call.headers["x-zevent-server"] == "ZNS"
    [receipt] = parse_webhook(call, zalo.config, zalo.secrets).receipts
    delivered = json.loads(call.body)["message"]["delivery_time"]
    assert (receipt.status, receipt.provider_id, receipt.key, receipt.address) == (
        Status.DELIVERED, sent.provider_id, "order-77", "+84912345678")
    assert receipt.at == datetime.fromtimestamp(int(delivered) / 1000, UTC).replace(tzinfo=None)


def _event(box: ZaloSandbox, name: str = "user_received_message") -> tuple[bytes, str]:
    body = json.dumps({"app_id": box.app_id, "event_name": name, "timestamp": "1700000000000",
                       "recipient": {"id": "84912345678"},
                       "message": {"msg_id": "m1", "tracking_id": "k1",
                                   "delivery_time": "1699999999000"}}).encode()
    return body, signature(box.app_id, body, "1700000000000", box.oa_secret_key)


def test_a_bad_signature_is_refused(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box)
    body, mac = _event(box)
    for headers in ({"x-zevent-signature": mac}, {"x-zevent-signature": f"mac={mac}"},
                    {"x-zevent-signature": f"sha256({mac.upper()})"}):
        assert parse_webhook(WebhookRequest("POST", {}, headers, body), zalo.config,
                             zalo.secrets).receipts[0].key == "k1"
    tampered = body.replace(b"k1", b"k2")
    for headers, raw in (({"x-zevent-signature": mac}, tampered), ({}, body),
                         ({"x-zevent-signature": "0" * 64}, body)):
        with pytest.raises(AuthError):
            parse_webhook(WebhookRequest("POST", {}, headers, raw), zalo.config, zalo.secrets)
    other = zalo.secrets.model_copy(update={"oa_secret_key": "another"})
    with pytest.raises(AuthError):
        parse_webhook(WebhookRequest("POST", {}, {"x-zevent-signature": mac}, body),
                      zalo.config, other)


def test_other_events_are_acknowledged_without_receipts(sandbox) -> None:
    box, url = sandbox
    zalo = provider(url, box)
    body, mac = _event(box, "user_seen_message")
    result = parse_webhook(WebhookRequest("POST", {}, {"x-zevent-signature": mac}, body),
                           zalo.config, zalo.secrets)
    assert result.receipts == () and result.inbound == ()


def test_the_registry_passes_the_token_store_through(sandbox) -> None:
    box, url = sandbox
    store = MemoryTokenStore()
    secrets = secrets_for(box)
    built = build("zalo", "zalo-oa", {"app_id": box.app_id, "base_url": url,
                                      "oauth_base_url": url}, secrets.model_dump(),
                  tokens=store)
    assert isinstance(built, ZaloProvider) and built.tokens is store
    built.send(zns())
    assert store.load("zalo-oa").refresh_token == secrets.refresh_token
