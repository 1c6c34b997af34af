"""The email as bytes: headers that survive readers, and a Message-ID that leads back."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest

from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import mime

LONG_NAME = "Cửa hàng thời trang Sen chi nhánh Hoàn Kiếm Hà Nội và Thành phố Hồ Chí Minh"
LONG_SUBJECT = ("Khuyến mãi tháng 9: giảm giá 50% cho tất cả sản phẩm thời trang nữ tại cửa "
                "hàng Sen, chỉ trong hôm nay thôi nhé chị Đặng Thị Hương")


def message(**kw: object) -> OutgoingMessage:
    fields = {"id": 1, "key": "c:1:a:anon-1:email", "channel": Channel.EMAIL,
              "purpose": Purpose.CARE, "address": "huong@example.vn", "body": "Xin chào",
              "subject": "Đơn hàng"}
    return OutgoingMessage(**{**fields, **kw})  # type: ignore[arg-type]


def parsed(msg: OutgoingMessage, **kw: object):  # noqa: ANN201
    raw = mime.as_bytes(mime.build(msg, from_address="shop@shop.vn", **kw))  # type: ignore[arg-type]
    return raw, message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize("key", ["c:1:a:anon-1:email", "j:welcome:u:ngọc@x:2", "x" * 120])
def test_message_id_carries_the_key_back(key: str) -> None:
    mid = mime.message_id_for(key, "shop.vn")
    assert mid.startswith("<sen.") and mid.endswith("@shop.vn>") and mid.isascii()
    assert mid == mime.message_id_for(key, "shop.vn")
    assert mime.key_from_message_id(mid) == key


@pytest.mark.parametrize("foreign", [None, "", "<abc@gmail.com>", "<sen.!!!@shop.vn>",
                                     "<0100018a-ses@email.amazonses.com>"])
def test_other_message_ids_carry_no_key(foreign: str | None) -> None:
    assert mime.key_from_message_id(foreign) is None


def test_long_vietnamese_subject_and_sender_keep_every_space() -> None:
    raw, got = parsed(message(subject=LONG_SUBJECT), from_name=LONG_NAME)
    head = raw.split(b"\r\n\r\n")[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert all(len(word) <= 75 for word in re.findall(rb"=\?utf-8\?[bq]\?[^?]*\?=", head))
    assert str(got["Subject"]) == LONG_SUBJECT
    # RFC 2047 readers drop the folding between encoded words and keep the encoded spaces.
    from_line = head.split(b"\r\nTo:")[0].decode().removeprefix("From: ")
    assert str(make_header(decode_header(from_line.replace("\r\n", "")))) == \
        f"{LONG_NAME} <shop@shop.vn>"
    # Python's address parser keeps that folding as a space, but never cuts a word.
    assert " ".join(got["From"].addresses[0].display_name.split()) == LONG_NAME
    assert got["From"].addresses[0].addr_spec == "shop@shop.vn"


def test_an_ascii_sender_name_with_specials_is_quoted() -> None:
    _, got = parsed(message(), from_name="Sen, Inc.")
    assert got["From"].addresses[0].display_name == "Sen, Inc."


def test_a_header_value_cannot_inject_headers() -> None:
    with pytest.raises(mime.MessageRefused):
        parsed(message(headers={"X-Campaign": "sale\r\nBcc: everyone@example.com"}))


@pytest.mark.parametrize("name", ["Subject", "bcc", "Message-ID", "Content-Type"])
def test_headers_sen_writes_cannot_be_overridden(name: str) -> None:
    with pytest.raises(mime.MessageRefused, match=name):
        parsed(message(headers={name: "x"}))


def test_reply_to_of_the_message_wins_over_the_setting() -> None:
    _, got = parsed(message(headers={"Reply-To": "cskh@shop.vn"}), reply_to="info@shop.vn")
    assert str(got["Reply-To"]) == "cskh@shop.vn"


def test_html_without_text_gets_a_text_part() -> None:
    _, got = parsed(message(body="", html="<p>Chào <b>chị</b></p><p>Hương</p>"))
    assert got.get_body(("plain",)).get_content().strip() == "Chào chị Hương"


@pytest.mark.parametrize("headers, problem", [
    ({"List-Unsubscribe": "<https://shop.vn/u/ư>", "List-Unsubscribe-Post": mime.ONE_CLICK},
     "ASCII"),
    ({"List-Unsubscribe": "<https://shop.vn/u/1>", "List-Unsubscribe-Post": "One-Click"},
     "exactly"),
])
def test_malformed_unsubscribe_headers_are_refused(headers, problem) -> None:
    with pytest.raises(mime.MessageRefused, match=problem):
        mime.check_unsubscribe(Purpose.CARE, headers)


def test_unsubscribe_headers_match_whatever_their_case() -> None:
    mime.check_unsubscribe(Purpose.ADVERTISING, {
        "list-unsubscribe": "<mailto:u@shop.vn>, <https://shop.vn/u/1>",
        "LIST-UNSUBSCRIBE-POST": mime.ONE_CLICK})


@pytest.mark.parametrize("uri, allowed", [
    ("https://shop.vn/u/1", True), ("http://127.0.0.1:8000/u/1", True),
    ("http://localhost:8000/u/1", True), ("http://[::1]:8000/u/1", True),
    ("http://shop.vn/u/1", False), ("http://10.0.0.5/u/1", False),
    ("http://127.0.0.1.shop.vn/u/1", False), ("mailto:u@shop.vn", False),
])
def test_advertising_unsubscribes_over_https_or_on_this_machine(uri: str, allowed: bool) -> None:
    headers = {"List-Unsubscribe": f"<{uri}>", "List-Unsubscribe-Post": mime.ONE_CLICK}
    if allowed:
        mime.check_unsubscribe(Purpose.ADVERTISING, headers)
    else:
        with pytest.raises(mime.MessageRefused, match="https"):
            mime.check_unsubscribe(Purpose.ADVERTISING, headers)
