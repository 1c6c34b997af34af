"""SES notifications about mail the provider sent, posted through a signing SNS topic.

The relay keeps each message under an SES-style id and posts bounce, complaint and
delivery notifications about it; a stand-in for Sen's webhook route turns each POST
into a WebhookRequest for the parser, as the web layer will.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from sen.demo.sandbox.smtp import SmtpSandbox, StoredMail
from sen.demo.sandbox.sns import SnsTopic
from sen.errors import AuthError, SenError, ValidationError
from sen.messaging.model import Channel, Status
from sen.messaging.providers import KINDS
from sen.messaging.providers.base import WebhookRequest, WebhookResult
from sen.messaging.providers.smtp import SmtpSecrets, SmtpSettings
from tests.messaging.providers.conftest import SMTP_PASSWORD, SMTP_USER
from tests.messaging.providers.test_smtp import email, provider

TOKEN = "sns-token-7f3a9c"
KEY = "c:9:u:khach-42:email"


@dataclass
class SenWebhook:
    """What Sen's webhook route does: request → WebhookRequest → the kind's parser."""

    config: SmtpSettings
    secrets: SmtpSecrets
    results: list[WebhookResult] = field(default_factory=list)
    refused: list[SenError] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        req = WebhookRequest(request.method, dict(request.url.params),
                             {k.lower(): v for k, v in request.headers.items()}, request.content)
        try:
            self.results.append(KINDS["smtp"].parse_webhook(req, self.config, self.secrets))
        except AuthError as exc:
            self.refused.append(exc)
            return httpx.Response(401, json={"error": exc.message})
        except ValidationError as exc:
            self.refused.append(exc)
            return httpx.Response(400, json={"error": exc.message})
        return httpx.Response(200, json={"ok": True})


def settings(**kw: object) -> SmtpSettings:
    return SmtpSettings(host="email-smtp.ap-southeast-1.amazonaws.com",
                        from_address="cuahang@shop.example.vn", **kw)


def topic_to(webhook: SenWebhook, *, token: str | None = TOKEN, version: int = 2) -> SnsTopic:
    url = "https://sen.test/webhooks/email-main" + (f"?token={token}" if token else "")
    return SnsTopic(url, signature_version=version,
                    client=httpx.Client(transport=httpx.MockTransport(webhook)))


@pytest.fixture
def sent(server_tls, ca_file) -> Iterator[tuple[SmtpSandbox, StoredMail, str, SenWebhook]]:
    """One email sent through the relay; Sen trusts the topic's certificate and token."""
    webhook = SenWebhook(settings(), SmtpSecrets(webhook_token=TOKEN))
    topic = topic_to(webhook)
    webhook.config = settings(sns_signing_certificates=topic.certificate_pem,
                              sns_topic_arns=[topic.topic_arn])
    with SmtpSandbox(tls=server_tls, users={SMTP_USER: SMTP_PASSWORD}, sns=topic) as relay:
        sender = provider(relay, ca_file)
        result = sender.send(email(key=KEY, address="Khach@Gmail.com"))
        sender.close()
        yield relay, relay.messages[0], result.provider_id, webhook


def test_a_permanent_bounce_is_a_bounced_receipt_matched_both_ways(sent) -> None:
    relay, stored, ses_id, webhook = sent
    assert relay.bounce(stored).status_code == 200
    [result] = webhook.results
    [receipt] = result.receipts
    assert receipt.status is Status.BOUNCED and receipt.address == "khach@gmail.com"
    assert receipt.provider_id == ses_id == stored.id  # the id the SMTP reply gave
    assert receipt.key == KEY  # from the Message-ID Sen wrote
    assert "550" in receipt.reason and receipt.at is not None
    assert not result.inbound and not result.notes


def test_without_original_headers_the_ses_id_still_matches(sent) -> None:
    relay, stored, ses_id, webhook = sent
    relay.bounce(stored, with_headers=False)
    [receipt] = webhook.results[0].receipts
    assert receipt.provider_id == ses_id and receipt.key is None


@pytest.mark.parametrize("kind", ["Transient", "Undetermined"])
def test_a_soft_bounce_changes_nothing_but_leaves_a_note(sent, kind) -> None:
    relay, stored, ses_id, webhook = sent
    relay.bounce(stored, bounce_type=kind)
    [result] = webhook.results
    assert not result.receipts and not result.inbound
    [note] = result.notes
    assert note.kind == "soft_bounce" and note.data["address"] == "khach@gmail.com"
    assert note.data["provider_id"] == ses_id and note.data["key"] == KEY


