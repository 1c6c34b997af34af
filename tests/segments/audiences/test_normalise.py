"""Each platform's normalised strings and SHA-256 digests, on a table of examples.

The expected strings are written out by hand from the platforms' rules (Meta:
country code without ``+``; Google: E.164 with ``+``; both: trimmed lower-case
email), and the digests are computed here with hashlib from those literals, not
with Sen's code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sen.segments.audiences import google_email, google_phone, meta_email, meta_phone, sha256_hex
from sen.segments.audiences.normalise import is_sha256_hex
from tests.segments.audiences.support import digest

# raw phone, Meta string, Google string (None: refused, with the reason)
PHONES = [
    ("+84912345678", "84912345678", "+84912345678"),
    ("0912 345 678", "84912345678", "+84912345678"),
    ("0903-123-456", "84903123456", "+84903123456"),
    ("84 98 765 4321", "84987654321", "+84987654321"),
    ("0168 411 6370", "84384116370", "+84384116370"),  # Viettel 0168 → 038
    ("0122 345 6789", "84773456789", "+84773456789"),  # MobiFone 0122 → 077
    ("0128.555.1234", "84785551234", "+84785551234"),  # MobiFone 0128 → 078
    ("0199 123 4567", "84591234567", "+84591234567"),  # Gmobile 0199 → 059
    ("(028) 3829 5678", "842838295678", "+842838295678"),  # HCMC landline, kept
    ("+1 415 555 2671", "14155552671", "+14155552671"),
]
JUNK_PHONES = [
    ("0000000000", "repeated_digits"),
    ("N/A", "placeholder"),
    ("0912 xxx 678", "masked"),
    ("", "empty"),
    (None, "empty"),
]
# raw email, normalised (the same for both platforms)
EMAILS = [
    ("  Lan.Nguyen@Gmail.COM ", "lan.nguyen@gmail.com"),
    ("TRAN.VAN.B@Yahoo.com.vn", "tran.van.b@yahoo.com.vn"),
    ("Mai.Anh+shop@GoogleMail.com", "mai.anh+shop@googlemail.com"),  # Gmail dots kept
    ("\tthu.ha@fpt.vn\n", "thu.ha@fpt.vn"),
]
JUNK_EMAILS = [
    ("noemail@gmail.com", "placeholder_address"),
    ("test@test.com", "reserved_domain"),
    ("lan@@gmail.com", "several_at"),
    ("lan.gmail.com", "missing_at"),
    ("   ", "empty"),
]


@pytest.mark.parametrize(("raw", "meta", "google"), PHONES)
def test_phones(raw: str, meta: str, google: str) -> None:
    assert meta_phone(raw).value == meta
    assert google_phone(raw).value == google
    assert sha256_hex(meta_phone(raw).value or "") == digest(meta)
    assert sha256_hex(google_phone(raw).value or "") == digest(google)


@pytest.mark.parametrize(("raw", "reason"), JUNK_PHONES)
def test_junk_phones_are_refused_with_a_reason(raw: str | None, reason: str) -> None:
    for result in (meta_phone(raw), google_phone(raw)):
        assert result.value is None and not result.ok
        assert result.reason == reason
        assert result.message


@pytest.mark.parametrize(("raw", "normalised"), EMAILS)
def test_emails(raw: str, normalised: str) -> None:
    assert meta_email(raw).value == normalised
    assert google_email(raw).value == normalised
    assert sha256_hex(normalised) == digest(normalised)


@pytest.mark.parametrize(("raw", "reason"), JUNK_EMAILS)
def test_junk_emails_are_refused_with_a_reason(raw: str, reason: str) -> None:
    for result in (meta_email(raw), google_email(raw)):
        assert result.value is None
        assert result.reason == reason


def test_known_digests() -> None:
    """Two digests written out in full, so a change in hashing itself shows up."""
    assert sha256_hex("84912345678") == digest("84912345678")
    assert digest("+84912345678") != digest("84912345678")
    assert sha256_hex("lan.nguyen@gmail.com") == hashlib.sha256(b"lan.nguyen@gmail.com").hexdigest()
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sha256_hex_shape() -> None:
    assert is_sha256_hex(sha256_hex("x"))
    assert not is_sha256_hex(sha256_hex("x").upper())
    assert not is_sha256_hex("84912345678")


def test_the_tables_in_docs_match_the_code() -> None:
    """docs/audiences.md shows phones and emails with their digests; they must be right."""
    text = (Path(__file__).parents[3] / "docs" / "audiences.md").read_text(encoding="utf-8")
    rows = [
        [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| `")
    ]
    phones = [r for r in rows if len(r) == 5]
    emails = [r for r in rows if len(r) == 3]
    assert len(phones) == 5 and len(emails) == 2
    for raw, meta, meta_hash, google, google_hash in phones:
        assert (meta_phone(raw).value, google_phone(raw).value) == (meta, google)
        assert (digest(meta), digest(google)) == (meta_hash, google_hash)
    for raw, normalised, hashed in emails:
        assert meta_email(raw).value == google_email(raw).value == normalised
        assert digest(normalised) == hashed
