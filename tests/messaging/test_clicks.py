"""Clicks on tracked links: every request recorded, one ``Message Clicked`` per link of a
message (the first human click), none for bots; checked in the event log after the relay."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from sen.messaging.events import utc_now
from sen.messaging.links import LinkSettings, link_code, record_click, save_link_settings
from sen.messaging.model import MESSAGE_CLICKED
from sen.store.operational import clicks
from tests.messaging.stores import MessagingStore

KEY = b"test-link-key-of-32-bytes-length"
PHONE = ("Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Mobile Safari/537.36")
PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
LINKS = ["https://shop.vn/ao-dai?size=M", "https://shop.vn/cua-hang"]


@pytest.fixture
def store(tmp_path, ops):
    with MessagingStore(tmp_path, ops) as s:
        yield s


def click(store, code, *, ua=PHONE, method="GET", now=None):
    return record_click(store.ops, code, key=KEY, ip="203.0.113.7", user_agent=ua,
                        method=method, now=now or utc_now())


def click_rows(store) -> list[tuple]:
    with store.ops.connect() as con:
        return [tuple(r) for r in con.execute(
            sa.select(clicks.c.message_id, clicks.c.link, clicks.c.bot, clicks.c.ip)
            .order_by(clicks.c.id))]


def test_one_event_per_link_tied_to_the_message_and_profile(store):
    s = store
    mid = s.message(links=LINKS, record="u:KH01", campaign="tet", template="tet-sms",
                    variant="A")
    first = click(s, link_code(mid, 0, KEY))
    again = click(s, link_code(mid, 0, KEY))
    preview = click(s, link_code(mid, 0, KEY), ua=PREVIEW)
    head = click(s, link_code(mid, 0, KEY), method="HEAD")
    second_link = click(s, link_code(mid, 1, KEY))
    assert [c.counted for c in (first, again, preview, head, second_link)] == [
        True, False, False, False, True]
    assert [c.bot for c in (first, again, preview, head, second_link)] == [
        False, False, True, True, False]
    assert preview.why == "known:facebookexternalhit" and head.why == "head"
    assert first.url == LINKS[0] and second_link.url == LINKS[1]

    assert s.relay() == 2
    assert s.relay() == 0
    log = s.log(MESSAGE_CLICKED)
    assert [e["message_id"] for e in log] == [f"clicked:{mid}:0", f"clicked:{mid}:1"]
    assert {(e["user_id"], e["anonymous_id"], e["source"]) for e in log} == {("KH01", None, "sen")}
    assert log[0]["properties"] == {
        "message_id": mid, "channel": "sms", "campaign_id": "tet", "journey_id": None,
        "step": None, "variant": "A", "template": "tet-sms", "url": LINKS[0], "link_index": 0}
    assert click_rows(s) == [(mid, 0, False, "203.0.113.7"), (mid, 0, False, "203.0.113.7"),
                             (mid, 0, True, "203.0.113.7"), (mid, 0, True, "203.0.113.7"),
                             (mid, 1, False, "203.0.113.7")]


def test_bot_clicks_are_recorded_and_make_no_event(store):
    s = store
    mid = s.message(links=LINKS, record="a:anon-9", journey="welcome", campaign=None)
    for ua in (PREVIEW, "curl/8.5.0", "", "Mimecast-Link-Scanner/1.0"):
        assert click(s, link_code(mid, 0, KEY), ua=ua).bot
    assert s.relay() == 0
    assert s.log(MESSAGE_CLICKED) == []
    assert [r[2] for r in click_rows(s)] == [True] * 4
    # The person who clicks after the scanners is the one counted.
    person = click(s, link_code(mid, 0, KEY))
    assert person.counted and s.relay() == 1
    (event,) = s.log(MESSAGE_CLICKED)
    assert (event["user_id"], event["anonymous_id"]) == (None, "anon-9")
    assert event["properties"]["journey_id"] == "welcome"


def test_a_click_within_seconds_of_sending_is_a_scanner(store):
    s = store
    now = utc_now()
    mid = s.message(links=LINKS, sent_at=now - timedelta(seconds=1))
    fast = click(s, link_code(mid, 0, KEY), now=now)
    assert (fast.bot, fast.why, fast.counted) == (True, "too_fast", False)
    later = click(s, link_code(mid, 0, KEY), now=now + timedelta(seconds=30))
    assert (later.bot, later.counted) == (False, True)


def test_unknown_forged_or_missing_links_are_none(store):
    s = store
    mid = s.message(links=LINKS)
    code = link_code(mid, 0, KEY)
    assert click(s, code[:-1] + ("x" if code[-1] != "x" else "y")) is None  # forged
    assert click(s, link_code(mid, 5, KEY)) is None  # no sixth link
    assert click(s, link_code(mid + 1000, 0, KEY)) is None  # no such message
    assert click(s, link_code(mid, 0, b"another key")) is None
    assert click_rows(s) == []


def test_the_destination_carries_utm_and_identity_for_the_shop_only(store):
    s = store
    save_link_settings(s.ops, LinkSettings(identity_domains=["shop.vn"]), by="lan")
    mid = s.message(links=["https://shop.vn/ao?utm_campaign=mine", "https://maps.app/q"],
                    record="u:KH01")
    person = click(s, link_code(mid, 0, KEY))
    assert person.destination == ("https://shop.vn/ao?utm_campaign=mine&utm_source=sen&"
                                  "utm_medium=sms&utm_content=tet-sms%2FA&ajs_uid=KH01")
    other_site = click(s, link_code(mid, 1, KEY))
    assert "ajs_" not in other_site.destination and "utm_source=sen" in other_site.destination
    scanner = click(s, link_code(mid, 0, KEY), ua=PREVIEW)
    assert "ajs_" not in scanner.destination and "utm_medium=sms" in scanner.destination
    save_link_settings(s.ops, LinkSettings(utm=False), by="lan")
    assert click(s, link_code(mid, 0, KEY)).destination == LINKS_PLAIN


LINKS_PLAIN = "https://shop.vn/ao?utm_campaign=mine"