def test_a_complaint_opts_the_address_out(sent) -> None:
    relay, stored, ses_id, webhook = sent
    relay.complain(stored)
    [inbound] = webhook.results[0].inbound
    assert inbound.channel is Channel.EMAIL and inbound.opt_out
    assert inbound.address == "khach@gmail.com" and inbound.text == "abuse"
    assert inbound.raw["provider_id"] == ses_id and inbound.raw["key"] == KEY


def test_not_spam_feedback_is_no_opt_out(sent) -> None:
    relay, stored, _, webhook = sent
    relay.complain(stored, feedback_type="not-spam")
    [inbound] = webhook.results[0].inbound
    assert not inbound.opt_out


def test_a_delivery_is_a_delivered_receipt(sent) -> None:
    relay, stored, ses_id, webhook = sent
    relay.deliver(stored)
    [receipt] = webhook.results[0].receipts
    assert receipt.status is Status.DELIVERED and receipt.provider_id == ses_id
    assert receipt.key == KEY and receipt.address == "khach@gmail.com"


def test_a_subscription_confirmation_is_a_note_with_its_url(sent) -> None:
    relay, _, _, webhook = sent
    topic = relay.sns
    assert topic.post(topic.confirmation()).status_code == 200
    [note] = webhook.results[0].notes
    assert note.kind == "sns_subscription" and note.data["topic_arn"] == topic.topic_arn
    assert note.data["subscribe_url"].startswith("https://sns.")
    assert "Action=ConfirmSubscription" in note.data["subscribe_url"]


def test_a_notification_signed_by_another_key_is_refused(sent) -> None:
    relay, stored, _, webhook = sent
    impostor = topic_to(webhook)  # same topic name and URL token, its own certificate
    impostor.topic_arn = relay.sns.topic_arn
    relay.sns = impostor
    assert relay.bounce(stored).status_code == 401
    assert webhook.results == [] and "signature" in webhook.refused[0].message


def test_a_changed_message_no_longer_verifies(sent) -> None:
    relay, stored, _, webhook = sent
    topic = relay.sns
    doc = topic.envelope({"notificationType": "Delivery", "mail": {"messageId": stored.id},
                          "delivery": {"recipients": ["khach@gmail.com"]}})
    doc["Message"] = doc["Message"].replace("Delivery", "Bounce")
    assert topic.post(doc).status_code == 401


def test_signature_version_1_verifies_too(server_tls) -> None:
    webhook = SenWebhook(settings(), SmtpSecrets())
    topic = topic_to(webhook, token=None, version=1)
    webhook.config = settings(sns_signing_certificates=topic.certificate_pem)
    assert topic.post(topic.confirmation()).status_code == 200


@pytest.mark.parametrize("token", [None, "guessed"])
def test_the_url_token_is_required_when_set(token) -> None:
    webhook = SenWebhook(settings(), SmtpSecrets(webhook_token=TOKEN))
    topic = topic_to(webhook, token=token)
    assert topic.post(topic.confirmation()).status_code == 401
    assert "token" in webhook.refused[0].message


def test_the_token_alone_is_enough_when_no_certificate_is_set() -> None:
    webhook = SenWebhook(settings(), SmtpSecrets(webhook_token=TOKEN))
    topic = topic_to(webhook)
    assert topic.post(topic.confirmation()).status_code == 200


def test_nothing_is_accepted_before_either_check_is_set_up() -> None:
    webhook = SenWebhook(settings(), SmtpSecrets())
    topic = topic_to(webhook, token=None)
    assert topic.post(topic.confirmation()).status_code == 401
    assert "webhook_token" in webhook.refused[0].hint


def test_another_topic_is_refused() -> None:
    webhook = SenWebhook(settings(sns_topic_arns=["arn:aws:sns:ap-southeast-1:1:other"]),
                         SmtpSecrets(webhook_token=TOKEN))
    topic = topic_to(webhook)
    assert topic.post(topic.confirmation()).status_code == 401
    assert "sns_topic_arns" in webhook.refused[0].hint


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", json.dumps({"Type": "Notification"})
                                  .encode()])
def test_a_body_that_is_not_an_sns_message_is_invalid(body: bytes) -> None:
    webhook = SenWebhook(settings(), SmtpSecrets(webhook_token=TOKEN))
    response = webhook(httpx.Request("POST", f"https://sen.test/w?token={TOKEN}", content=body))
    assert response.status_code == 400


def test_a_header_that_contradicts_the_body_is_invalid() -> None:
    webhook = SenWebhook(settings(), SmtpSecrets(webhook_token=TOKEN))
    topic = topic_to(webhook)
    doc = topic.confirmation()
    response = topic.client.post(topic.url, content=json.dumps(doc).encode(),
                                 headers={"x-amz-sns-message-type": "Notification"})
    assert response.status_code == 400
