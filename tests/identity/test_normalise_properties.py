"""Idempotence: normalising a normalised value gives it back unchanged.

Normalised values are stored and later normalised again (re-imports, merges of
profiles built by older versions); if that changed them, one person would get
two keys.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sen.identity import (
    IdentifierType,
    Normalised,
    fold_name,
    normalise,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from sen.identity.carriers import CARRIER_PREFIXES, LEGACY_PREFIXES

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
letters = st.sampled_from(VIETNAMESE + VIETNAMESE.upper())
words = st.text(letters, min_size=1, max_size=8)
names = st.lists(words, min_size=1, max_size=5).map(" ".join)
separators = st.sampled_from(["", " ", ".", "-", "  "])
subscriber = st.text("0123456789", min_size=7, max_size=7)
current = st.sampled_from([p for ps in CARRIER_PREFIXES.values() for p in ps])
national = st.builds(lambda p, s: f"0{p}{s}", current, subscriber)
legacy = st.builds(lambda p, s: f"0{p}{s}", st.sampled_from(list(LEGACY_PREFIXES)), subscriber)
typed_phones = st.builds(
    lambda number, sep, intl: (f"+84{sep}" + number[1:] if intl else number).replace(
        "9", f"9{sep}"
    ),
    st.one_of(national, legacy),
    separators,
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(typed_phones, st.text(max_size=20), st.text("0123456789+ .()-", max_size=16)))
@example("+1 (415) 555-2671")
@example("0283822123")
@example("024 3822 1234")
def test_phone_normalisation_is_idempotent(raw: str) -> None:
    first = normalise_phone(raw)
    if first.e164 is None:
        return
    again = normalise_phone(first.e164)
    assert again.e164 == first.e164
    assert (again.kind, again.carrier, again.foreign) == (first.kind, first.carrier, first.foreign)
    assert not again.migrated


@settings(max_examples=300, deadline=None)
@given(typed_phones)
def test_every_well_typed_current_or_legacy_number_is_accepted(raw: str) -> None:
    r = normalise_phone(raw)
    assert r.kind == "mobile" or r.reason in ("repeated_digits", "sequential_digits")


emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(letters | st.sampled_from("0123456789._+-"), min_size=1, max_size=12),
    st.text(letters | st.sampled_from("0123456789-"), min_size=1, max_size=10),
    st.sampled_from(["com", "vn", "COM", "com.vn", "Net"]),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(emails, emails.map(lambda e: f"  {e.upper()} "), st.text(max_size=30)))
def test_email_normalisation_is_idempotent(raw: str) -> None:
    first = normalise_email(raw)
    if first.email is None:
        return
    again = normalise_email(first.email)
    assert (again.email, again.reason) == (first.email, first.reason)


@settings(max_examples=300, deadline=None)
@given(st.one_of(names, names.map(str.upper), st.text(max_size=30)))
@example("ﬁx ß İstanbul")
def test_name_normalisation_and_folding_are_idempotent(raw: str) -> None:
    name = normalise_name(raw)
    if name is not None:
        assert normalise_name(name) == name
    assert fold_name(fold_name(raw)) == fold_name(raw)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(IdentifierType)), st.text(max_size=40))
@example(IdentifierType.MARKETPLACE_BUYER, "TikTok Shop:Long_4323")
@example(IdentifierType.DEVICE_ID, "6F9619FF8B86D011B42D00C04FC964FF")
@example(IdentifierType.LOYALTY_CARD, "vm 1331-1620")
def test_every_identifier_type_is_idempotent(type_: IdentifierType, raw: str) -> None:
    first = normalise(type_, raw)
    if isinstance(first, Normalised):
        assert normalise(type_, first.value) == first
