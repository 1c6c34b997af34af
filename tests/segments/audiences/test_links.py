"""Audience links: a saved segment kept equal to a Meta or Google audience as it runs.

The shop is tests.traits' (as of 2026-06-30: Hoa bought on 06-20, Tuan on 06-01,
Lan last on 02-01 and again on 07-15, after as_of), with contacts added. The
segment "bought in the last 30 days" is synced to a local platform server, then
the world moves on 15 days: Tuan's purchase falls out of the window, Lan's new
one comes in, and the audience follows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pydantic
import pytest

from sen.config import Settings
from sen.errors import NotFoundError, ValidationError
from sen.segments import rules, saved
from sen.segments.audiences import GoogleCustomerMatch, MetaCustomAudience, links
from sen.store import operational
from sen.traits import runner
from tests.segments.audiences.support import digest
from tests.segments.test_compiler import PROFILE_EVENTS
from tests.traits.test_runner import AS_OF, build_shop

LATER = AS_OF + timedelta(days=15)
BOUGHT_30D = {"order": "completed", "within_days": 30}


@pytest.fixture
def stores(tmp_path: Path):
    shop = build_shop(tmp_path)
    cur = shop.engine.cursor()
    cur.execute("UPDATE profiles SET email = 'Hoa.Tran@Gmail.com ' WHERE profile_id = 'p_hoa'")
    cur.execute("UPDATE profiles SET phone = '0988 123 456' WHERE profile_id = 'p_tuan'")
    cur.execute("UPDATE profiles SET email = 'lan@yahoo.com.vn' WHERE profile_id = 'p_lan'")
    runner.refresh(shop.engine, as_of=AS_OF)
    cur.execute(PROFILE_EVENTS)
    ops = operational.connect(f"sqlite:///{tmp_path / 'ops.db'}")
    saved.save(ops, saved.Segment("bought-30d", "Mua trong 30 ngày", rules.parse(BOUGHT_30D)))
    yield shop.engine, ops
    ops.dispose()
    shop.engine.close()


@pytest.fixture(params=["meta", "google"])
def platform(request):
    """(destination name, audience id, a client factory, the audience's hashes, server)."""
    if request.param == "meta":
        graph, url = request.getfixturevalue("meta_server")
        return ("meta", "6123", lambda link: MetaCustomAudience(link.audience_id, "meta-token",
                                                                base_url=url),
                lambda: {h for row in graph.audiences.get("6123", set()) for h in row if h},
                graph)
    ads, url = request.getfixturevalue("google_server")
    return ("google", "555",
            lambda link: GoogleCustomerMatch("1234567890", link.audience_id,
                                             developer_token="dev-token",
                                             access_token="google-token", base_url=url),
            lambda: {h for _, h in ads.lists.get("customers/1234567890/userLists/555", set())},
            ads)


def phone(name: str, e164: str) -> str:
    return digest(e164.removeprefix("+") if name == "meta" else e164)


def link_for(name: str, audience_id: str, **kw) -> links.AudienceLink:
    return links.AudienceLink(name="suppress-buyers", segment="bought-30d", destination=name,
                              audience_id=audience_id, purpose="suppress", **kw)


def test_the_audience_follows_the_segment_as_members_enter_and_leave(stores, platform):
    engine, ops = stores
    name, audience_id, client, audience, _ = platform
    link = links.save_link(ops, link_for(name, audience_id), actor="thu")
    assert links.due(engine, [link]) == []  # the segment has not run: nothing to send
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)  # Hoa and Tuan

    [first] = links.sync_due(engine, ops, None, destination_of=client)
    assert (first.status, first.added, first.removed, first.skipped) == ("ok", 2, 0, 0)
    assert audience() == {digest("hoa.tran@gmail.com"), phone(name, "+84988123456")}
    assert links.due(engine, [link]) == []  # synced with the segment's last run

    runner.refresh(engine, as_of=LATER)  # Lan's 07-15 order counts now
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=LATER)  # Tuan out, Lan in
    assert links.due(engine, [link]) == [link]
    second = links.sync(engine, link, destination=client(link))
    assert (second.added, second.removed, second.unchanged) == (1, 1, 1)
    assert audience() == {digest("hoa.tran@gmail.com"), digest("lan@yahoo.com.vn"),
                          phone(name, "+84912345678")}
    state = engine.execute("SELECT profile_id, email, phone FROM audience_sync_state "
                           "ORDER BY 1").fetchall()
    assert state == [("p_hoa", "hoa.tran@gmail.com", None),
                     ("p_lan", "lan@yahoo.com.vn", "+84912345678")]
    assert [(r.status, r.added, r.removed) for r in links.history(engine, link.name)] == [
        ("ok", 1, 1), ("ok", 2, 0)]


