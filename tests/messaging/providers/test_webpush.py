"""Web Push to a local push service, subscribed to as a browser does, and decrypted back."""

from __future__ import annotations

import base64
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sen.demo.sandbox.push import verify_jwt
from sen.errors import ConfigError, ProviderError
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import build
from sen.messaging.providers.webpush import MAX_PAYLOAD, WebPushProvider
from sen.messaging.vapid import VapidKeys

NOTIFICATION = {"title": "Đơn hàng #1042 đã giao", "body": "Cảm ơn chị Hương đã mua sắm!",
                "url": "https://sen.example.vn/l/Ab3dE", "icon": "https://shop.vn/icon.png"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """What PushManager.subscribe() makes: an ECDH P-256 pair and a 16-byte auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64(self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def read(self, body: bytes) -> dict:
        """Decrypt a push as the browser does (RFC 8291, aes128gcm)."""
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                           version="aes128gcm"))


@pytest.fixture(scope="module")
def vapid() -> VapidKeys:
    return VapidKeys.generate()


def pusher(vapid: VapidKeys, **settings: object) -> WebPushProvider:
    built = build("webpush", "web-push", {"subject": "mailto:ops@shop.vn", **settings}, {},
                  vapid=vapid)
    assert isinstance(built, WebPushProvider)
    return built


def push(endpoint: str, browser: Browser, **data: object) -> OutgoingMessage:
    return OutgoingMessage(
        id=5, key="j:welcome:a:anon-9:push", channel=Channel.PUSH, purpose=Purpose.CARE,
        address=endpoint, body="",
        data={"keys": {"p256dh": browser.p256dh, "auth": b64(browser.auth)},
              "notification": NOTIFICATION, **data})


def test_the_browser_decrypts_the_notification(push_service, vapid) -> None:
    service, url = push_service
    browser = Browser()
    endpoint = service.subscribe(url, vapid.public_key)
    sender = pusher(vapid, ttl_s=3600, urgency="high")
    result = sender.send(push(endpoint, browser))
    sender.close()

    [got] = service.received
    assert result.provider_id and result.provider_id.startswith("/message/")
    assert got.headers["content-encoding"] == "aes128gcm"
    assert got.headers["ttl"] == "3600" and got.headers["urgency"] == "high"
    assert browser.read(got.body) == {**NOTIFICATION, "tag": "j:welcome:a:anon-9:push"}


def test_the_vapid_token_verifies_independently(push_service, vapid) -> None:
    service, url = push_service
    sender = pusher(vapid)
    sender.send(push(service.subscribe(url, vapid.public_key), Browser()))
    sender.close()
    [got] = service.received
    scheme, _, params = got.headers["authorization"].partition(" ")
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert scheme == "vapid" and fields["k"] == vapid.public_key
    claims = verify_jwt(fields["t"], fields["k"], url, service.clock())
    assert claims["aud"] == url and claims["sub"] == "mailto:ops@shop.vn"
    assert 0 < claims["exp"] - service.clock() <= 24 * 3600


def test_flat_keys_and_fields_and_the_message_text_work_too(push_service, vapid) -> None:
    service, url = push_service
    browser = Browser()
    message = OutgoingMessage(id=6, key="k6", channel=Channel.PUSH, purpose=Purpose.CARE,
                              address=service.subscribe(url), body="Hàng về rồi",
                              data={"p256dh": browser.p256dh, "auth": b64(browser.auth),
                                    "title": "Sen", "url": "https://s.vn/l/1"})
    sender = pusher(vapid)
    sender.send(message)
    sender.close()
    assert browser.read(service.received[0].body) == {
        "title": "Sen", "url": "https://s.vn/l/1", "body": "Hàng về rồi", "tag": "k6"}


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_a_recipient_error(push_service, vapid, status) -> None:
    service, url = push_service
    service.fail_next = [status]
    sender = pusher(vapid)
    with pytest.raises(ProviderError) as caught:
        sender.send(push(service.subscribe(url, vapid.public_key), Browser()))
    sender.close()
    assert caught.value.recipient and not caught.value.transient
    assert caught.value.code == "410"


def test_an_expired_subscription_is_gone(push_service, vapid) -> None:
    service, url = push_service
    endpoint = service.subscribe(url, vapid.public_key)
    service.gone.add(endpoint.rsplit("/", 1)[1])
    sender = pusher(vapid)
    with pytest.raises(ProviderError) as caught:
        sender.send(push(endpoint, Browser()))
    sender.close()
    assert caught.value.recipient and service.refusals[0][0] == 410


@pytest.mark.parametrize("status, retry_after", [(429, 3.0), (500, None)])
def test_rate_limits_and_server_errors_are_transient(push_service, vapid, status,
                                                     retry_after) -> None:
    service, url = push_service
    service.fail_next = [status]
    sender = pusher(vapid)
    with pytest.raises(ProviderError) as caught:
        sender.send(push(service.subscribe(url, vapid.public_key), Browser()))
    sender.close()
    assert caught.value.transient and not caught.value.recipient
    assert caught.value.retry_after == retry_after


def test_keys_other_than_the_subscriptions_are_forbidden(push_service, vapid) -> None:
    service, url = push_service
    endpoint = service.subscribe(url, VapidKeys.generate().public_key)  # subscribed elsewhere
    sender = pusher(vapid)
    with pytest.raises(ProviderError) as caught:
        sender.send(push(endpoint, Browser()))
    sender.close()
    assert caught.value.code == "403" and not caught.value.transient
    assert "VAPID" in caught.value.hint


def test_broken_subscription_keys_are_about_the_recipient(push_service, vapid) -> None:
    service, url = push_service
    message = OutgoingMessage(id=7, key="k7", channel=Channel.PUSH, purpose=Purpose.CARE,
                              address=service.subscribe(url),
                              data={"keys": {"p256dh": "bm90LWEta2V5", "auth": "eA"}})
    with pytest.raises(ProviderError) as caught:
        pusher(vapid).send(message)
    assert caught.value.recipient and caught.value.code == "invalid_keys"
    assert service.received == []


def test_a_notification_too_large_for_one_record_is_refused(push_service, vapid) -> None:
    service, url = push_service
    big = push(service.subscribe(url), Browser(), notification={"body": "ư" * MAX_PAYLOAD})
    with pytest.raises(ProviderError) as caught:
        pusher(vapid).send(big)
    assert caught.value.code == "413" and not caught.value.recipient
    assert service.received == []


def test_a_push_service_out_of_reach_is_transient(vapid) -> None:
    sender = pusher(vapid, timeout_s=2)
    with pytest.raises(ProviderError) as caught:
        sender.send(push("http://127.0.0.1:9/push/x", Browser()))
    sender.close()
    assert caught.value.transient and caught.value.code == "connection"


def test_the_provider_needs_sens_vapid_keys() -> None:
    with pytest.raises(ConfigError):
        build("webpush", "web-push", {"subject": "mailto:ops@shop.vn"}, {})


def test_the_subject_must_be_a_contact() -> None:
    with pytest.raises(ConfigError, match="subject"):
        build("webpush", "web-push", {"subject": "ops@shop.vn"}, {}, vapid=VapidKeys.generate())
