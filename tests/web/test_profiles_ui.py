"""The customer pages and the overview's identity numbers, through the real app."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from sen.identity import resolver
from sen.store.analytics import DuckDBEngine
from sen.web.overview import compute_overview

from . import customers as data
from .conftest import commit, logged_in, running

pytestmark = pytest.mark.anyio


def texts(html: str, pattern: str) -> list[str]:
    return [unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(pattern, html, re.S)]


def fact(html: str, field: str) -> str:
    [value] = texts(html, rf'<dd data-field="{field}">(.*?)</dd>')
    return value


async def lan_page(c) -> tuple[str, str]:  # noqa: ANN001
    [lan] = (await c.get("/api/profiles/lookup", params={"user_id": "KH1"})).json()
    r = await c.get(f"/profiles/{lan['profile_id']}")
    assert r.status_code == 200
    return lan["profile_id"], r.text


async def test_search_page_finds_a_customer_by_phone(shop):
    async with logged_in(shop, "support") as c:
        page = (await c.get("/profiles", params={"q": "0912.345.678"})).text
        assert 'href="/profiles"' in page and "Khách hàng" in page
        [row] = re.findall(r'<tr data-profile="(p_\w+)">', page)
        assert "Nguyễn Thị Lan" in page and "1 hồ sơ khớp" in page
        none = (await c.get("/profiles", params={"q": "Hoàng Yến"})).text
        assert 'id="no-results"' in none and "Hoàng Yến" in none
        family = (await c.get("/profiles", params={"q": data.FAMILY_PHONE})).text
        assert len(re.findall(r'<tr data-profile=', family)) == 2


async def test_the_360_page_shows_everything_about_lan(shop):
    async with logged_in(shop, "support") as c:
        pid, page = await lan_page(c)
    assert fact(page, "name") == "Nguyễn Thị Lan"
    assert fact(page, "phone") == data.LAN_E164
    assert fact(page, "email") == "lan@gmail.com"
    assert fact(page, "gender") == "Nữ"
    assert fact(page, "birth_date") == "01/04/1990"
    assert fact(page, "address") == "12 Lê Lợi, Huế"
    assert fact(page, "store_code") == "HCM-01"
    assert fact(page, "user_ids") == "KH1, U1"
    assert fact(page, "status") == "Định danh"
    assert fact(page, "devices") == "2 thiết bị, 1 trình duyệt"
    assert fact(page, "push") == "web 0, app 1"
    [order] = texts(page, r'<tr data-order="HD1">(.*?)</tr>')
    assert "990.000 ₫" in order and "store" in order and "HCM-01" in order
    timeline = re.findall(r'<tr data-message-id="([^"]+)"', page)
    assert timeline == ["lan-a1", "lan-w2", "lan-w1", "lan-p2", "lan-p1"]
    assert "order_id: HD1 · total: 990.000 ₫" in page
    assert 'id="no-messages"' in page
    typed = texts(page, r'<tr data-id-type="phone" data-status="linking">(.*?)</tr>')
    assert any("0912 345 678" in t for t in typed) and any("84912345678" in t for t in typed)
    history = texts(page, r'<tr data-field="name">(.*?)</tr>')
    assert any("NGUYEN THI LAN" in h for h in history) and any("Nguyễn Thị Lan" in h
                                                                  for h in history)
    assert f'href="/profiles/{pid}/unmerge?id_type=phone&amp;value=%2B84912345678"' in page


async def test_the_360_in_english(shop):
    async with logged_in(shop, "marketer") as c:
        [lan] = (await c.get("/api/profiles/lookup", params={"user_id": "KH1"})).json()
        page = (await c.get(f"/profiles/{lan['profile_id']}?lang=en")).text
    assert "Customer 360" in page and fact(page, "gender") == "Female"
    assert fact(page, "birth_date") == "1 Apr 1990"
    assert "₫990,000" in page and "No messages yet" in page


async def test_marketers_see_the_360_but_cannot_unmerge(shop):
    async with logged_in(shop, "marketer") as c:
        pid, page = await lan_page(c)
        assert "/unmerge" not in page and 'href="/identity/review"' not in page
        r = await c.post(f"/profiles/{pid}/unmerge", data={
            "id_type": "phone", "value": data.LAN_E164,
            "csrf_token": c.headers["X-CSRF-Token"]})
        assert r.status_code == 403 and "Vai trò của bạn không được phép" in r.text
        assert (await c.get("/identity/review")).status_code == 403


async def test_unmerge_through_the_pages_then_undo(shop):
    async with logged_in(shop, "support") as c:
        pid, page = await lan_page(c)
        confirm = await c.get(f"/profiles/{pid}/unmerge",
                              params={"id_type": "phone", "value": data.LAN_E164})
        assert confirm.status_code == 200 and 'id="confirm-unmerge"' in confirm.text
        assert len(re.findall(r"<tr><td><code>u:", confirm.text)) == 2  # U1 and KH1 carry it
        csrf = c.headers.pop("X-CSRF-Token")
        forged = await c.post(f"/profiles/{pid}/unmerge",
                              data={"id_type": "phone", "value": data.LAN_E164})
        assert forged.status_code == 403
        r = await c.post(f"/profiles/{pid}/unmerge", data={
            "id_type": "phone", "value": data.LAN_E164, "csrf_token": csrf})
        assert (r.status_code, r.headers["location"]) == (303, f"/profiles/{pid}")
        after = (await c.get(f"/profiles/{pid}")).text
        assert "Đã tách hồ sơ theo +84912345678" in after
        assert len(re.findall(r'class="profile-link"', after)) == 2
        assert '<tr data-action="split">' in after
        assert 'data-status="blocked"' in after
        again = (await c.get(f"/profiles/{pid}")).text
        assert 'id="flash"' not in again, "the notice is shown once"
        r = await c.post(f"/profiles/{pid}/restore", data={
            "id_type": "phone", "value": data.LAN_E164, "csrf_token": csrf})
        assert r.status_code == 303
        restored = (await c.get(f"/profiles/{pid}")).text
        assert "Đã hoàn tác" in restored and 'data-status="blocked"' not in restored
        assert fact(restored, "user_ids") == "KH1, U1"


async def test_a_merged_away_id_redirects_to_its_profile(tmp_path):
    async with running(tmp_path) as web:
        web.user("hoa", "support")
        first, second = data.minh_web()
        commit(web, [first], "web")
        web.app.state.identity.run_now()
        async with logged_in(web, "hoa") as c:
            [anon] = (await c.get("/api/profiles/lookup",
                                  params={"anonymous_id": "anon-minh"})).json()
            commit(web, [second], "web")
            web.app.state.identity.run_now()
            r = await c.get(f"/profiles/{anon['profile_id']}")
            [minh] = (await c.get("/api/profiles/lookup", params={"user_id": "M1"})).json()
            assert (r.status_code, r.headers["location"]) == (307,
                                                              f"/profiles/{minh['profile_id']}")
            assert (await c.get("/profiles/p_0000000000000000")).status_code == 404


async def test_messages_from_the_timeline(shop):
    commit(shop, [data.ev("msg-1", ts=data.at(0, 8), userId="U1", event="Message Sent",
                          properties={"channel": "zns", "template": "order_ready"})], "server")
    shop.app.state.identity.run_now()
    async with logged_in(shop, "support") as c:
        _, page = await lan_page(c)
    [row] = texts(page, r'<table class="data" id="messages">.*?<tbody>(.*?)</tbody>')
    assert "Message Sent" in row and "channel: zns · template: order_ready" in row
    assert 'id="no-messages"' not in page


async def test_review_page_scores_and_approves(shop):
    async with logged_in(shop, "admin") as c:
        csrf = c.headers["X-CSRF-Token"]
        empty = (await c.get("/identity/review")).text
        assert 'id="review-empty"' in empty and 'id="score"' in empty
        r = await c.post("/identity/score", data={"csrf_token": csrf})
        assert (r.status_code, r.headers["location"]) == (303, "/identity/review")
        page = (await c.get("/identity/review")).text
        assert "1 cặp đang chờ duyệt" in page
        [(a, b)] = re.findall(r'data-record-a="([^"]+)" data-record-b="([^"]+)"', page)
        assert "Trần Văn Nam" in page and "Tran Van Nam" in page and "15/06/1985" in page
        assert "phone one digit off" in page
        assert re.search(r'<span class="probability">\d{2},\d%</span>', page)
    async with logged_in(shop, "support") as c:
        page = (await c.get("/identity/review")).text
        assert 'id="score"' not in page, "scoring is an admin's job"
        r = await c.post("/identity/review", data={"record_a": a, "record_b": b,
                                                    "decision": "approve",
                                                    "csrf_token": c.headers["X-CSRF-Token"]})
        assert r.status_code == 303
        done = (await c.get("/identity/review")).text
        assert "Đã hợp nhất hai hồ sơ." in done and 'id="review-empty"' in done
        [nam] = (await c.get("/api/profiles/lookup", params={"user_id": "KH20"})).json()
        page = (await c.get(f"/profiles/{nam['profile_id']}")).text
        assert 'id="person-links"' in page and "/unlink" in page


# -- the overview's identity numbers --------------------------------------------------------

def test_identity_kpis_from_the_profiles(tmp_path):
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    try:
        from sen.ingest.writer import EventWriter

        writer = EventWriter(engine)
        for events, source in data.everyone():
            writer.write_sync(data.rows(events, source))
        resolver.rebuild(engine)
        ov = compute_overview(engine, data.HCM, today=data.today())
        ids = ov.identity
        assert (ids.identified, ids.anonymous) == (6, 1)
        assert ids.converted == 1  # Minh; Lan was known at the till before she browsed
        assert {d: n for d, n in ids.converted_by_day.items() if n} == \
            {data.today() - timedelta(days=4): 1}
        assert len(ids.converted_by_day) == 30
        assert ids.avg_devices == pytest.approx(3 / 6)  # Lan: browser and iPhone; Minh: one
        assert ids.avg_browsers == pytest.approx(2 / 6)
        assert (ids.web_push_tokens, ids.app_push_tokens) == (1, 1)
        week = compute_overview(engine, data.HCM, today=data.today() - timedelta(days=5),
                                days=7)
        assert week.identity.converted == 0 and week.identity.identified == 6
    finally:
        engine.close()


def test_identity_kpis_of_an_empty_store(tmp_path):
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    try:
        ids = compute_overview(engine, data.HCM, today=data.today(), days=7).identity
    finally:
        engine.close()
    assert (ids.identified, ids.anonymous, ids.converted, ids.avg_devices) == (0, 0, 0, 0.0)


async def test_overview_page_and_api_show_the_identity_numbers(shop):
    async with logged_in(shop, "analyst") as c:
        page = (await c.get("/")).text
        api = (await c.get("/api/overview")).json()["identity"]
    values = dict(re.findall(r'<span class="value" id="([\w-]+)" data-value="[^"]*">([^<]+)<',
                             page))
    assert {k: values[k] for k in ("identified", "anonymous", "converted", "avg-devices",
                                   "avg-browsers", "web-push", "app-push")} == {
        "identified": "6", "anonymous": "1", "converted": "1", "avg-devices": "0,5",
        "avg-browsers": "0,3", "web-push": "1", "app-push": "1"}
    assert "Chuyển đổi từ vô danh thành định danh mỗi ngày" in page
    assert {k: api[k] for k in ("identified", "anonymous", "converted", "web_push_tokens",
                                "app_push_tokens")} == {
        "identified": 6, "anonymous": 1, "converted": 1, "web_push_tokens": 1,
        "app_push_tokens": 1}
    assert api["avg_devices"] == 0.5 and api["avg_browsers"] == pytest.approx(0.333, abs=1e-3)
    converted = {d["date"]: d["converted"] for d in api["converted_by_day"] if d["converted"]}
    assert converted == {(data.today() - timedelta(days=4)).isoformat(): 1}


async def test_an_anonymous_visitors_360(shop):
    async with logged_in(shop, "analyst") as c:
        [visitor] = (await c.get("/api/profiles/lookup",
                                 params={"anonymous_id": "anon-x"})).json()
        page = (await c.get(f"/profiles/{visitor['profile_id']}")).text
    assert "Khách hàng chưa có tên" in page and fact(page, "status") == "Vô danh"
    assert fact(page, "push") == "web 1, app 0" and fact(page, "phone") == "—"
    assert "Hồ sơ chỉ có một bản ghi" in page and 'id="no-orders"' in page


async def test_personal_data_on_request_from_the_360(shop):
    async with logged_in(shop, "marketer") as c:
        pid, page = await lan_page(c)
        assert 'id="privacy"' not in page  # marketers do not handle data requests
    async with logged_in(shop, "support") as c:
        pid, page = await lan_page(c)
        assert 'id="privacy"' in page and "Nghị định 13/2023" in page
        export = await c.get(f"/api/profiles/{pid}/export", params={"format": "json"})
        assert export.status_code == 200 and "Nguyễn Thị Lan" in export.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        wrong = await c.post(f"/profiles/{pid}/erase",
                             data={"csrf_token": token, "confirm": "p_nobody"})
        assert wrong.status_code == 303 and wrong.headers["location"].endswith("#privacy")
        again = (await c.get(f"/profiles/{pid}")).text
        assert 'id="erase-error"' in again and 'value="p_nobody"' in again  # input kept
        assert fact(again, "name") == "Nguyễn Thị Lan"  # nothing erased
        done = await c.post(f"/profiles/{pid}/erase", data={"csrf_token": token, "confirm": pid})
        assert done.status_code == 303 and done.headers["location"] == "/profiles"
        listing = (await c.get("/profiles", params={"q": "0912.345.678"})).text
        assert "Đã xóa dữ liệu cá nhân của khách hàng" in listing
        assert "Nguyễn Thị Lan" not in listing
