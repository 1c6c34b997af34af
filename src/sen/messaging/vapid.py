"""VAPID (RFC 8292): the key pair that identifies Sen to browsers' push services.

A shop's page subscribes a browser with the public key (its
``applicationServerKey``); every push Sen sends then carries
``Authorization: vapid t=<JWT>, k=<public key>``, the JWT signed with the
private key (ES256) and naming the push service's origin (``aud``), an expiry
within 24 hours (``exp``) and a contact (``sub``). A push service refuses a
push whose key is not the one the browser subscribed with, so the keys must
stay the same for as long as subscriptions live (see :mod:`sen.messaging.push`,
which keeps them). Signing uses ``py_vapid``.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

MAX_LIFETIME_S = 24 * 3600
TOKEN_LIFETIME_S = 12 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def audience(endpoint: str) -> str:
    """The origin of a push endpoint, the JWT's ``aud`` (RFC 8292 §2)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class VapidKeys:
    """A P-256 key pair: ``private_key`` the 32-byte scalar, ``public_key`` the
    uncompressed point (65 bytes, what browsers take), both base64url without padding."""

    private_key: str = field(repr=False)
    public_key: str

    @classmethod
    def generate(cls) -> VapidKeys:
        return cls.from_private(b64url(
            ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
            .to_bytes(32, "big")))

    @classmethod
    def from_private(cls, private_key: str) -> VapidKeys:
        """The pair of a stored private key (its public half is derived, never trusted)."""
        key = ec.derive_private_key(int.from_bytes(b64url_decode(private_key), "big"),
                                    ec.SECP256R1())
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return cls(private_key=private_key, public_key=b64url(public))


class VapidSigner:
    """Authorization headers for push services, one JWT per origin reused until an hour
    before it expires (signing is cheap, but thousands of pushes to one service need
    only one token)."""

    def __init__(self, keys: VapidKeys, subject: str) -> None:
        self.keys, self.subject = keys, subject
        self._vapid = Vapid02.from_raw(keys.private_key.encode())
        self._tokens: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def authorization(self, endpoint: str, now: float) -> str:
        """``vapid t=<JWT>, k=<public key>`` for a push to ``endpoint`` at ``now`` (unix s)."""
        aud = audience(endpoint)
        with self._lock:
            token, exp = self._tokens.get(aud, ("", 0))
            if exp - now < 3600:
                exp = int(now) + TOKEN_LIFETIME_S
                header = self._vapid.sign({"aud": aud, "exp": exp, "sub": self.subject})
                token = header["Authorization"]
                self._tokens[aud] = (token, exp)
        return token
