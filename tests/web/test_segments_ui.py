"""The segment pages through the real app: the list with sizes and trends, the builder's
page and what it embeds, Run now, the overlap matrix, roles and both languages.
(The builder's script is exercised in headless Chromium: test_segments_browser.py.)"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from sen.segments import rules
from sen.web.segments_ui import sparkline

from .conftest import logged_in
from .test_segments_api import BUYERS, PROSPECTS, _refresh

pytestmark = pytest.mark.anyio


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def row(page: str, name: str) -> str:
    return re.search(rf'<tr data-segment="{name}">(.*?)</tr>', page, re.S).group(1)


def setup_of(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="builder-setup">(.*?)</script>',
                      page, re.S)
    return json.loads(found.group(1))


async def _two_segments(shop) -> None:  # noqa: ANN001
    _refresh(shop)
    async with logged_in(shop, "marketer") as c:
        for name, title, rule in (("buyers", "Khách đã mua", BUYERS),
                                  ("prospects", "Chưa mua hàng", PROSPECTS)):
            r = await c.put(f"/api/segments/{name}", json={"title": title, "rule": rule})
            assert r.status_code == 200, r.text


def test_sparkline_goes_oldest_to_newest_and_is_flat_when_nothing_changes():
    up = sparkline([1, 3, 2], width=100, height=20, pad=0)
    assert up.points == "0.0,20.0 50.0,0.0 100.0,10.0" and up.last == (100.0, 10.0)
    assert sparkline([5, 5]).points.split()[0].endswith(",14.0")  # the middle of 28
    assert sparkline([7]).last is not None
    empty = sparkline([])
    assert (empty.points, empty.last) == ("", None)


async def test_the_list_shows_sizes_last_runs_and_trends(shop):
    await _two_segments(shop)
    async with logged_in(shop, "marketer") as c:
        page = (await c.get("/segments")).text
        assert 'href="/segments" aria-current="page"' in page
        assert "Phân khúc khách hàng" in page
        assert text_of(row(page, "prospects")).count("Chưa chạy") == 1
        assert 'id="new-segment"' in page and 'href="/segments/overlap"' in page
        for _ in range(2):
            assert (await c.post("/api/segments/buyers/run")).status_code == 200
        page = (await c.get("/segments")).text
        buyers = row(page, "buyers")
        assert "Khách đã mua" in buyers and 'href="/segments/buyers"' in buyers
        assert re.search(r'<td class="num size">\s*1\b', buyers)
        assert len(re.search(r'points="([^"]+)"', buyers).group(1).split()) == 2
        assert "60 phút/lần" in text_of(buyers)
        english = (await c.get("/segments?lang=en")).text
        assert "Customer segments" in english and "every 60 min" in english
        assert "Not run yet" in text_of(row(english, "prospects"))


async def test_the_builder_page_brings_the_fields_segments_and_rule(shop):
    await _two_segments(shop)
    async with logged_in(shop, "marketer") as c:
        new = (await c.get("/segments/new")).text
        assert "/static/segments.js" in new and 'id="save-form"' in new
        setup = setup_of(new)
        assert setup["rule"] is None and setup["lang"] == "vi" and setup["can_define"]
        fields = {f["name"]: f for f in setup["fields"]}
        assert fields["orders"]["type"] == "integer"
        assert "South" in fields["region"]["values"]
        assert [s["name"] for s in setup["segments"]] == ["buyers", "prospects"]
        assert setup["words"]["builder.any"] == "Thỏa một trong"
        assert "Product Viewed" in setup["events"]
        page = (await c.get("/segments/buyers?lang=en")).text
        setup = setup_of(page)
        assert setup["name"] == "buyers" and setup["rule"] == rules.dump(rules.parse(BUYERS))
        assert [s["name"] for s in setup["segments"]] == ["prospects"]  # not itself
        assert setup["words"]["builder.any"] == "Any of"
        assert 'id="segment-name" name="name"' in page and "readonly" in page
        assert 'id="run-now"' in page and 'id="no-runs"' in page
        assert 'action="/segments/buyers/export"' in page
        assert (await c.get("/segments/nobody")).status_code == 404
        # Order conditions: statuses, and fields with the shop's values suggested.
        orders = setup["orders"]
        assert orders["statuses"] == ["completed", "refunded", "cancelled", "any"]
        order_fields = {f["name"]: f for f in orders["fields"]}
        assert order_fields["total"]["type"] == "number"
        assert order_fields["channel"]["top"] == ["store"]  # Lan's one order
        assert setup["words"]["builder.kind.order"] == "Order"
        assert setup["words"]["op.top_percent"] == "in the top (%)"


async def test_members_are_exported_with_the_fields_ticked(shop):
    import csv
    import io

    await _two_segments(shop)
    async with logged_in(shop, "marketer") as c:
        await c.post("/segments/buyers/run")
        page = (await c.get("/segments/buyers")).text
        ticked = re.findall(r'name="fields" value="([a-z_0-9]+)" checked', page)
        assert sorted(ticked) == ["clv_12m", "lifecycle_stage", "orders", "rfm_group", "spend"]
        assert 'value="favourite_brand"' in page and 'value="xlsx"' in page
        r = await c.get("/segments/buyers/export",
                        params=[("fields", "orders"), ("fields", "region"), ("format", "csv")])
        assert r.status_code == 303
        assert r.headers["location"] == ("/api/traits/export?segment=buyers&fields=orders%2C"
                                         "region&format=csv")
        rows = list(csv.reader(io.StringIO((await c.get(r.headers["location"])).text
                                           .lstrip("\ufeff"))))
        assert rows[0][-2:] == ["orders", "region"] and len(rows) == 2  # Lan
        assert (await c.get("/segments/nobody/export")).status_code == 404
    async with logged_in(shop, "support") as c:
        assert (await c.get("/segments/buyers/export")).status_code == 403


async def test_run_now_redirects_to_the_segment_with_what_it_did(shop):
    await _two_segments(shop)
    async with logged_in(shop, "marketer") as c:
        r = await c.post("/segments/buyers/run")
        assert (r.status_code, r.headers["location"]) == (303, "/segments/buyers")
        page = (await c.get("/segments/buyers")).text
        assert "Đã chạy: 1 khách hàng, 1 vào, 0 ra khỏi phân khúc." in text_of(page)
        history = text_of(re.search(r'<table class="data" id="history">(.*?)</table>', page,
                                    re.S).group(1))
        assert "Vào phân khúc" in history and " 1 1 0 " in history
        assert "<polyline" in page
    async with shop.client() as anonymous:
        r = await anonymous.get("/segments")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_roles_decide_who_saves_and_runs(shop):
    await _two_segments(shop)
    for role, defines, exports in (("admin", True, True), ("analyst", False, True),
                                   ("support", False, False)):
        async with logged_in(shop, role) as c:
            page = (await c.get("/segments/buyers")).text
            assert ('id="run-now"' in page) is defines, role
            assert ('id="save-form"' in page) is defines, role
            assert ('id="read-only"' in page) is not defines, role
            assert ('id="export-members"' in page) is exports, role
            assert setup_of(page)["can_define"] is defines
            listing = (await c.get("/segments")).text
            assert ('id="new-segment"' in listing) is defines, role
            r = await c.post("/segments/buyers/run")
            assert r.status_code == (303 if defines else 403), role
            if not defines:
                assert "Vai trò của bạn không được phép làm việc này." in r.text


async def test_the_overlap_matrix(shop):
    await _two_segments(shop)
    async with logged_in(shop, "analyst") as c:
        page = (await c.get("/segments/overlap")).text
        assert 'name="names" value="buyers"' in page and 'id="overlap"' not in page
    async with logged_in(shop, "marketer") as c:
        await c.post("/api/segments/buyers/run")
        await c.post("/api/segments/prospects/run")
        prospects = (await c.post("/api/segments/preview", json={"rule": PROSPECTS})).json()
        page = (await c.get("/segments/overlap", params=[
            ("names", "buyers"), ("names", "prospects"), ("names", "nobody")])).text
        table = re.search(r'<table class="data matrix" id="overlap">(.*?)</table>', page,
                          re.S).group(1)
        cells = dict(re.findall(r'<tr data-segment="(\w+)">.*?data-with="prospects">([\d.]+)',
                                table, re.S))
        assert cells == {"buyers": "0", "prospects": str(prospects["count"])}
        assert "nobody" not in table and 'value="buyers" checked' in page
        english = (await c.get("/segments/overlap?lang=en&names=buyers")).text
        assert "Segment overlap" in english and "the diagonal is each segment" in english
        too_many = [("names", f"s{i}") for i in range(21)]
        assert (await c.get("/segments/overlap", params=too_many)).status_code == 400


async def test_titles_cannot_break_out_of_the_embedded_json(shop):
    _refresh(shop)
    title = "</script><script>alert(1)</script> & co"
    async with logged_in(shop, "marketer") as c:
        await c.put("/api/segments/odd", json={"title": title, "rule": BUYERS})
        page = (await c.get("/segments/new")).text
        assert "<script>alert(1)" not in page
        assert setup_of(page)["segments"] == [{"name": "odd", "title": title}]
        assert "&lt;/script&gt;" in (await c.get("/segments")).text


async def test_a_past_run_s_members_can_be_downloaded(shop):
    import csv
    import io
    from urllib.parse import unquote

    await _two_segments(shop)
    async with logged_in(shop, "marketer") as c:
        await c.post("/segments/buyers/run")  # Lan
        # Lan's orders are now refunded in the store's eyes: she leaves at the next run.
        shop.app.state.analytics.execute(
            "UPDATE profile_traits SET orders = 0 WHERE orders > 0")
        await c.post("/segments/buyers/run")
        snaps = (await c.get("/api/segments/buyers/snapshots")).json()
        assert [s["members"] for s in snaps] == [0, 1]  # newest first
        page = (await c.get("/segments/buyers")).text
        links = re.findall(r'<a class="snapshot" href="([^"]+)"', page)
        assert len(links) == 2  # newest first, the empty run too
        href = unescape(links[1])
        assert unquote(href.split("snapshot=")[1].split("&")[0]) == snaps[1]["run_at"]
        rows = list(csv.reader(io.StringIO((await c.get(href)).text.lstrip("\ufeff"))))
        assert len(rows) == 2 and rows[1][1] == "Nguyễn Thị Lan"
        now = (await c.get("/api/traits/export", params={"segment": "buyers"})).text
        assert len(now.strip().splitlines()) == 1  # nobody now
        r = await c.get("/api/traits/export", params={"snapshot": snaps[1]["run_at"]})
        assert r.status_code == 422 and "give segment too" in r.text
        assert (await c.get("/api/segments/nobody/snapshots")).status_code == 404