def test_a_failed_sync_keeps_the_state_and_is_retried(stores, platform):
    engine, ops = stores
    name, audience_id, client, audience, server = platform
    link = links.save_link(ops, link_for(name, audience_id))
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    server.fail_next.extend([503] * 10)  # every retry the client makes fails too
    [failed] = links.sync_due(engine, ops, None, destination_of=client)
    assert failed.status == "failed" and failed.added == 0
    assert "503" in failed.error or "retry" in failed.error.lower()
    assert engine.execute("SELECT count(*) FROM audience_sync_state").fetchall() == [(0,)]
    assert links.due(engine, [link]) == [link]  # the failure makes it due again
    server.fail_next.clear()
    [retry] = links.sync_due(engine, ops, None, destination_of=client)
    assert (retry.status, retry.added) == ("ok", 2)
    assert len(audience()) == 2
    assert [r.status for r in links.history(engine, link.name)] == ["ok", "failed"]


def test_missing_credentials_are_a_failed_run_that_names_the_setting(stores):
    engine, ops = stores
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    none = Settings(google_ads_developer_token="dev")
    meta = links.save_link(ops, link_for("meta", "6123"))
    run = links.sync(engine, meta, settings=none)
    assert (run.status, run.error) == ("failed", "Syncing to Meta needs an access token: set "
                                       "SEN_META_ACCESS_TOKEN (a system user token with "
                                       "ads_management).")
    google = links.save_link(ops, links.AudienceLink(
        name="g", segment="bought-30d", destination="google", audience_id="555"))
    run = links.sync(engine, google, settings=none)
    assert run.error == ("Syncing to Google Customer Match needs SEN_GOOGLE_ADS_CUSTOMER_ID, "
                         "SEN_GOOGLE_ADS_REFRESH_TOKEN with SEN_GOOGLE_ADS_CLIENT_ID and "
                         "SEN_GOOGLE_ADS_CLIENT_SECRET (or SEN_GOOGLE_ADS_ACCESS_TOKEN).")


def test_the_segment_run_a_link_synced_is_remembered(stores, meta_server):
    engine, ops = stores
    graph, url = meta_server
    link = links.save_link(ops, link_for("meta", "6123"))
    done = saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    run = links.sync(engine, link, destination=MetaCustomAudience("6123", "meta-token",
                                                                  base_url=url))
    assert run.segment_run_at == done.run_at
    # A disabled link is never due; an unchanged segment run sends nothing.
    assert links.due(engine, [link.model_copy(update={"enabled": False})]) == []
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    again = links.sync(engine, link, destination=MetaCustomAudience("6123", "meta-token",
                                                                    base_url=url))
    assert (again.added, again.removed, again.unchanged) == (0, 0, 2)
    assert len(graph.received) == 1


def test_a_link_pointed_at_another_audience_sends_everyone_there(stores, meta_server):
    engine, ops = stores
    graph, url = meta_server
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    link = links.save_link(ops, link_for("meta", "6123"))
    links.sync(engine, link, destination=MetaCustomAudience("6123", "meta-token", base_url=url))
    moved = links.save_link(ops, link_for("meta", "7000"))
    run = links.sync(engine, moved, destination=MetaCustomAudience("7000", "meta-token",
                                                                   base_url=url))
    assert (run.added, run.removed, run.unchanged) == (2, 0, 0)
    assert len(graph.audiences["7000"]) == len(graph.audiences["6123"]) == 2
    assert engine.execute("SELECT DISTINCT audience FROM audience_sync_state").fetchall() == [
        ("meta:7000",)]


