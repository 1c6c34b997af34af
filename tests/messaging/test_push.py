"""Push subscriptions and VAPID keys on the operational store (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sen.errors import ConfigError, ValidationError
from sen.messaging import push
from sen.store.operational import app_settings, push_subscriptions
from sen.store.secrets import SecretBox

T0 = datetime(2025, 9, 1, 8, 0)
T1 = datetime(2025, 9, 2, 8, 0)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64(key), b64(os.urandom(16))


def endpoint(n: int) -> str:
    return f"https://fcm.googleapis.com/fcm/send/cXy{n}:APA91b-{n}"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


def test_vapid_keys_are_made_once_and_kept_sealed(ops, box) -> None:
    assert push.vapid_public_key(ops) is None
    first = push.vapid_keys(ops, box)
    assert push.vapid_keys(ops, box) == first
    assert push.vapid_public_key(ops) == first.public_key
    with ops.connect() as con:
        stored = json.loads(con.scalar(sa.select(app_settings.c.value)))
    assert first.private_key not in json.dumps(stored)  # only sealed
    assert box.open(stored["private_key"]) == first.private_key
    assert len(base64.urlsafe_b64decode(first.public_key + "=")) == 65


def test_vapid_keys_need_the_key_that_sealed_them(ops, box) -> None:
    push.vapid_keys(ops, box)
    with pytest.raises(ConfigError):
        push.vapid_keys(ops, SecretBox(Fernet.generate_key()))


def test_subscribe_keeps_one_row_per_endpoint_and_updates_it(ops) -> None:
    p256dh, auth = browser_keys()
    first = push.subscribe(ops, endpoint(1), p256dh, auth, record="a:anon-1", source="web",
                           user_agent="Chrome", now=T0)
    p256dh2, auth2 = browser_keys()
    again = push.subscribe(ops, endpoint(1), p256dh2, auth2, record="u:khach-42",
                           source="web", now=T1)
    assert again.id == first.id and again.created_at == T0 and again.last_seen_at == T1
    assert (again.p256dh, again.auth, again.record) == (p256dh2, auth2, "u:khach-42")
    with ops.connect() as con:
        assert con.scalar(sa.select(sa.func.count()).select_from(push_subscriptions)) == 1


def test_removed_subscriptions_are_not_live_and_come_back_on_subscribe(ops) -> None:
    keys = browser_keys()
    push.subscribe(ops, endpoint(1), *keys, record="u:khach-42", source="web", now=T0)
    push.subscribe(ops, endpoint(2), *browser_keys(), record="u:khach-42", source="web", now=T0)
    push.subscribe(ops, endpoint(3), *browser_keys(), record="a:anon-7", source="app", now=T0)
    push.subscribe(ops, endpoint(4), *browser_keys(), record="u:other", source="web", now=T0)

    assert push.remove(ops, endpoint(2), "gone", now=T1)
    assert not push.remove(ops, endpoint(2), "gone", now=T1)  # already removed
    assert push.unsubscribe(ops, endpoint(4))
    live = push.live_subscriptions(ops, ["u:khach-42", "a:anon-7", "u:other", "u:nobody"])
    assert [(s.record, s.endpoint) for s in live] == [("a:anon-7", endpoint(3)),
                                                     ("u:khach-42", endpoint(1))]
    gone = push.get(ops, endpoint(2))
    assert gone.removed_at == T1 and gone.removed_reason == "gone"
    assert push.get(ops, endpoint(4)).removed_reason == "unsubscribed"

    push.subscribe(ops, endpoint(2), *browser_keys(), record="u:khach-42", source="web")
    assert len(push.live_subscriptions(ops, ["u:khach-42"])) == 2


def test_live_subscriptions_of_more_records_than_one_query_takes(ops) -> None:
    p256dh, auth = browser_keys()
    with ops.begin() as con:  # seeded in one statement: subscribing 1,200 times is slow
        con.execute(push_subscriptions.insert(), [
            {"endpoint_hash": push.endpoint_hash(endpoint(n)), "endpoint": endpoint(n),
             "p256dh": p256dh, "auth": auth, "record": f"a:{n}", "source": "web",
             "created_at": T0, "last_seen_at": T0} for n in range(1200)])
    live = push.live_subscriptions(ops, (f"a:{n}" for n in range(0, 1200, 2)))
    assert len(live) == 600 and live[0].record == "a:0"


def test_message_data_is_what_the_web_push_provider_reads(ops) -> None:
    keys = browser_keys()
    sub = push.subscribe(ops, endpoint(1), *keys, record="a:1", source="web")
    assert sub.message_data({"title": "Sen"}) == {
        "keys": {"p256dh": keys[0], "auth": keys[1]}, "notification": {"title": "Sen"}}


@pytest.mark.parametrize("url, p256dh, auth, record, rule", [
    ("http://push.example.com/x", None, None, "a:1", "push_endpoint"),
    ("ftp://push.example.com/x", None, None, "a:1", "push_endpoint"),
    ("https://push.example.com/x", "bm90LWEta2V5", None, "a:1", "p256dh"),
    ("https://push.example.com/x", None, "c2hvcnQ", "a:1", "auth"),
    ("https://push.example.com/x", None, None, "anon-1", "record"),
    ("https://push.example.com/x", None, None, "x:1", "record"),
])
def test_what_a_browser_cannot_send_is_refused(url, p256dh, auth, record, rule) -> None:
    good_p256dh, good_auth = browser_keys()
    with pytest.raises(ValidationError) as caught:
        push.validate(url, p256dh or good_p256dh, auth or good_auth, record)
    assert caught.value.rule == rule


def test_subscribe_checks_before_it_stores(ops) -> None:
    with pytest.raises(ValidationError):
        push.subscribe(ops, "http://push.example.com/x", *browser_keys(), record="a:1",
                       source="web")
    assert push.get(ops, "http://push.example.com/x") is None


def test_a_loopback_push_service_may_be_plain_http(ops) -> None:
    sub = push.subscribe(ops, "http://127.0.0.1:8100/push/abc", *browser_keys(),
                         record="a:1", source="demo")
    assert sub.endpoint.startswith("http://127.0.0.1")
