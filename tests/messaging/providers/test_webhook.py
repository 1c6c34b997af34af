"""Signed webhooks to a receiver that checks every signature on its own."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from sen.errors import ConfigError, ProviderError
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import build
from sen.messaging.providers.webhook import WebhookProvider, sign, verify_signature

SECRET = "whsec-0123456789abcdef"
PAYLOAD = {"event": "Order Shipped", "order": "DH-1042", "total": 1_250_000,
           "customer": {"name": "Đặng Thị Hương"}}


def hook(**kw: object) -> WebhookProvider:
    extra = {k: kw.pop(k) for k in ("clock",) if k in kw}
    built = build("webhook", "erp", {"timeout_s": 2, **kw}, {"signing_secret": SECRET}, **extra)
    assert isinstance(built, WebhookProvider)
    return built


def message(url: str, key: str = "c:3:u:khach-42:webhook", **kw: object) -> OutgoingMessage:
    fields = {"data": {"payload": PAYLOAD}}
    return OutgoingMessage(id=77, key=key, channel=Channel.WEBHOOK, purpose=Purpose.CARE,
                           address=url, **{**fields, **kw})  # type: ignore[arg-type]


def test_the_receiver_verifies_what_was_sent(receiver) -> None:
    hook_server, url = receiver
    sender = hook(headers={"X-Shop": "sen-demo"})
    result = sender.send(message(f"{url}/hooks/orders"))
    sender.close()
    [call] = hook_server.calls
    assert call.verified and call.status == 200 and call.path == "/hooks/orders"
    assert json.loads(call.body) == PAYLOAD
    assert call.headers["idempotency-key"] == "c:3:u:khach-42:webhook"
    assert call.headers["sen-message-id"] == "77"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-shop"] == "sen-demo"
    assert result.provider_id == "c:3:u:khach-42:webhook"


def test_a_resend_carries_the_same_key_and_is_done_once(receiver) -> None:
    hook_server, url = receiver
    sender = hook()
    sender.send(message(url))
    sender.send(message(url))  # the dispatcher resending after a crash
    sender.close()
    assert hook_server.handled == {"c:3:u:khach-42:webhook": 1}
    assert [c.reason for c in hook_server.calls] == ["", "duplicate"]


def test_a_tampered_body_is_refused_by_the_receiver(receiver) -> None:
    hook_server, url = receiver
    sender = hook()
    body, headers = sender.request(message(url))
    sender.close()
    forged = body.replace(b"1250000", b"1")
    assert httpx.post(url, content=forged, headers=headers).status_code == 401
    assert hook_server.calls[0].reason == "signature mismatch"


def test_an_old_signature_is_refused_and_the_error_is_terminal(receiver) -> None:
    hook_server, url = receiver
    sender = hook(clock=lambda: time.time() - 3600)
    with pytest.raises(ProviderError) as caught:
        sender.send(message(url))
    sender.close()
    assert caught.value.code == "401" and not caught.value.transient
    assert hook_server.calls[0].reason == "timestamp outside the tolerance"


@pytest.mark.parametrize("status, retry_after", [(408, None), (429, 7.0), (500, None),
                                                 (503, None)])
def test_timeouts_rate_limits_and_server_errors_are_retried(receiver, status,
                                                            retry_after) -> None:
    hook_server, url = receiver
    hook_server.fail_next = [status]
    sender = hook()
    with pytest.raises(ProviderError) as caught:
        sender.send(message(url))
    assert caught.value.transient and caught.value.code == str(status)
    assert caught.value.retry_after == retry_after
    sender.send(message(url))  # the retry goes through
    sender.close()
    assert hook_server.handled == {"c:3:u:khach-42:webhook": 1}


@pytest.mark.parametrize("status", [301, 400, 404, 410, 422])
def test_other_refusals_are_terminal(receiver, status) -> None:
    hook_server, url = receiver
    hook_server.fail_next = [status]
    sender = hook()
    with pytest.raises(ProviderError) as caught:
        sender.send(message(url))
    sender.close()
    assert not caught.value.transient and not caught.value.recipient
    assert caught.value.code == str(status) and caught.value.hint


def test_a_receiver_that_never_answers_is_transient() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        sender = hook(timeout_s=0.3)
        with pytest.raises(ProviderError) as caught:
            sender.send(message(f"http://127.0.0.1:{silent.getsockname()[1]}/"))
        sender.close()
    assert caught.value.transient and caught.value.code == "timeout"


def test_text_bodies_are_signed_as_sent(receiver) -> None:
    hook_server, url = receiver
    sender = hook()
    sender.send(message(url, data={}, body="đơn hàng DH-1042 đã giao"))
    sender.close()
    [call] = hook_server.calls
    assert call.verified and call.body.decode() == "đơn hàng DH-1042 đã giao"
    assert call.headers["content-type"].startswith("text/plain")


def test_the_signing_secret_must_be_long_enough() -> None:
    with pytest.raises(ConfigError, match="signing_secret"):
        build("webhook", "erp", {}, {"signing_secret": "short"})


BODY = b'{"order":"DH-1042"}'
NOW = 1_757_000_000


@pytest.mark.parametrize("header, body, now, ok", [
    (sign(SECRET, NOW, BODY), BODY, NOW, True),
    (sign(SECRET, NOW, BODY), BODY, NOW + 300, True),
    (sign(SECRET, NOW, BODY), BODY, NOW + 301, False),
    (sign(SECRET, NOW, BODY), BODY, NOW - 301, False),
    (sign(SECRET, NOW, BODY), BODY + b" ", NOW, False),
    (sign("another-secret-123", NOW, BODY), BODY, NOW, False),
    (sign(SECRET, NOW, BODY).replace(f"t={NOW}", f"t={NOW + 1}"), BODY, NOW, False),
    (f"t={NOW},v1=deadbeef," + sign(SECRET, NOW, BODY).split(",")[1], BODY, NOW, True),
    (f"v1={sign(SECRET, NOW, BODY).split('v1=')[1]}", BODY, NOW, False),
    ("garbage", BODY, NOW, False),
    (None, BODY, NOW, False),
])
def test_verify_signature(header, body, now, ok) -> None:
    assert verify_signature(SECRET, header, body, now) is ok


def test_the_receiver_snippet_in_the_docs_verifies_and_refuses(receiver) -> None:
    """docs/providers.md shows receivers a few lines of Python; they must work."""
    docs = (Path(__file__).parents[3] / "docs" / "providers.md").read_text()
    snippet = docs.split("**Verifying at the receiver.**")[1].split("```python")[1] \
        .split("```")[0]
    scope: dict = {}
    exec(snippet, scope)  # noqa: S102 - the documented code, run as a receiver would
    now = int(time.time())
    assert scope["verify"](SECRET, sign(SECRET, now, BODY), BODY)
    assert not scope["verify"](SECRET, sign(SECRET, now, BODY), BODY + b"x")
    assert not scope["verify"](SECRET, sign(SECRET, now - 600, BODY), BODY)
    assert not scope["verify"](SECRET, "t=1,v1=00", BODY)
