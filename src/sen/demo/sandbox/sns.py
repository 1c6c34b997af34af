"""Amazon SNS as an HTTP(S) subscriber sees it, publishing Amazon SES notifications.

Written from AWS's documents: the SNS message (``Type``, ``MessageId``,
``TopicArn``, ``Message``, ``Timestamp``, ``SignatureVersion``, ``Signature``,
``SigningCertURL``, ``UnsubscribeURL``; ``Token`` and ``SubscribeURL`` on a
subscription confirmation), the ``x-amz-sns-*`` request headers, the
``text/plain`` body, and the signature: RSA over ``name\\nvalue\\n`` of the
signed fields in their fixed order, SHA-1 for SignatureVersion 1 and SHA-256
for 2. The signing certificate is made here (SNS's own is at SigningCertURL);
Sen is told to trust it. The SES side follows "Amazon SNS notification
contents for Amazon SES": a ``mail`` object with ``messageId`` and
``commonHeaders``, and a ``bounce``, ``complaint`` or ``delivery`` object.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                       "TopicArn", "Type")
REGION = "ap-southeast-1"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class SnsTopic:
    """A topic that signs what it publishes and posts it to one subscribed URL."""

    def __init__(self, url: str, *, topic_arn: str | None = None, signature_version: int = 2,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self.topic_arn = topic_arn or f"arn:aws:sns:{REGION}:123456789012:sen-ses-feedback"
        self.signature_version = signature_version
        self.client = client or httpx.Client(timeout=10)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.now(UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(30))
            .sign(self._key, hashes.SHA256()))

    @property
    def certificate_pem(self) -> str:
        """What Sen's ``sns_signing_certificates`` setting is given."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, doc: dict[str, str]) -> dict[str, str]:
        """``doc`` with SignatureVersion, Signature and SigningCertURL added."""
        fields = NOTIFICATION_FIELDS if doc["Type"] == "Notification" else CONFIRMATION_FIELDS
        text = "".join(f"{k}\n{doc[k]}\n" for k in fields if k in doc)
        digest = hashes.SHA1() if self.signature_version == 1 else hashes.SHA256()  # noqa: S303
        signature = self._key.sign(text.encode(), padding.PKCS1v15(), digest)
        return {**doc, "SignatureVersion": str(self.signature_version),
                "Signature": base64.b64encode(signature).decode(),
                "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/"
                                  f"SimpleNotificationService-{uuid.uuid4().hex}.pem"}

    def envelope(self, message: dict[str, Any], *, subject: str | None = None) -> dict[str, str]:
        """A signed ``Notification`` carrying ``message`` as JSON text."""
        doc = {"Type": "Notification", "MessageId": str(uuid.uuid4()),
               "TopicArn": self.topic_arn, "Message": json.dumps(message),
               "Timestamp": _iso(datetime.now(UTC))}
        if subject is not None:
            doc["Subject"] = subject
        signed = self.sign(doc)
        signed["UnsubscribeURL"] = (f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe"
                                    f"&SubscriptionArn={self.topic_arn}:{uuid.uuid4()}")
        return signed

    def confirmation(self) -> dict[str, str]:
        """A signed ``SubscriptionConfirmation``."""
        token = uuid.uuid4().hex * 4
        return self.sign({
            "Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()),
            "Token": token, "TopicArn": self.topic_arn,
            "Message": f"You have chosen to subscribe to the topic {self.topic_arn}.\n"
                       "To confirm the subscription, visit the SubscribeURL included in this "
                       "message.",
            "SubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=ConfirmSubscription"
                            f"&TopicArn={self.topic_arn}&Token={token}",
            "Timestamp": _iso(datetime.now(UTC))})

    def post(self, doc: dict[str, str]) -> httpx.Response:
        """Deliver ``doc`` the way SNS does: POST, text/plain JSON, x-amz-sns-* headers."""
        headers = {"x-amz-sns-message-type": doc["Type"],
                   "x-amz-sns-message-id": doc["MessageId"],
                   "x-amz-sns-topic-arn": doc["TopicArn"],
                   "Content-Type": "text/plain; charset=UTF-8",
                   "User-Agent": "Amazon Simple Notification Service Agent"}
        return self.client.post(self.url, content=json.dumps(doc).encode(), headers=headers)


def ses_mail(ses_id: str, *, source: str, destination: list[str], message_id: str | None,
             subject: str = "", at: datetime | None = None) -> dict[str, Any]:
    """The ``mail`` object; ``commonHeaders`` only when headers are included (``message_id``)."""
    mail: dict[str, Any] = {
        "timestamp": _iso(at or datetime.now(UTC)), "messageId": ses_id, "source": source,
        "sourceArn": f"arn:aws:ses:{REGION}:123456789012:identity/{source.split('@')[-1]}",
        "sourceIp": "127.0.0.1", "sendingAccountId": "123456789012",
        "destination": destination}
    if message_id is not None:
        mail["headersTruncated"] = False
        mail["headers"] = [{"name": "Message-ID", "value": message_id},
                           {"name": "Subject", "value": subject}]
        mail["commonHeaders"] = {"from": [source], "to": destination, "messageId": message_id,
                                 "subject": subject}
    return mail


def ses_bounce(mail: dict[str, Any], recipients: list[str], *, bounce_type: str = "Permanent",
               sub_type: str = "General", diagnostic: str | None = None) -> dict[str, Any]:
    status = "5.1.1" if bounce_type == "Permanent" else "4.2.2"
    return {"notificationType": "Bounce", "mail": mail, "bounce": {
        "bounceType": bounce_type, "bounceSubType": sub_type,
        "bouncedRecipients": [{"emailAddress": r, "action": "failed", "status": status,
                               "diagnosticCode": diagnostic or f"smtp; 550 {status} user unknown"}
                              for r in recipients],
        "timestamp": _iso(datetime.now(UTC)), "feedbackId": f"{uuid.uuid4().hex}-000000",
        "remoteMtaIp": "127.0.2.0", "reportingMTA": "dsn; sandbox.sen.test"}}


def ses_complaint(mail: dict[str, Any], recipients: list[str], *,
                  feedback_type: str = "abuse") -> dict[str, Any]:
    now = _iso(datetime.now(UTC))
    return {"notificationType": "Complaint", "mail": mail, "complaint": {
        "complainedRecipients": [{"emailAddress": r} for r in recipients],
        "timestamp": now, "feedbackId": f"{uuid.uuid4().hex}-000000",
        "userAgent": "Sandbox Feedback Loop", "complaintFeedbackType": feedback_type,
        "arrivalDate": now}}


def ses_delivery(mail: dict[str, Any], recipients: list[str]) -> dict[str, Any]:
    return {"notificationType": "Delivery", "mail": mail, "delivery": {
        "timestamp": _iso(datetime.now(UTC)), "processingTimeMillis": 546,
        "recipients": recipients, "smtpResponse": "250 ok:  Message 64111812 accepted",
        "remoteMtaIp": "127.0.2.0", "reportingMTA": "a8-70.smtp-out.amazonses.com"}}
