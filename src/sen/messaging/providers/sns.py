"""Amazon SNS messages delivered over HTTP(S): reading them and checking who sent them.

What this relies on (AWS, "HTTP/HTTPS notification JSON format", "…subscription
confirmation JSON format" and "Verifying the signatures of Amazon SNS
messages"): the body is a JSON object (sent as ``text/plain``) with ``Type``
(``Notification``, ``SubscriptionConfirmation``, ``UnsubscribeConfirmation``),
``MessageId``, ``TopicArn``, ``Message`` (a string), ``Timestamp``,
``SignatureVersion``, ``Signature`` (base64) and ``SigningCertURL``; a
confirmation also has ``Token`` and ``SubscribeURL``. The signed text is, for
each signed field present in this order, the field name, a newline, its value
and a newline:

* Notification: Message, MessageId, Subject (only if present), Timestamp,
  TopicArn, Type
* confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type

SignatureVersion 1 is RSA PKCS#1 v1.5 with SHA-1, version 2 with SHA-256.

Sen never fetches SigningCertURL: a parser makes no outbound calls, a test
machine may not reach AWS, and a URL in the message is the sender's to choose.
The certificates to trust are configured instead (see docs/providers.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sen.errors import ConfigError, ValidationError

TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                       "TopicArn", "Type")
REQUIRED = ("Type", "MessageId", "TopicArn", "Message", "Timestamp")


def parse(body: bytes) -> dict[str, str]:
    """The SNS message in ``body``; :class:`ValidationError` when it is not one."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"The SNS message is not JSON: {exc}.", field="body",
                              rule="sns_json") from exc
    if not isinstance(doc, dict):
        raise ValidationError("The SNS message is not a JSON object.", field="body",
                              rule="sns_json")
    missing = [k for k in REQUIRED if not isinstance(doc.get(k), str)]
    if missing:
        raise ValidationError(f"The SNS message lacks {', '.join(missing)}.",
                              field=missing[0], rule="sns_fields")
    if doc["Type"] not in TYPES:
        raise ValidationError(f"Unknown SNS message type {doc['Type']!r}.", field="Type",
                              rule="sns_type")
    return doc


def string_to_sign(doc: dict[str, Any]) -> bytes:
    """The text SNS signed for ``doc``."""
    fields = NOTIFICATION_FIELDS if doc.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{k}\n{doc[k]}\n" for k in fields if k in doc).encode()


def load_certificates(pem: str) -> list[x509.Certificate]:
    """The certificates in a PEM bundle (the ``sns_signing_certificates`` setting)."""
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise ConfigError("sns_signing_certificates is not a PEM certificate.",
                          hint="Paste the certificate at the SigningCertURL of a message "
                          "SNS sent you (-----BEGIN CERTIFICATE----- …).") from exc
    return certs


def signature_valid(doc: dict[str, Any], certificates: Sequence[x509.Certificate]) -> bool:
    """Whether one of ``certificates`` signed ``doc`` (SignatureVersion 1 or 2)."""
    version = doc.get("SignatureVersion")
    digest = {"1": hashes.SHA1, "2": hashes.SHA256}.get(str(version))  # noqa: S303
    try:
        signature = base64.b64decode(str(doc.get("Signature", "")), validate=True)
    except binascii.Error:
        return False
    if digest is None or not signature:
        return False
    text = string_to_sign(doc)
    for cert in certificates:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, text, padding.PKCS1v15(), digest())
            return True
        except InvalidSignature:
            continue
    return False
