"""Email addresses as cashiers and web forms store them."""

from __future__ import annotations

import unicodedata

import pytest

from sen.demo.dirt import JUNK_EMAILS
from sen.identity import EmailReason, normalise_email
from sen.identity.emails import MESSAGES

USABLE = [
    ("lan.nguyen@gmail.com", "lan.nguyen@gmail.com"),
    (" Lan.Nguyen@Gmail.com  ", "lan.nguyen@gmail.com"),
    ("UYENLE347@ICLOUD.COM ", "uyenle347@icloud.com"),
    ("\ufeffbinhnt94@gmail.com", "binhnt94@gmail.com"),  # a BOM from a CSV export
    ("binh\u200bnt94@gmail.com", "binhnt94@gmail.com"),  # a zero-width space
    ("dung.le82+shop@outlook.com", "dung.le82+shop@outlook.com"),  # tags are kept
    ("ketoan@congty.com.vn", "ketoan@congty.com.vn"),
    ("hr_dept@sub-domain.example-shop.vn", "hr_dept@sub-domain.example-shop.vn"),
    ("0912345678@gmail.com", "0912345678@gmail.com"),
    ("info@xn--vit-nam-4ya.vn", "info@xn--vit-nam-4ya.vn"),
    ("nguyễn@tênmiền.vn", "nguyễn@tênmiền.vn"),
]


@pytest.mark.parametrize(("raw", "email"), USABLE)
def test_usable_addresses_are_trimmed_and_lower_cased(raw: str, email: str) -> None:
    r = normalise_email(raw)
    assert (r.email, r.reason, r.is_key_usable) == (email, None, True)


def test_decomposed_unicode_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn@TênMiền.vn")
    assert normalise_email(decomposed).email == "nguyễn@tênmiền.vn"


PLACEHOLDERS = [
    ("test@test.com", EmailReason.RESERVED_DOMAIN),
    ("TEST@TEST.COM ", EmailReason.RESERVED_DOMAIN),
    ("lan@example.com", EmailReason.RESERVED_DOMAIN),
    ("lan@example.vn", EmailReason.RESERVED_DOMAIN),
    ("lan@example.com.vn", EmailReason.RESERVED_DOMAIN),
    ("lan@shop.test", EmailReason.RESERVED_DOMAIN),
    ("noemail@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("no-email@yahoo.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("noemail123@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("no@email.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("none@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("khongco@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("khong.co.email@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("abc@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("xxx@yahoo.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("test1@gmail.com", EmailReason.PLACEHOLDER_ADDRESS),
    ("noemail@velamoc.vn", EmailReason.PLACEHOLDER_ADDRESS),
]


@pytest.mark.parametrize(("raw", "reason"), PLACEHOLDERS)
def test_placeholder_addresses_keep_their_text_but_are_not_keys(
    raw: str, reason: EmailReason
) -> None:
    r = normalise_email(raw)
    assert r.email == raw.strip().lower()
    assert (r.reason, r.is_key_usable) == (reason, False)


def test_an_address_at_the_shops_own_domain_is_not_the_customers() -> None:
    r = normalise_email("Khach.HCM03@Velamoc.vn", shop_domains=["velamoc.vn"])
    assert (r.reason, r.is_key_usable) == (EmailReason.SHOP_DOMAIN, False)
    assert normalise_email("khach.hcm03@velamoc.vn").is_key_usable


MALFORMED = [
    (None, EmailReason.EMPTY),
    ("", EmailReason.EMPTY),
    ("  ", EmailReason.EMPTY),
    ("N/A", EmailReason.PLACEHOLDER),
    ("Không có", EmailReason.PLACEHOLDER),
    ("-", EmailReason.PLACEHOLDER),
    ("lan.nguyen.gmail.com", EmailReason.MISSING_AT),
    ("0912345678", EmailReason.MISSING_AT),
    ("lan@@gmail.com", EmailReason.SEVERAL_AT),
    ("lan@gmail.com;binh@gmail.com", EmailReason.SEVERAL_AT),
    ("@velamoc.vn", EmailReason.BAD_LOCAL_PART),
    ("lan nguyen@gmail.com", EmailReason.BAD_LOCAL_PART),
    (".lan@gmail.com", EmailReason.BAD_LOCAL_PART),
    ("lan..nguyen@gmail.com", EmailReason.BAD_LOCAL_PART),
    ('"lan"@gmail.com', EmailReason.BAD_LOCAL_PART),
    ("lan@", EmailReason.BAD_DOMAIN),
    ("lan@gmail", EmailReason.BAD_DOMAIN),
    ("lan@gmail..com", EmailReason.BAD_DOMAIN),
    ("lan@-gmail.com", EmailReason.BAD_DOMAIN),
    ("lan@gmail.c", EmailReason.BAD_DOMAIN),
    ("lan@gmail.c0m", EmailReason.BAD_DOMAIN),
    ("lan@gm_ail.com", EmailReason.BAD_DOMAIN),
    ("lan@[127.0.0.1]", EmailReason.BAD_DOMAIN),
    ("lan@gmail.com.", EmailReason.BAD_DOMAIN),
]


@pytest.mark.parametrize(("raw", "reason"), MALFORMED)
def test_malformed_values_have_no_address(raw: str | None, reason: EmailReason) -> None:
    r = normalise_email(raw)
    assert (r.email, r.reason, r.is_key_usable) == (None, reason, False)
    assert r.message


@pytest.mark.parametrize("raw", JUNK_EMAILS)
def test_the_demo_retailers_junk_emails_are_never_keys(raw: str) -> None:
    assert not normalise_email(raw).is_key_usable


def test_every_reason_has_a_message() -> None:
    assert set(MESSAGES) == set(EmailReason)
