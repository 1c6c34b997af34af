"""The sandbox relay speaks SMTP as a relay must, and signs SNS messages as AWS documents."""

from __future__ import annotations

import base64
import json
import smtplib
import ssl

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sen.demo.sandbox.certs import local_ca
from sen.demo.sandbox.smtp import SmtpSandbox
from sen.demo.sandbox.sns import SnsTopic

MAIL = b"From: a@shop.vn\r\nTo: b@gmail.com\r\nSubject: x\r\n\r\nhello\r\n"


@pytest.fixture(scope="module")
def ca():  # noqa: ANN201
    return local_ca()


def client_context(ca) -> ssl.SSLContext:  # noqa: ANN001
    return ssl.create_default_context(cadata=ca.ca_pem.decode())


def test_auth_is_offered_only_after_starttls(ca) -> None:
    with SmtpSandbox(tls=ca.server_context(), users={"u": "p"}) as relay, \
            smtplib.SMTP("127.0.0.1", relay.port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
        assert smtp.mail("a@shop.vn")[0] == 530  # STARTTLS first
        smtp.starttls(context=client_context(ca))
        smtp.ehlo()
        assert smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("u", "wrong")
        smtp.user, smtp.password = "u", "p"
        assert smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)[0] == 235
        assert smtp.sendmail("a@shop.vn", ["b@gmail.com"], MAIL) == {}
    assert relay.messages[0].part("plain") == "hello\n" and relay.messages[0].tls
    assert relay.logins == ["LOGIN:u"]


def test_the_final_reply_carries_an_id_like_ses() -> None:
    with SmtpSandbox() as relay, smtplib.SMTP("127.0.0.1", relay.port) as smtp:
        smtp.ehlo()
        smtp.mail("a@shop.vn")
        smtp.rcpt("b@gmail.com")
        code, reply = smtp.data(MAIL)
    assert code == 250 and reply.decode() == f"Ok {relay.messages[0].id}"


def test_implicit_tls_with_the_demo_certificate_requires_auth(ca) -> None:
    with SmtpSandbox(tls=ca.server_context(), implicit_tls=True, users={"u": "p"}) as relay, \
            smtplib.SMTP_SSL("127.0.0.1", relay.port, context=client_context(ca)) as smtp:
        smtp.ehlo()
        assert smtp.mail("a@shop.vn")[0] == 530
        smtp.rset()
        smtp.login("u", "p")
        assert smtp.mail("a@shop.vn")[0] == 250


@pytest.mark.parametrize("version, digest", [(1, hashes.SHA1()), (2, hashes.SHA256())])  # noqa: S303
def test_sns_signatures_follow_the_documented_string_to_sign(version, digest) -> None:
    seen: list[httpx.Request] = []
    topic = SnsTopic("https://sen.test/hook", signature_version=version, client=httpx.Client(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))))
    topic.post(topic.envelope({"notificationType": "Delivery"}, subject="Hi"))
    doc = json.loads(seen[0].content)
    text = "".join(f"{k}\n{doc[k]}\n" for k in
                   ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"))
    topic.certificate.public_key().verify(base64.b64decode(doc["Signature"]), text.encode(),
                                          padding.PKCS1v15(), digest)
    assert seen[0].headers["x-amz-sns-message-type"] == "Notification"
    assert seen[0].headers["content-type"].startswith("text/plain")
    assert doc["SignatureVersion"] == str(version)
