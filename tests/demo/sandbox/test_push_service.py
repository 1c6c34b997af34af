"""The sandbox push service refuses what RFC 8030 and RFC 8292 say a push service refuses.

Tokens are made here with ``cryptography`` alone, not with Sen's VAPID code."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from sen.demo.sandbox.push import PushService
from sen.demo.sandbox.serve import Served


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public = b64(self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def token(self, claims: dict, alg: str = "ES256") -> str:
        head = b64(json.dumps({"typ": "JWT", "alg": alg}).encode())
        body = b64(json.dumps(claims).encode())
        r, s = decode_dss_signature(self.key.sign(f"{head}.{body}".encode(),
                                                  ec.ECDSA(hashes.SHA256())))
        return f"{head}.{body}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture
def service() -> Iterator[tuple[PushService, str, Signer, str]]:
    svc = PushService()
    signer = Signer()
    with Served(svc.app()) as served:
        yield svc, served.url, signer, svc.subscribe(served.url, signer.public)


def claims(url: str, **kw: object) -> dict:
    return {"aud": url, "exp": int(time.time()) + 3600, "sub": "mailto:ops@shop.vn", **kw}


def post(endpoint: str, auth: str | None, *, body: bytes = b"x" * 100,
         **headers: str) -> httpx.Response:
    sent = {"TTL": "60", "Content-Encoding": "aes128gcm", **headers}
    if auth is not None:
        sent["Authorization"] = auth
    return httpx.post(endpoint, content=body, headers=sent)


def test_a_well_formed_push_is_created_with_either_separator(service) -> None:
    svc, url, signer, endpoint = service
    token = signer.token(claims(url))
    for auth in (f"vapid t={token}, k={signer.public}", f"vapid t={token},k={signer.public}"):
        response = post(endpoint, auth)
        assert response.status_code == 201 and response.headers["location"]
    assert len(svc.received) == 2


@pytest.mark.parametrize("change, status", [
    ({"aud": "https://fcm.googleapis.com"}, 401),
    ({"exp": 1}, 401),
    ({"exp": int(time.time()) + 25 * 3600}, 401),
    ({"sub": "ops@shop.vn"}, 401),
])
def test_claims_a_push_service_refuses(service, change, status) -> None:
    _, url, signer, endpoint = service
    auth = f"vapid t={signer.token(claims(url, **change))}, k={signer.public}"
    assert post(endpoint, auth).status_code == status


def test_a_token_signed_by_another_key_is_refused(service) -> None:
    _, url, signer, endpoint = service
    other = Signer()
    assert post(endpoint, f"vapid t={other.token(claims(url))}, k={signer.public}"
                ).status_code == 401
    # signed and named by another key, but not the one the browser subscribed with
    assert post(endpoint, f"vapid t={other.token(claims(url))}, k={other.public}"
                ).status_code == 403


@pytest.mark.parametrize("auth", [None, "Bearer abc", "vapid t=abc", "vapid t=a.b.c, k=AAAA"])
def test_missing_or_malformed_authorization_is_401(service, auth) -> None:
    _, _, _, endpoint = service
    response = post(endpoint, auth)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "vapid"


def test_ttl_encoding_urgency_and_size_are_checked(service) -> None:
    svc, url, signer, endpoint = service
    auth = f"vapid t={signer.token(claims(url))}, k={signer.public}"
    assert httpx.post(endpoint, content=b"x", headers={"Authorization": auth,
                      "Content-Encoding": "aes128gcm"}).status_code == 400
    assert post(endpoint, auth, Urgency="urgent").status_code == 400
    assert post(endpoint, auth, **{"Content-Encoding": "aesgcm"}).status_code == 415
    assert post(endpoint, auth, body=b"x" * 4097).status_code == 413
    assert post(endpoint, auth, body=b"").status_code == 201  # a push without payload


def test_unknown_and_expired_subscriptions(service) -> None:
    svc, url, signer, endpoint = service
    auth = f"vapid t={signer.token(claims(url))}, k={signer.public}"
    assert post(f"{url}/push/unknown", auth).status_code == 404
    svc.gone.add(endpoint.rsplit("/", 1)[1])
    assert post(endpoint, auth).status_code == 410
