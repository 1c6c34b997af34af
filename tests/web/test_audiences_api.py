"""The audiences API and ``sen serve``'s syncing, against a local Meta Graph server."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sen.segments import events
from sen.traits import runner
from tests.segments.audiences.conftest import meta_server  # noqa: F401 - a fixture
from tests.web import customers as data
from tests.web.conftest import (
    Web,
    commit,
    eventually,
    logged_in,
    rebuild,
    running,
    traits_with_orders,
)

pytestmark = pytest.mark.anyio
BUYERS = {"trait": "orders", "op": ">=", "value": 1}
LAN_PHONE = hashlib.sha256(b"84912345678").hexdigest()  # Meta: country code, no +
LINK = {"segment": "buyers", "destination": "meta", "audience_id": "6123",
        "purpose": "suppress"}


async def _shop(tmp_path: Path, **settings: object) -> AsyncIterator[Web]:
    async with running(tmp_path, **settings) as web:
        for evs, source in data.everyone():
            commit(web, evs, source)
        rebuild(web)
        engine = web.app.state.analytics
        web.app.state.writer.run_exclusive(lambda: runner.refresh(engine))
        web.app.state.writer.run_exclusive(lambda: events.rebuild(engine))
        for role in ("admin", "marketer", "analyst", "support"):
            web.user(role, role)
        yield web


@pytest.fixture
async def shop(tmp_path: Path, meta_server) -> AsyncIterator[Web]:  # noqa: F811
    _, url = meta_server
    async for web in _shop(tmp_path, meta_access_token="meta-token", meta_graph_url=url):
        yield web


async def test_link_sync_list_and_delete(shop, meta_server) -> None:  # noqa: F811
    graph, _ = meta_server
    async with logged_in(shop, "marketer") as c:
        r = await c.put("/api/audiences/suppress-buyers", json=LINK)
        assert r.status_code == 404 and "no segment 'buyers'" in r.text
        await c.put("/api/segments/buyers", json={"title": "Buyers", "rule": BUYERS})
        r = await c.put("/api/audiences/suppress-buyers", json=LINK)
        assert r.status_code == 200, r.text
        assert r.json()["purpose"] == "suppress" and r.json()["runs"] == []
        await c.post("/api/segments/buyers/run")  # Lan, the one buyer
        run = (await c.post("/api/audiences/suppress-buyers/sync")).json()
        assert (run["status"], run["added"], run["removed"], run["error"]) == ("ok", 1, 0, None)
        assert run["segment_run_at"] is not None
        [lan] = graph.audiences["6123"]  # one row: Lan's email and phone
        assert LAN_PHONE in lan
        again = (await c.post("/api/audiences/suppress-buyers/sync")).json()
        assert (again["added"], again["unchanged"]) == (0, 1)
        listed = (await c.get("/api/audiences", params={"segment": "buyers"})).json()
        assert [(x["name"], [r["added"] for r in x["runs"]]) for x in listed] == [
            ("suppress-buyers", [0, 1])]
        assert (await c.get("/api/audiences/suppress-buyers")).json()["audience_id"] == "6123"
        assert (await c.delete("/api/audiences/suppress-buyers")).status_code == 204
        assert (await c.get("/api/audiences/suppress-buyers")).status_code == 404
        assert graph.audiences["6123"] == {lan}  # the platform's audience stays


async def test_bad_links_and_roles(shop) -> None:
    async with logged_in(shop, "marketer") as c:
        await c.put("/api/segments/buyers", json={"title": "Buyers", "rule": BUYERS})
        r = await c.put("/api/audiences/x", json={**LINK, "audience_id": "act_1"})
        assert r.status_code in (400, 422)
        r = await c.put("/api/audiences/x", json={**LINK, "destination": "tiktok"})
        assert r.status_code in (400, 422)
    for role in ("analyst", "support"):
        async with logged_in(shop, role) as c:
            assert (await c.put("/api/audiences/x", json=LINK)).status_code == 403
            assert (await c.post("/api/audiences/x/sync")).status_code == 403
            assert (await c.get("/api/audiences")).status_code == 200


async def test_a_sync_without_credentials_answers_a_failed_run(tmp_path: Path) -> None:
    async for web in _shop(tmp_path):
        async with logged_in(web, "marketer") as c:
            await c.put("/api/segments/buyers", json={"title": "Buyers", "rule": BUYERS})
            await c.put("/api/audiences/suppress-buyers", json=LINK)
            run = (await c.post("/api/audiences/suppress-buyers/sync")).json()
            assert run["status"] == "failed"
            assert "SEN_META_ACCESS_TOKEN" in run["error"]


async def test_the_server_syncs_a_link_after_its_segment_runs(tmp_path: Path,
                                                               meta_server) -> None:  # noqa: F811
    from sen.segments import rules, saved
    from sen.segments.audiences import links

    graph, url = meta_server
    async with running(tmp_path, identity_interval_s=0.1, traits_interval_s=0.1,
                       profile_events_interval_s=0.1, segments_interval_s=0.1,
                       audience_sync_interval_s=0.1, meta_access_token="meta-token",
                       meta_graph_url=url) as web:
        commit(web, data.lan_pos(), "pos")
        assert await eventually(lambda: traits_with_orders(web))  # identity, then traits
        ops = web.app.state.ops
        saved.save(ops, saved.Segment(name="buyers", title="Buyers", rule=rules.parse(BUYERS)))
        links.save_link(ops, links.AudienceLink(name="suppress-buyers", **LINK))
        assert await eventually(  # the segment runs, then the link syncs
            lambda: links.history(web.app.state.analytics, "suppress-buyers"), tries=300)
        [lan] = graph.audiences["6123"]
        assert LAN_PHONE in lan
        assert web.app.state.audiences.failures == 0
        assert links.history(web.app.state.analytics, "suppress-buyers")[0].status == "ok"


def _text(html: str) -> str:
    from html import unescape

    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


async def test_the_segment_page_links_syncs_and_reports(shop, meta_server) -> None:  # noqa: F811
    graph, _ = meta_server
    async with logged_in(shop, "marketer") as c:
        await c.put("/api/segments/buyers", json={"title": "Buyers", "rule": BUYERS})
        page = (await c.get("/segments/buyers")).text
        assert 'id="no-audiences"' in page and 'id="add-audience"' in page
        listing = (await c.get("/segments")).text
        assert _text(re.search(r'<td class="audiences">(.*?)</td>', listing, re.S).group(1)) \
            == "–"
        r = await c.post("/segments/buyers/audiences", data={
            "name": "buyers-meta", "destination": "meta", "audience_id": " 6123 ",
            "purpose": "suppress"})
        assert (r.status_code, r.headers["location"]) == (303, "/segments/buyers#audiences")
        page = _text((await c.get("/segments/buyers")).text)
        assert "Đã lưu liên kết buyers-meta" in page
        assert "buyers-meta Meta (Facebook, Instagram) 6123 Loại trừ khỏi quảng cáo " \
               "Chưa đồng bộ" in page
        await c.post("/segments/buyers/run")
        r = await c.post("/segments/buyers/audiences/buyers-meta/sync")
        assert r.status_code == 303
        page = (await c.get("/segments/buyers")).text
        assert '<div class="alert success" role="status" id="flash">' in page
        assert "Đã đồng bộ buyers-meta: thêm 1, xóa 0." in _text(page)
        assert "Thành công" in _text(page) and len(graph.audiences["6123"]) == 1
        listing = (await c.get("/segments")).text
        assert _text(re.search(r'<td class="audiences">(.*?)</td>', listing, re.S).group(1)) \
            == "1"  # one link, syncing
        # Pointed at another audience, with a token that is no longer valid.
        await c.post("/segments/buyers/audiences", data={
            "name": "buyers-meta", "destination": "meta", "audience_id": "7000",
            "purpose": "suppress"})
        graph.token = "rotated"
        await c.post("/segments/buyers/audiences/buyers-meta/sync")
        page = (await c.get("/segments/buyers")).text
        assert '<div class="alert error" role="alert" id="flash">' in page
        listing = (await c.get("/segments")).text
        cell = re.search(r'<td class="audiences">(.*?)</td>', listing, re.S).group(1)
        assert _text(cell) == "1 1 lỗi đồng bộ"
        assert "Đồng bộ buyers-meta không thành công" in _text(page)
        assert "access token" in _text(page).lower()
        r = await c.post("/segments/buyers/audiences", data={
            "name": "Bad Name", "destination": "meta", "audience_id": "6123"})
        assert r.status_code == 400
    async with logged_in(shop, "analyst") as c:
        page = (await c.get("/segments/buyers")).text
        assert 'id="audience-links"' in page and 'id="add-audience"' not in page
        assert 'class="sync-now"' not in page
        r = await c.post("/segments/buyers/audiences/buyers-meta/sync")
        assert r.status_code == 403
