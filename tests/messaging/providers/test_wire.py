"""The boundary helpers every HTTP provider shares."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from sen.demo.sandbox import free_port
from sen.errors import ProviderError
from sen.messaging.providers import wire


def test_nothing_listening_is_a_connect_error_nothing_was_sent() -> None:
    with httpx.Client(timeout=2) as client, pytest.raises(ProviderError) as caught:
        wire.call(client, "esms", "eSMS", "POST", f"http://127.0.0.1:{free_port()}/x")
    assert caught.value.code == "connect" and caught.value.transient
    assert caught.value.code not in wire.MAY_HAVE_SENT


def test_a_connection_closed_after_the_request_may_have_sent() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def swallow() -> None:
        con, _ = listener.accept()
        con.recv(65536)
        con.close()

    thread = threading.Thread(target=swallow)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/send"
    with httpx.Client(timeout=2) as client, pytest.raises(ProviderError) as caught:
        wire.call(client, "esms", "eSMS", "POST", url, json={"a": 1})
    thread.join(5)
    listener.close()
    assert caught.value.code == "broken" and caught.value.code in wire.MAY_HAVE_SENT


@pytest.mark.parametrize(("value", "seconds"), [
    ("12", 12.0), ("0.5", 0.5), ("-3", 0.0), (str(1_000_000_030), 30.0),
    ("Sun, 09 Sep 2001 01:47:00 GMT", 20.0), ("soon", None), (None, None), ("", None)])
def test_retry_after_reads_seconds_epochs_and_dates(value, seconds) -> None:
    assert wire.retry_after(value, now=1_000_000_000) == seconds


def test_phone_forms() -> None:
    assert wire.national("+84912345678") == "0912345678"
    assert wire.international("+84912345678") == "84912345678"
    assert wire.national("+6591234567") == "6591234567"
    for given in ("0912345678", "84912345678", "+84 912 345 678"):
        assert wire.to_e164(given) == "+84912345678"


def test_short_key_keeps_short_keys_and_digests_long_ones() -> None:
    assert wire.short_key("abc", 48) == "abc"
    long = "k" * 60
    assert len(wire.short_key(long, 48)) == 48 and wire.short_key(long, 48) == wire.short_key(
        long, 48) != wire.short_key(long + "x", 48)


def test_dig_and_webhook_fields() -> None:
    data = {"data": {"tranId": 7, "items": [{"id": "a"}]}}
    assert wire.dig(data, "data.tranId") == 7 and wire.dig(data, "data.items.0.id") == "a"
    assert wire.dig(data, "data.items.5.id") is None and wire.dig(data, None) is None
    assert wire.webhook_fields(b'{"a": 1}', {"token": "t"}) == {"token": "t", "a": 1}
    assert wire.webhook_fields(b"from=849&text=TC", {}) == {"from": "849", "text": "TC"}
    assert wire.epoch_ms("1602960467432").isoformat() == "2020-10-17T18:47:47.432000"
    assert wire.epoch_ms("x") is None
