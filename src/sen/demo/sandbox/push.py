"""A push service, as a browser's subscription endpoint sees Sen's requests.

Written from the specifications, not from Sen's client:

* RFC 8030 (Generic Event Delivery Using HTTP Push): a push is a POST to the
  subscription's push resource; ``TTL`` is required (400 without it),
  ``Urgency`` is one of very-low, low, normal, high; the answer is
  ``201 Created`` with the push message's ``Location``; a subscription that no
  longer exists is ``404``/``410``; ``413`` for a payload over 4096 bytes.
* RFC 8291/8188: an encrypted payload says ``Content-Encoding: aes128gcm``.
* RFC 8292 (VAPID): ``Authorization: vapid t=<JWT>, k=<public key>``; the JWT
  is ES256 (a raw 64-byte r||s signature over ``header.claims``) by the key in
  ``k``, its ``aud`` is this service's origin, its ``exp`` in the future and no
  more than 24 hours ahead, its ``sub`` a ``mailto:`` or ``https:`` contact.
  An invalid token is ``401``; a key other than the one the browser subscribed
  with (its ``applicationServerKey``) is ``403``.

The service keeps what it accepted (headers and the still-encrypted body) so a
test can decrypt it with the browser's key, and answers 404, 410, 429 or 500
on demand (:attr:`PushService.fail_next`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

URGENCIES = ("very-low", "low", "normal", "high")
MAX_BODY = 4096


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_params(header: str) -> dict[str, str]:
    """``t`` and ``k`` of an ``Authorization: vapid t=…, k=…`` header (RFC 8292 §3)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(401, "the Authorization scheme is not vapid")
    params = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        params[name.strip().lower()] = value.strip()
    if not params.get("t") or not params.get("k"):
        raise Refused(401, "vapid needs t= and k=")
    return params


def verify_jwt(token: str, public_key: str, origin: str, now: float) -> dict[str, Any]:
    """The claims of a VAPID JWT after checking its signature, ``aud``, ``exp`` and ``sub``."""
    try:
        head_b64, claims_b64, sig_b64 = token.split(".")
        head, claims = json.loads(_unb64(head_b64)), json.loads(_unb64(claims_b64))
        signature = _unb64(sig_b64)
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(public_key))
    except (ValueError, binascii.Error) as exc:
        raise Refused(401, f"the token is not a JWT signed by k: {exc}") from exc
    if head.get("alg") != "ES256" or len(signature) != 64:
        raise Refused(401, "the JWT must be ES256 with a 64-byte signature")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise Refused(401, "the JWT signature does not verify with k") from exc
    if claims.get("aud") != origin:
        raise Refused(401, f"aud is {claims.get('aud')!r}, this service is {origin}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        raise Refused(401, "exp must be in the future and within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Refused(401, "sub must be a mailto: or https: contact")
    return claims


@dataclass
class Pushed:
    """A push the service accepted, still encrypted."""

    token: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    public_key: str


@dataclass
class PushService:
    """The service: subscriptions by token, what was pushed, failures to answer."""

    clock: Callable[[], float] = time.time
    subscriptions: dict[str, str | None] = field(default_factory=dict)  # token → server key
    gone: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)
    received: list[Pushed] = field(default_factory=list)
    refusals: list[tuple[int, str]] = field(default_factory=list)

    def subscribe(self, base_url: str, application_server_key: str | None = None) -> str:
        """A new subscription's endpoint (what ``PushSubscription.endpoint`` would be)."""
        token = uuid.uuid4().hex
        self.subscriptions[token] = application_server_key
        return f"{base_url.rstrip('/')}/push/{token}"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/push/{token}", self.push, methods=["POST"])])

    def _check(self, request: Request, token: str, body: bytes) -> Pushed:
        if token in self.gone:
            raise Refused(410, "the subscription has expired or was unsubscribed")
        if token not in self.subscriptions:
            raise Refused(404, "no such subscription")
        params = vapid_params(request.headers.get("authorization", ""))
        origin = f"{request.url.scheme}://{request.url.netloc}"
        claims = verify_jwt(params["t"], params["k"], origin, self.clock())
        expected = self.subscriptions[token]
        if expected is not None and _unb64(expected) != _unb64(params["k"]):
            raise Refused(403, "k is not the key this subscription was made with")
        ttl = request.headers.get("ttl", "")
        if not ttl.isdigit():
            raise Refused(400, "TTL is required")
        if request.headers.get("urgency", "normal") not in URGENCIES:
            raise Refused(400, "Urgency must be very-low, low, normal or high")
        if body and request.headers.get("content-encoding") != "aes128gcm":
            raise Refused(415, "an encrypted payload needs Content-Encoding: aes128gcm")
        if len(body) > MAX_BODY:
            raise Refused(413, "the payload is over 4096 bytes")
        return Pushed(token, dict(request.headers), body, claims, params["k"])

    async def push(self, request: Request) -> Response:
        token, body = request.path_params["token"], await request.body()
        if self.fail_next:
            status = self.fail_next.pop(0)
            headers = {"Retry-After": "3"} if status == 429 else {}
            self.refusals.append((status, "asked for"))
            return JSONResponse({"error": "injected"}, status_code=status, headers=headers)
        try:
            pushed = self._check(request, token, body)
        except Refused as refused:
            self.refusals.append((refused.status, refused.reason))
            headers = {"WWW-Authenticate": "vapid"} if refused.status == 401 else {}
            return JSONResponse({"error": refused.reason}, status_code=refused.status,
                                headers=headers)
        self.received.append(pushed)
        return Response(status_code=201, headers={"Location": f"/message/{uuid.uuid4().hex}",
                                                  "TTL": pushed.headers["ttl"]})
