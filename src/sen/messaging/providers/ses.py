"""Amazon SES bounce, complaint and delivery notifications, as SNS delivers them to Sen.

A pure parser: request in, receipts, opt-outs and notes out, no outbound call.
What it relies on in the SES notification (the SNS ``Message``, itself JSON;
AWS, "Amazon SNS notification contents for Amazon SES"):

* ``notificationType`` (or ``eventType`` when SES event publishing sends it):
  ``Bounce``, ``Complaint``, ``Delivery``;
* ``mail.messageId``, the SES id (what SES's SMTP interface answered), and,
  when the identity includes original headers, ``mail.commonHeaders.messageId``
  (the Message-ID Sen wrote, which carries the outbox key);
* ``bounce.bounceType`` (``Permanent``, ``Transient``, ``Undetermined``),
  ``bounceSubType``, ``bouncedRecipients[].emailAddress`` / ``diagnosticCode``
  / ``status``, ``bounce.timestamp``;
* ``complaint.complainedRecipients[].emailAddress``, ``complaintFeedbackType``
  (RFC 5965: ``abuse``, ``not-spam``…), ``complaint.timestamp``;
* ``delivery.recipients``, ``delivery.timestamp``.

What becomes of them: a permanent bounce is a ``BOUNCED`` receipt for the
address (the dispatcher marks it unreachable); a transient or undetermined
bounce only a note (SES itself retries, and reports a permanent bounce if it
gives up); a complaint an opt-out of that address, except ``not-spam``
feedback; a delivery a ``DELIVERED`` receipt. A subscription confirmation
becomes a note with its SubscribeURL for the admin to open.

Who may post: see :func:`authenticate`.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from sen.errors import AuthError, ValidationError
from sen.messaging.model import Channel, Inbound, Receipt, Status
from sen.messaging.providers import sns
from sen.messaging.providers.base import WebhookNote, WebhookRequest, WebhookResult
from sen.messaging.providers.mime import key_from_message_id
from sen.messaging.providers.smtp import SmtpSecrets, SmtpSettings

PROVIDER = "smtp"
_HINT = ("Subscribe Sen's URL with ?token=<the webhook_token secret> to the SNS topic, or "
         "set sns_signing_certificates to the certificate SNS signs with.")


def authenticate(req: WebhookRequest, doc: dict[str, Any], config: SmtpSettings,
                 secrets: SmtpSecrets) -> None:
    """Refuse a message that does not pass every check configured.

    Two checks, either or both: the ``webhook_token`` secret in the subscribed
    URL's ``token`` query parameter (SNS posts to the URL as subscribed, over
    TLS), and SNS's own signature checked against ``sns_signing_certificates``.
    With neither configured nothing is accepted. ``sns_topic_arns``, when set,
    limits the topics.
    """
    token, pem = secrets.webhook_token, config.sns_signing_certificates.strip()
    if not token and not pem:
        raise AuthError("This provider does not accept SES notifications yet.", hint=_HINT)
    if token and not hmac.compare_digest(req.query.get("token", "").encode(), token.encode()):
        raise AuthError("The SES notification came without this provider's token.",
                        hint="Check the token in the URL subscribed to the SNS topic.")
    if pem and not sns.signature_valid(doc, sns.load_certificates(pem)):
        raise AuthError("The SNS signature does not verify.",
                        hint="If AWS renewed its signing certificate, paste the one at the "
                        "message's SigningCertURL into sns_signing_certificates.")
    if config.sns_topic_arns and doc["TopicArn"] not in config.sns_topic_arns:
        raise AuthError(f"The SNS topic {doc['TopicArn']} is not accepted.",
                        hint="Add it to sns_topic_arns, or unsubscribe Sen from it.")


def _at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC) \
            .replace(tzinfo=None)
    except ValueError:
        return None


def _address(value: Any) -> str:
    return parseaddr(str(value or ""))[1].strip().lower()


def _ids(mail: dict[str, Any]) -> tuple[str | None, str | None]:
    """(SES id, Sen's outbox key from the original Message-ID)."""
    common = mail.get("commonHeaders") or {}
    message_id = common.get("messageId") or next(
        (h.get("value") for h in mail.get("headers") or []
         if str(h.get("name", "")).lower() == "message-id"), None)
    return mail.get("messageId"), key_from_message_id(message_id)


def _bounce(body: dict[str, Any], ses_id: str | None, key: str | None) -> WebhookResult:
    kind, sub = body.get("bounceType", "Undetermined"), body.get("bounceSubType", "")
    at = _at(body.get("timestamp"))
    receipts, notes = [], []
    for r in body.get("bouncedRecipients") or []:
        address = _address(r.get("emailAddress"))
        reason = r.get("diagnosticCode") or r.get("status") or f"{kind}/{sub}"
        if kind == "Permanent":
            receipts.append(Receipt(PROVIDER, Status.BOUNCED, provider_id=ses_id, key=key,
                                    address=address, reason=reason, at=at))
        else:
            notes.append(WebhookNote(
                "soft_bounce", f"{kind} bounce for {address} ({sub}): {reason}",
                {"address": address, "provider_id": ses_id, "key": key, "bounce_type": kind,
                 "sub_type": sub, "reason": reason}))
    return WebhookResult(receipts=receipts, notes=notes)


def _complaint(body: dict[str, Any], ses_id: str | None, key: str | None) -> WebhookResult:
    feedback = body.get("complaintFeedbackType") or "complaint"
    at = _at(body.get("timestamp"))
    raw = {"provider_id": ses_id, "key": key, "feedback_type": feedback,
           "feedback_id": body.get("feedbackId")}
    return WebhookResult(inbound=[
        Inbound(PROVIDER, Channel.EMAIL, _address(r.get("emailAddress")), text=feedback,
                opt_out=feedback != "not-spam", at=at, raw=raw)
        for r in body.get("complainedRecipients") or []])


def _delivery(body: dict[str, Any], ses_id: str | None, key: str | None) -> WebhookResult:
    at = _at(body.get("timestamp"))
    return WebhookResult(receipts=[
        Receipt(PROVIDER, Status.DELIVERED, provider_id=ses_id, key=key, address=_address(r),
                at=at) for r in body.get("recipients") or []])


def notification(message: dict[str, Any]) -> WebhookResult:
    """What one SES notification (the SNS ``Message``, decoded) means for Sen."""
    kind = message.get("notificationType") or message.get("eventType")
    ses_id, key = _ids(message.get("mail") or {})
    handlers = {"Bounce": ("bounce", _bounce), "Complaint": ("complaint", _complaint),
                "Delivery": ("delivery", _delivery)}
    if kind not in handlers:
        return WebhookResult(notes=[WebhookNote(
            "ses_other", f"SES sent a {kind or 'notification'} that Sen does not act on.",
            {"notification_type": kind, "message": message.get("message")})])
    field, handler = handlers[kind]
    return handler(message.get(field) or {}, ses_id, key)


def parse_webhook(req: WebhookRequest, config: SmtpSettings,
                  secrets: SmtpSecrets) -> WebhookResult:
    """Authenticate an SNS POST and read the SES notification (or confirmation) in it."""
    doc = sns.parse(req.body)
    authenticate(req, doc, config, secrets)
    header = req.headers.get("x-amz-sns-message-type")
    if header is not None and header != doc["Type"]:
        raise ValidationError("x-amz-sns-message-type does not match the message's Type.",
                              field="Type", rule="sns_type")
    if doc["Type"] == "SubscriptionConfirmation":
        return WebhookResult(notes=[WebhookNote(
            "sns_subscription", f"SNS asks to confirm Sen's subscription to {doc['TopicArn']}:"
            " open the SubscribeURL once.",
            {"topic_arn": doc["TopicArn"], "subscribe_url": doc.get("SubscribeURL")})])
    if doc["Type"] == "UnsubscribeConfirmation":
        return WebhookResult(notes=[WebhookNote(
            "sns_unsubscribed", f"Sen is no longer subscribed to {doc['TopicArn']}.",
            {"topic_arn": doc["TopicArn"], "subscribe_url": doc.get("SubscribeURL")})])
    try:
        message = json.loads(doc["Message"])
    except ValueError as exc:
        raise ValidationError("The SNS Message is not an SES notification (not JSON).",
                              field="Message", rule="ses_json") from exc
    if not isinstance(message, dict):
        raise ValidationError("The SNS Message is not an SES notification.",
                              field="Message", rule="ses_json")
    return notification(message)
