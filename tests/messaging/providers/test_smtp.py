"""Email through a real SMTP server (aiosmtpd) with STARTTLS and AUTH, parsed back."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sen.demo.sandbox.smtp import SmtpSandbox
from sen.errors import ConfigError, ProviderError
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import build
from sen.messaging.providers.mime import message_id_for
from sen.messaging.providers.smtp import SmtpProvider, SmtpSecrets, SmtpSettings
from tests.messaging.providers.conftest import SMTP_PASSWORD, SMTP_USER

SUBJECT = "Ưu đãi tháng 9: giảm 50% cho Đặng Thị Hương"
BODY = "Chào chị Hương,\nĐơn hàng mới của chị được giảm 50% đến hết Chủ nhật."
HTML = "<p>Chào chị <b>Hương</b>, đơn hàng mới được giảm 50%.</p>"
UNSUB_HTTPS = ("https://shop.example.vn/u/" + "dGhpcyBpcyBhIGxvbmcgdW5zdWJzY3JpYmUgdG9rZW4" * 2
               + ".sig0123456789abcdef")
UNSUB = f"<{UNSUB_HTTPS}>, <mailto:unsubscribe@shop.example.vn?subject=u-42>"
ONE_CLICK = "List-Unsubscribe=One-Click"


def provider(relay: SmtpSandbox, ca_file: Path | None, *, extra: dict | None = None,
             **settings: object) -> SmtpProvider:
    config = {"host": "127.0.0.1", "port": relay.port, "security": "starttls",
              "ca_file": str(ca_file) if ca_file else None, "username": SMTP_USER,
              "from_address": "cuahang@shop.example.vn", "from_name": "Cửa hàng Sen",
              "return_path": "bounces@shop.example.vn", **settings}
    built = build("smtp", "email-main", config, {"password": SMTP_PASSWORD}, **(extra or {}))
    assert isinstance(built, SmtpProvider)
    return built


def email(key: str = "c:7:u:42:email", *, address: str = "huong@gmail.com",
          purpose: Purpose = Purpose.ADVERTISING, headers: dict[str, str] | None = None,
          html: str | None = HTML) -> OutgoingMessage:
    if headers is None:
        headers = {"List-Unsubscribe": UNSUB, "List-Unsubscribe-Post": ONE_CLICK}
    return OutgoingMessage(id=42, key=key, channel=Channel.EMAIL, purpose=purpose,
                           address=address, body=BODY, subject=SUBJECT, html=html,
                           headers=headers)


def test_advertising_email_arrives_whole_over_starttls_with_auth(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    result = sender.send(email())
    sender.close()

    [got] = relay.messages
    assert got.tls and relay.logins == [f"PLAIN:{SMTP_USER}"]
    assert got.mail_from == "bounces@shop.example.vn" and got.rcpt_tos == ["huong@gmail.com"]
    assert result.provider_id == got.id  # the id of "250 Ok <id>", what SES notifications name
    assert got.header("Subject") == SUBJECT
    assert got.header("From") == "Cửa hàng Sen <cuahang@shop.example.vn>"
    assert got.header("To") == "huong@gmail.com"
    assert got.header("Message-ID") == message_id_for("c:7:u:42:email", "shop.example.vn")
    assert got.message.get_content_type() == "multipart/alternative"
    assert got.part("plain").rstrip("\n") == BODY
    assert got.part("html").rstrip("\n") == HTML
    # 7-bit on the wire: UTF-8 only inside encoded words and base64/QP bodies.
    assert got.raw.isascii() and b"=?utf-8?" in got.raw.split(b"\r\n\r\n")[0]


def test_list_unsubscribe_headers_are_written_as_rfc_8058_wants(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    sender.send(email())
    sender.close()
    [got] = relay.messages
    head = got.raw.split(b"\r\n\r\n")[0]
    # Angle-bracketed URIs, never encoded words; folded only after the comma.
    assert (f"List-Unsubscribe: <{UNSUB_HTTPS}>,\r\n"
            " <mailto:unsubscribe@shop.example.vn?subject=u-42>\r\n").encode() in head + b"\r\n"
    assert f"List-Unsubscribe-Post: {ONE_CLICK}\r\n".encode() in head + b"\r\n"
    assert got.header("List-Unsubscribe") == UNSUB
    assert got.header("List-Unsubscribe-Post") == ONE_CLICK


@pytest.mark.parametrize("headers", [
    {},
    {"List-Unsubscribe": "<mailto:unsubscribe@shop.example.vn>",
     "List-Unsubscribe-Post": ONE_CLICK},
    {"List-Unsubscribe": UNSUB},
])
def test_advertising_without_one_click_unsubscribe_is_refused(relay, ca_file, headers) -> None:
    sender = provider(relay, ca_file)
    with pytest.raises(ProviderError) as caught:
        sender.send(email(headers=headers))
    assert not caught.value.transient and not caught.value.recipient
    assert "List-Unsubscribe" in caught.value.message and caught.value.hint
    assert relay.connections == 0 and relay.messages == []


def test_care_email_needs_no_unsubscribe_and_text_only_stays_single_part(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    sender.send(email(purpose=Purpose.CARE, headers={}, html=None))
    sender.close()
    [got] = relay.messages
    assert got.message.get_content_type() == "text/plain"
    assert got.part("plain").rstrip("\n") == BODY


def test_one_connection_carries_many_messages(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    for i in range(3):
        sender.send(email(key=f"k{i}"))
    sender.close()
    assert relay.connections == 1 and [m.connection for m in relay.messages] == [1, 1, 1]
    assert len({m.header("Message-ID") for m in relay.messages}) == 3


def test_a_dropped_connection_is_opened_again(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    sender.send(email(key="first"))
    relay.fail_next = ["drop"]  # the server closes the kept connection at the next MAIL
    sender.send(email(key="second"))
    sender.close()
    assert relay.connections == 2
    assert [m.connection for m in relay.messages] == [1, 2]


def test_a_fresh_connection_that_drops_is_transient_not_a_loop(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    relay.fail_next = ["drop"]
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    assert caught.value.transient and relay.connections == 1
    sender.send(email())
    sender.close()
    assert len(relay.messages) == 1


@pytest.mark.parametrize("failure", ["421", "451"])
def test_4xx_is_transient_and_the_next_message_goes(relay, ca_file, failure) -> None:
    sender = provider(relay, ca_file)
    relay.fail_next = [failure]
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    assert caught.value.transient and not caught.value.recipient
    assert caught.value.code == failure
    sender.send(email())
    sender.close()
    assert len(relay.messages) == 1


def test_550_is_about_the_recipient_and_keeps_the_connection(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    relay.fail_addresses["nobody@gmail.com"] = "550"
    with pytest.raises(ProviderError) as caught:
        sender.send(email(address="nobody@gmail.com"))
    assert caught.value.recipient and not caught.value.transient
    assert caught.value.code == "550"
    sender.send(email())
    sender.close()
    assert relay.connections == 1 and len(relay.messages) == 1


def test_a_refused_message_is_terminal_not_about_the_recipient(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    relay.fail_next = ["554"]
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    sender.close()
    assert not caught.value.transient and not caught.value.recipient
    assert caught.value.code == "554"


def test_a_drop_after_the_data_is_transient(relay, ca_file) -> None:
    sender = provider(relay, ca_file)
    relay.fail_next = ["drop_after_data"]
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    sender.close()
    assert caught.value.transient and len(relay.messages) == 1


def test_a_wrong_password_names_the_settings(relay, ca_file) -> None:
    sender = SmtpProvider("email-main", SmtpSettings(
        host="127.0.0.1", port=relay.port, ca_file=str(ca_file), username=SMTP_USER,
        from_address="cuahang@shop.example.vn"), SmtpSecrets(password="sai"))
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    assert not caught.value.transient and caught.value.code == "535"
    assert "username" in caught.value.hint and "password" in caught.value.hint


def test_an_untrusted_certificate_is_refused(relay) -> None:
    sender = provider(relay, None)
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    assert caught.value.code == "certificate" and "ca_file" in caught.value.hint
    assert relay.messages == []


def test_certificate_checks_can_be_turned_off_for_a_local_relay(relay) -> None:
    sender = provider(relay, None, verify_certificates=False)
    sender.send(email())
    sender.close()
    assert relay.messages[0].tls


def test_a_plain_relay_without_auth() -> None:
    with SmtpSandbox() as relay:
        sender = provider(relay, None, security="none", username=None)
        sender.send(email())
        sender.close()
        assert len(relay.messages) == 1 and not relay.messages[0].tls and relay.logins == []


def test_a_missing_ca_file_is_a_setting_to_fix(relay, tmp_path) -> None:
    sender = provider(relay, tmp_path / "missing.pem")
    with pytest.raises(ProviderError) as caught:
        sender.send(email())
    assert not caught.value.transient and caught.value.code == "ca_file"
    assert "ca_file" in caught.value.hint


def test_implicit_tls_on_its_own_port(server_tls, ca_file) -> None:
    with SmtpSandbox(tls=server_tls, implicit_tls=True,
                     users={SMTP_USER: SMTP_PASSWORD}) as relay:
        sender = provider(relay, ca_file, security="tls")
        sender.send(email())
        sender.close()
        assert relay.messages[0].tls


def test_without_an_id_in_the_reply_the_message_id_is_the_provider_id(server_tls,
                                                                       ca_file) -> None:
    with SmtpSandbox(tls=server_tls, users={SMTP_USER: SMTP_PASSWORD}, ses_ids=False) as relay:
        sender = provider(relay, ca_file)
        result = sender.send(email())
        sender.close()
        assert result.provider_id == relay.messages[0].header("Message-ID")


def test_nothing_listening_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = SmtpProvider("email-main", SmtpSettings(
        host="127.0.0.1", port=port, security="none", from_address="a@shop.example.vn"),
        SmtpSecrets())
    with pytest.raises(ProviderError) as caught:
        sender.send(email(purpose=Purpose.CARE, headers={}))
    assert caught.value.transient and caught.value.code == "connection"


@pytest.mark.parametrize("field, value", [("from_address", "Cửa hàng"),
                                          ("reply_to", "Sen <cskh@shop.vn>"),
                                          ("return_path", "bounces@")])
def test_addresses_in_the_settings_are_plain_addresses(field, value) -> None:
    settings = {"host": "h", "from_address": "cuahang@shop.example.vn", field: value}
    with pytest.raises(ConfigError, match=field):
        build("smtp", "email-main", settings, {})
