"""The /v1/push routes a shop's page calls, on a small app holding what they need."""

from __future__ import annotations

import json

import http_ece
import pytest

from sen.demo.sandbox.push import PushService
from sen.demo.sandbox.serve import Served
from sen.ingest.sources import set_enabled
from sen.messaging import push
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import build
from sen.store.secrets import SecretBox
from tests.web.api.subscriptions import ORIGIN, WRITE_KEY, Browser, basic


def test_the_public_key_is_made_once_and_served_to_any_origin(client, app) -> None:
    first = client.get("/v1/push/vapid-public-key", headers={"Origin": ORIGIN})
    second = client.get("/v1/push/vapid-public-key")
    assert first.status_code == 200 and first.json() == second.json()
    assert first.json()["publicKey"] == push.vapid_public_key(app.state.ops)
    assert first.headers["access-control-allow-origin"] == ORIGIN


def test_a_preflight_allows_the_write_key_header(client) -> None:
    response = client.options("/v1/push/subscribe", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]


def test_subscribe_with_the_write_key_as_basic_user(client, app) -> None:
    browser = Browser("https://fcm.googleapis.com/fcm/send/abc:APA91")
    response = client.post("/v1/push/subscribe", headers={**basic(WRITE_KEY), "Origin": ORIGIN},
                           json={"subscription": browser.to_json(), "userId": "khach-42",
                                 "anonymousId": "anon-1"})
    assert response.status_code == 200 and response.json()["success"]
    assert response.headers["access-control-allow-origin"] == ORIGIN
    [sub] = push.live_subscriptions(app.state.ops, ["u:khach-42"])
    assert sub.endpoint == browser.endpoint and sub.source == "shop-web"


def test_subscribe_as_plain_text_with_the_key_in_the_body(client, app) -> None:
    browser = Browser("https://updates.push.services.mozilla.com/wpush/v2/gAAA")
    body = {"writeKey": WRITE_KEY, "subscription": browser.to_json(), "anonymousId": "anon-9"}
    response = client.post("/v1/push/subscribe", content=json.dumps(body),
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert push.get(app.state.ops, browser.endpoint).record == "a:anon-9"


@pytest.mark.parametrize("headers, key, status", [
    ({}, None, 401), ({}, "sk_unknown", 401), (basic("sk_unknown"), None, 401)])
def test_subscribe_needs_a_known_write_key(client, app, headers, key, status) -> None:
    body = {"subscription": Browser("https://fcm.googleapis.com/x").to_json(),
            "anonymousId": "a", **({"writeKey": key} if key else {})}
    response = client.post("/v1/push/subscribe", json=body,
                           headers={**headers, "Origin": ORIGIN})
    assert response.status_code == status
    assert response.json()["error"]["hint"]
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert push.get(app.state.ops, "https://fcm.googleapis.com/x") is None


def test_a_disabled_source_cannot_subscribe(client, app) -> None:
    set_enabled(app.state.ops, "shop-web", False)
    app.state.write_keys.refresh()
    response = client.post("/v1/push/subscribe", headers=basic(WRITE_KEY), json={
        "subscription": Browser("https://fcm.googleapis.com/x").to_json(), "anonymousId": "a"})
    assert response.status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"anonymousId": "a", "subscription": {"endpoint": "https://x.example/1"}},
     "subscription.keys"),
    ({"subscription": Browser("https://fcm.googleapis.com/x").to_json()}, "anonymousId"),
    ({"anonymousId": "a", "subscription": Browser("http://plain.example/1").to_json()},
     "endpoint"),
])
def test_bad_subscriptions_are_refused_with_the_field(client, body, field) -> None:
    response = client.post("/v1/push/subscribe", headers=basic(WRITE_KEY), json=body)
    assert response.status_code == 400
    assert response.json()["error"]["field"].startswith(field)


def test_unsubscribe_stops_sending(client, app) -> None:
    browser = Browser("https://fcm.googleapis.com/fcm/send/zzz")
    client.post("/v1/push/subscribe", headers=basic(WRITE_KEY),
                json={"subscription": browser.to_json(), "anonymousId": "anon-3"})
    assert client.post("/v1/push/unsubscribe", json={"endpoint": browser.endpoint}
                       ).status_code == 401
    first = client.post("/v1/push/unsubscribe", headers=basic(WRITE_KEY),
                        json={"endpoint": browser.endpoint})
    again = client.post("/v1/push/unsubscribe", headers=basic(WRITE_KEY),
                        json={"endpoint": browser.endpoint})
    assert first.json() == {"success": True, "removed": True}
    assert again.json() == {"success": True, "removed": False}
    assert push.live_subscriptions(app.state.ops, ["a:anon-3"]) == []


def test_a_browser_subscribed_here_reads_what_sen_pushes(client, app) -> None:
    service = PushService()
    with Served(service.app()) as served:
        key = client.get("/v1/push/vapid-public-key").json()["publicKey"]
        browser = Browser(service.subscribe(served.url, key))
        client.post("/v1/push/subscribe", headers=basic(WRITE_KEY),
                    json={"subscription": browser.to_json(), "userId": "khach-42"})

        [sub] = push.live_subscriptions(app.state.ops, ["u:khach-42"])
        vapid = push.vapid_keys(app.state.ops, SecretBox.for_settings(app.state.settings))
        sender = build("webpush", "web-push", {"subject": "mailto:ops@shop.vn"}, {},
                       vapid=vapid)
        sender.send(OutgoingMessage(
            id=1, key="k1", channel=Channel.PUSH, purpose=Purpose.CARE, address=sub.endpoint,
            data=sub.message_data({"title": "Hàng về", "url": "https://sen.example.vn/l/x"})))
        sender.close()
    plain = http_ece.decrypt(service.received[0].body, private_key=browser.key,
                             auth_secret=browser.auth, version="aes128gcm")
    assert json.loads(plain)["title"] == "Hàng về"
