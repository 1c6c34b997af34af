"""Tracked-link codes, unsubscribe tokens, the link key, destinations and bot clicks."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sen.config import Settings
from sen.errors import ConfigError, ValidationError
from sen.messaging.bots import classify_click
from sen.messaging.links import (
    BASE62,
    KEY_SETTING,
    LinkSettings,
    b62,
    destination,
    link_code,
    link_key,
    parse_link_code,
    parse_unsubscribe_code,
    short_url,
    unsubscribe_code,
    utm_for,
)
from sen.store.operational import app_settings
from sen.store.secrets import SecretBox

KEY = b"k" * 32
ids = st.integers(1, 2**63 - 1)
indexes = st.integers(0, 61)


@given(message_id=ids, index=indexes)
def test_link_codes_round_trip(message_id, index):
    code = link_code(message_id, index, KEY)
    assert set(code) <= set(BASE62)
    assert parse_link_code(code, KEY) == (message_id, index)


def test_link_codes_are_short():
    assert len(link_code(1_000_000, 3, KEY)) == 11
    assert short_url("https://s.shop.vn/", "abc") == "https://s.shop.vn/l/abc"


@settings(max_examples=300)
@given(message_id=ids, index=indexes, data=st.data())
def test_altered_codes_are_refused(message_id, index, data):
    code = link_code(message_id, index, KEY)
    at = data.draw(st.integers(0, len(code) - 1))
    char = data.draw(st.sampled_from(BASE62))
    assume(char != code[at])
    assert parse_link_code(code[:at] + char + code[at + 1:], KEY) is None
    assert parse_link_code(code[:-1], KEY) is None
    assert parse_link_code(code + char, KEY) is None


@given(message_id=ids, index=indexes, other=st.binary(min_size=16, max_size=64))
def test_a_code_made_with_another_key_is_refused(message_id, index, other):
    assume(other != KEY)
    assert parse_link_code(link_code(message_id, index, other), KEY) is None


@given(message_id=ids, index=indexes)
def test_links_and_unsubscribe_tokens_never_pass_for_each_other(message_id, index):
    link = link_code(message_id, index, KEY)
    token = unsubscribe_code(message_id, KEY)
    assert parse_unsubscribe_code(token, KEY) == message_id
    assert parse_unsubscribe_code(link, KEY) is None
    assert parse_link_code(token, KEY) is None


def test_forged_ids_and_junk_are_refused():
    code = link_code(42, 1, KEY)
    other_id = b62(43) + code[len(b62(42)):]  # same index and signature, another message
    assert parse_link_code(other_id, KEY) is None
    assert parse_link_code("0" + code, KEY) is None  # a second spelling of the id
    for junk in ("", "abc", "!" * 11, code + "/", "é" * 11, "x" * 41):
        assert parse_link_code(junk, KEY) is None
    with pytest.raises(ValidationError, match="62 tracked links"):
        link_code(1, 62, KEY)
    with pytest.raises(ValueError):
        link_code(0, 0, KEY)


def test_the_link_key_is_made_once_sealed_and_shared(ops, tmp_path):
    box = SecretBox.for_settings(Settings(data_dir=tmp_path))
    key = link_key(ops, box)
    assert len(key) == 32
    assert link_key(ops, SecretBox.for_settings(Settings(data_dir=tmp_path))) == key
    with ops.connect() as con:
        stored = con.execute(sa.select(app_settings.c.value)
                             .where(app_settings.c.key == KEY_SETTING)).scalar_one()
    assert base64.b64encode(key).decode() not in stored and key.hex() not in stored
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        link_key(ops, SecretBox(Fernet.generate_key()))  # another deployment's box


# -- destinations ----------------------------------------------------------------------

UTM = utm_for(channel="sms", campaign="tet-2025", template="tet-sms", variant="B")


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_utm_names_the_channel_campaign_template_and_variant():
    assert UTM == {"utm_source": "sen", "utm_medium": "sms", "utm_campaign": "tet-2025",
                   "utm_content": "tet-sms/B"}
    assert utm_for(channel="zalo", journey="welcome") == {
        "utm_source": "sen", "utm_medium": "zalo", "utm_campaign": "welcome"}


def test_destination_adds_parameters_without_clobbering():
    url = "https://shop.vn/ao-thun?color=tr%E1%BA%AFng&utm_source=newsletter#size"
    out = destination(url, utm=UTM, ajs=("KH 01", None))
    assert out.startswith("https://shop.vn/ao-thun?color=tr%E1%BA%AFng&utm_source=newsletter&")
    assert out.endswith("#size")
    assert query(out) == [("color", "trắng"), ("utm_source", "newsletter"), ("utm_medium", "sms"),
                          ("utm_campaign", "tet-2025"), ("utm_content", "tet-sms/B"),
                          ("ajs_uid", "KH 01")]
    assert "ajs_uid=KH%2001" in out  # %20, not +: analytics.js decodes with decodeURIComponent


def test_destination_sets_the_anonymous_id_and_keeps_an_existing_one():
    assert query(destination("https://shop.vn/", utm={}, ajs=(None, "anon-1"))) == [
        ("ajs_aid", "anon-1")]
    assert query(destination("https://shop.vn/?ajs_uid=X", utm={}, ajs=("Y", None))) == [
        ("ajs_uid", "X")]


@pytest.mark.parametrize("url", ["tel:+84912345678", "mailto:cskh@shop.vn", "zalo://chat"])
def test_destination_leaves_other_schemes_alone(url):
    assert destination(url, utm=UTM, ajs=("KH01", None)) == url


def test_identity_domains_cover_subdomains_only_of_the_shop():
    s = LinkSettings(identity_domains=[" Shop.VN "])
    assert s.identifies("https://shop.vn/a") and s.identifies("https://m.shop.vn/a")
    assert not s.identifies("https://evilshop.vn/a")
    assert not s.identifies("https://maps.google.com/?q=shop.vn")
    assert not LinkSettings().identifies("https://shop.vn/")


# -- bots ------------------------------------------------------------------------------

PHONE = ("Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Mobile Safari/537.36")
PEOPLE = [
    PHONE,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    # in-app browsers: Zalo, Facebook, Viber
    "Mozilla/5.0 (Linux; Android 12; CPH2219) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 Zalo android/12100650 ZaloTheme/light ZaloLanguage/vn",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/400.0]",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Chrome/99.0 Mobile Safari",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/125.0 Chrome/119.0 Safari/537.36",
]
BOTS = [
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "known:"),
    ("TelegramBot (like TwitterBot)", "known:"),
    ("WhatsApp/2.23.20.0 A", "known:whatsapp/"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "known:slackbot"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "known:discordbot"),
    ("ZaloPC-preview/1.0", "not_a_browser"),
    ("curl/8.5.0", "known:curl/"),
    ("python-requests/2.32.3", "known:python-requests"),
    ("Go-http-client/2.0", "known:go-http-client"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
     "known:headlesschrome"),
    ("Mozilla/5.0 (compatible; Barracuda Sentinel)", "known:barracuda"),
    ("Mozilla/5.0 Proofpoint URL Defense", "known:proofpoint"),
    ("Mimecast-Link-Scanner/1.0", "known:mimecast"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "known:"),
    ("", "no_user_agent"),
    (None, "no_user_agent"),
]


@pytest.mark.parametrize("ua", PEOPLE)
def test_people_are_people(ua):
    assert classify_click(ua, "GET", 300.0) == (False, "")
    assert classify_click(ua, "GET", None) == (False, "")  # send time unknown


@pytest.mark.parametrize(("ua", "why"), BOTS)
def test_previews_scanners_and_scripts_are_bots(ua, why):
    bot, reason = classify_click(ua, "GET", 300.0)
    assert bot and reason.startswith(why)


def test_head_prefetch_and_too_fast_are_bots():
    assert classify_click(PHONE, "HEAD", 300.0) == (True, "head")
    assert classify_click(PHONE, "GET", 300.0, purpose="prefetch;prerender") == (True, "prefetch")
    assert classify_click(PHONE, "GET", 1.2) == (True, "too_fast")
    assert classify_click(PHONE, "GET", 2.5) == (False, "")