def test_only_members_who_entered_left_or_changed_contact_are_normalised_again(
        stores, meta_server):
    engine, ops = stores
    graph, url = meta_server
    engine.execute("UPDATE profiles SET phone = 'N/A' WHERE profile_id = 'p_tuan'")
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    link = links.save_link(ops, link_for("meta", "6123"))

    def meta() -> MetaCustomAudience:
        return MetaCustomAudience("6123", "meta-token", base_url=url)

    first = links.sync(engine, link, destination=meta())
    assert (first.added, first.skipped) == (1, 1)  # Tuan's phone is a placeholder
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    steady = links.prepare(engine, link)
    assert (steady.current, steady.previous, steady.unchanged, steady.unchanged_skipped) == (
        {}, {}, 2, 1)
    again = links.sync(engine, link, destination=meta())
    assert (again.added, again.removed, again.unchanged, again.skipped) == (0, 0, 2, 1)
    assert len(graph.received) == 1  # nothing sent the second time

    # Hoa changes her email, Tuan gives a real phone: only they are read and sent.
    engine.execute("UPDATE profiles SET email = 'hoa.moi@gmail.com' WHERE profile_id = 'p_hoa'")
    engine.execute("UPDATE profiles SET phone = '0988 123 456' WHERE profile_id = 'p_tuan'")
    changed = links.prepare(engine, link)
    assert changed.current == {"p_hoa": ("hoa.moi@gmail.com", None),
                               "p_tuan": (None, "0988 123 456")}
    assert list(changed.previous) == ["p_hoa"] and changed.unchanged == 0
    run = links.sync(engine, link, destination=meta())
    assert (run.added, run.removed, run.unchanged, run.skipped) == (2, 1, 0, 0)
    hashes = {h for row in graph.audiences["6123"] for h in row if h}
    assert hashes == {digest("hoa.moi@gmail.com"), digest("84988123456")}
    assert engine.execute("SELECT profile_id, raw_phone, phone FROM audience_sync_state "
                          "ORDER BY 1").fetchall() == [
        ("p_hoa", None, None), ("p_tuan", "0988 123 456", "+84988123456")]


def test_links_are_saved_listed_replaced_and_deleted(stores):
    engine, ops = stores
    first = links.save_link(ops, link_for("meta", "6123"), actor="thu")
    assert (first.created_by, first.purpose, first.enabled) == ("thu", "suppress", True)
    links.save_link(ops, link_for("meta", "7777", enabled=False))
    assert [(lk.name, lk.audience_id, lk.enabled) for lk in links.all_links(ops)] == [
        ("suppress-buyers", "7777", False)]
    assert links.all_links(ops, segment="other") == []
    engine.execute("INSERT INTO audience_sync_state VALUES ('suppress-buyers', 'meta:7777', "
                   "'p_hoa', 'hoa.tran@gmail.com', NULL, 'hoa.tran@gmail.com', NULL)")
    links.delete_link(ops, engine, "suppress-buyers")
    assert links.all_links(ops) == []
    assert engine.execute("SELECT count(*) FROM audience_sync_state").fetchall() == [(0,)]
    with pytest.raises(NotFoundError, match="no audience link 'suppress-buyers'"):
        links.get_link(ops, "suppress-buyers")


def test_a_link_needs_a_live_segment_and_a_well_formed_audience(stores):
    _, ops = stores
    with pytest.raises(NotFoundError, match="no segment 'nope'"):
        links.save_link(ops, links.AudienceLink(name="x", segment="nope", destination="meta",
                                                audience_id="1"))
    saved.save(ops, saved.Segment("old", "Old", rules.parse(BOUGHT_30D), archived=True))
    with pytest.raises(ValidationError, match="archived"):
        links.save_link(ops, links.AudienceLink(name="x", segment="old", destination="meta",
                                                audience_id="1"))
    for bad in ({"audience_id": "act_12"}, {"destination": "tiktok"}, {"name": "Bad Name"},
                {"purpose": "spam"}):
        data = {"name": "x", "segment": "bought-30d", "destination": "meta",
                "audience_id": "1", **bad}
        with pytest.raises(pydantic.ValidationError):
            links.AudienceLink(**data)


def test_destinations_come_from_the_settings(stores, meta_server, google_server):
    """Sen's own settings build each platform's client (addresses, tokens, accounts)."""
    engine, ops = stores
    graph, meta_url = meta_server
    ads, google_url = google_server
    ads.login_customer_id = "9998887777"
    settings = Settings(meta_access_token="meta-token", meta_graph_url=meta_url,
                        google_ads_customer_id="123-456-7890",
                        google_ads_login_customer_id="999-888-7777",
                        google_ads_developer_token="dev-token",
                        google_ads_access_token="google-token", google_ads_url=google_url)
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    meta = links.save_link(ops, link_for("meta", "6123"))
    google = links.save_link(ops, links.AudienceLink(
        name="google-buyers", segment="bought-30d", destination="google", audience_id="555"))
    runs = {r.link: r for r in links.sync_due(engine, ops, settings)}
    assert {name: (r.status, r.added, r.error) for name, r in runs.items()} == {
        meta.name: ("ok", 2, None), google.name: ("ok", 2, None)}
    assert len(graph.audiences["6123"]) == 2
    assert {h for _, h in ads.lists["customers/1234567890/userLists/555"]} == {
        digest("hoa.tran@gmail.com"), digest("+84988123456")}
    assert {r.headers.get("login-customer-id") for r in ads.received} == {"9998887777"}
