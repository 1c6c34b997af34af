"""A browser's side of a push subscription, and the write key the test shop uses."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

WRITE_KEY = "sk_shop_web_key"
ORIGIN = "https://shop.example.vn"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


class Browser:
    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def to_json(self) -> dict:
        """PushSubscription.toJSON()."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {
            "p256dh": b64(self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)),
            "auth": b64(self.auth)}}
