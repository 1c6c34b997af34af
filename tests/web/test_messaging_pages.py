"""The messaging pages through the app (httpx, no browser): who may see and change what,
problems beside their inputs in Vietnamese with what was typed kept, secrets never
written into a page, the consent rule's confirmation, consent recorded on the 360, and
a customer's messages through the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sen.identity import resolver

from .conftest import Web, logged_in, running
from .messaging_shop import customers, rows

pytestmark = pytest.mark.anyio
ESMS = {"kind": "esms", "name": "esms-chinh", "config.brandname": "SENSHOES",
        "config.price_advertising": "800", "secrets.api_key": "khoa-bi-mat-1",
        "secrets.secret_key": "khoa-bi-mat-2"}


@pytest.fixture
async def web(tmp_path: Path, ops_url: str) -> AsyncIterator[Web]:
    """The app on each operational backend, with the shop's customers resolved."""
    async with running(tmp_path, ops_url) as w:
        w.app.state.writer.write_sync(rows(customers(), "server"))
        engine = w.app.state.analytics
        w.app.state.writer.run_exclusive(lambda: resolver.rebuild(engine))
        for role in ("admin", "marketer", "analyst", "support"):
            w.user(role, role)
        yield w


def problems(html: str) -> dict[str, str]:
    return dict(re.findall(r'class="field-problem"[^>]*data-for="([^"]*)">([^<]*)<', html))


async def test_who_sees_and_changes_what(web):
    async with logged_in(web, "marketer") as c:
        page = (await c.get("/channels")).text
        assert 'href="/channels"' in page and 'href="/campaigns"' in page
        assert 'id="save-policy"' not in page and 'id="add-provider"' not in page
        assert (await c.post("/channels/policy", data={})).status_code == 403
        assert (await c.get("/templates/new")).status_code == 200
    async with logged_in(web, "analyst") as c:
        assert (await c.get("/channels")).status_code == 403
        page = (await c.get("/campaigns")).text
        assert 'href="/channels"' not in page and 'id="new-campaign"' not in page
    async with logged_in(web, "support") as c:
        assert 'href="/templates"' not in (await c.get("/")).text
        assert (await c.get("/templates/new")).status_code == 403
        assert (await c.get("/campaigns/new")).status_code == 403


async def test_provider_form_problems_kept_input_and_secrets_never_shown(web):
    async with logged_in(web, "admin") as c:
        r = await c.post("/channels/providers", data={"kind": "esms", "name": "ESMS chính",
                                                      "config.price_care": "bảy trăm"})
        assert r.status_code == 400
        found = problems(r.text)
        assert found["name"].startswith("Chỉ dùng chữ thường không dấu")
        assert found["config.brandname"] == "Không được để trống."
        assert found["config.price_care"] == "Hãy nhập một số, ví dụ 800."
        assert found["secrets.api_key"] == "Không được để trống."
        assert 'value="bảy trăm"' in r.text and 'value="ESMS chính"' in r.text

        r = await c.post("/channels/providers", data=ESMS)
        assert (r.status_code, r.headers["location"]) == (303, "/channels/providers/esms-chinh")
        page = (await c.get("/channels/providers/esms-chinh")).text
        assert "khoa-bi-mat" not in page and "Đã lưu kênh gửi tin esms-chinh." in page
        [account] = (await c.get("/api/providers")).json()
        assert account["config"]["callback_url"] == account["webhook_url"]
        assert account["webhook_url"] in page and "khoa-bi-mat" not in (await c.get(
            "/channels")).text

        # Saved again with the secrets left empty: they are kept.
        again = {k: v for k, v in ESMS.items() if not k.startswith("secrets.")}
        r = await c.post("/channels/providers", data=again | {"config.brandname": "SEN2"})
        assert r.status_code == 303
        [account] = (await c.get("/api/providers")).json()
        assert account["secrets_set"] == ["api_key", "secret_key"]
        assert account["config"]["brandname"] == "SEN2"


async def test_turning_off_consent_for_advertising_asks_first(web):
    form = {"require_advertising_consent": None, "caps-0-purpose": "advertising",
            "caps-0-channel": "sms", "caps-0-max": "3", "caps-0-window_hours": "24",
            "caps-1-purpose": "advertising", "caps-1-channel": "email", "caps-1-max": "2",
            "caps-1-window_hours": "24", "quiet-0-purpose": "advertising",
            "quiet-0-channel": "sms", "quiet-0-start": "21:00", "quiet-0-end": "08:00",
            "duplicate_hours": "12"}
    form = {k: v for k, v in form.items() if v is not None}
    async with logged_in(web, "admin") as c:
        r = await c.post("/channels/policy", data=form)
        assert r.status_code == 200 and 'id="consent-warning"' in r.text
        assert "Nghị định 91/2020" in r.text and 'value="21:00"' in r.text
        assert (await c.get("/api/messaging/policy")).json()["policy"][
            "require_advertising_consent"] is True
        r = await c.post("/channels/policy", data=form | {"confirm_no_consent": "yes"})
        assert r.status_code == 303
        saved = (await c.get("/api/messaging/policy")).json()
        assert saved["policy"]["require_advertising_consent"] is False and saved["warnings"]
        assert saved["policy"]["duplicate_hours"] == 12
        assert saved["policy"]["quiet_hours"][0]["start"] == "21:00:00"

        loose = form | {"caps-0-max": "5", "require_advertising_consent": "on"}
        r = await c.post("/channels/policy", data=loose)
        assert r.status_code == 400
        assert problems(r.text)["caps"].startswith("Quảng cáo qua SMS và email cần giới hạn")
        assert 'value="5"' in r.text


async def test_advertising_texts(web):
    async with logged_in(web, "admin") as c:
        r = await c.post("/channels/texts", data={"advertising_label": "[AD]",
                                                  "sms_opt_out": "TC"})
        assert r.status_code == 400
        assert problems(r.text)["sms_opt_out"] == "Quá ngắn: ít nhất 5 ký tự."
        r = await c.post("/channels/texts", data={"advertising_label": "[AD]",
                                                  "sms_opt_out": "Huy: {unsubscribe_url}"})
        assert r.status_code == 303
        page = (await c.get("/channels")).text
        assert 'value="Huy: {unsubscribe_url}"' in page and '"[AD]" selected' in page


async def _template(c, name: str, channel: str = "sms", **extra) -> None:  # noqa: ANN001
    body = {"name": name, "title": name, "channel": channel, "purpose": "advertising",
            "body": "Chao ban"} | extra
    r = await c.put(f"/api/templates/{name}", json=body)
    assert r.status_code == 200, r.text


async def test_campaign_form_problems_beside_inputs(web):
    from sen.segments import rules, saved

    saved.save(web.ops, saved.Segment("khach-moi", "Khách mới", rules.parse(
        {"trait": "orders", "op": ">=", "value": 0})))
    async with logged_in(web, "marketer") as c:
        await _template(c, "sms-a")
        await _template(c, "mail-a", "email", subject="Chào", body="Chào bạn")
        await c.post("/api/templates/sms-a/archive")
        form = {"is_new": "1", "name": "tet", "title": "Tết", "segment": "khach-moi",
                "step-0-channel": "sms", "step-0-template": "sms-a", "step-1-channel": "zalo",
                "step-1-template": "mail-a", "budget": "2.000.000", "holdout_percent": "60",
                "when": "later", "send_at": ""}
        r = await c.post("/campaigns", data=form)
        assert r.status_code == 400
        found = problems(r.text)
        assert found["channels.0.template"].startswith("Mẫu tin sms-a đã lưu trữ")
        assert found["channels.1.template"].startswith("Mẫu tin này dành cho kênh Email")
        assert found["holdout_percent"] == "Lớn nhất là 50."
        assert found["send_at"] == "Hãy chọn ngày và giờ."
        assert 'value="2.000.000"' in r.text and 'value="Tết"' in r.text

        await c.post("/api/templates/sms-a/restore")
        r = await c.post("/campaigns", data=form | {"step-1-channel": "email",
                                                    "holdout_percent": "10", "when": "now"})
        assert r.status_code == 303
        saved_one = (await c.get("/api/campaigns/tet")).json()["definition"]
        assert saved_one["budget"] == 2_000_000 and saved_one["holdout_percent"] == 10
        assert [s["channel"] for s in saved_one["channels"]] == ["sms", "email"]
        r = await c.post("/campaigns", data=form | {"step-1-channel": "email",
                                                    "holdout_percent": "10", "when": "now"})
        assert problems(r.text)["name"] == "Đã có chiến dịch tên tet; hãy chọn tên khác."
        # Pausing a campaign that is not running says so on its page, not on an error page.
        r = await c.post("/campaigns/tet/pause")
        assert (r.status_code, r.headers["location"]) == (303, "/campaigns/tet")
        page = (await c.get("/campaigns/tet")).text
        assert "Chiến dịch đã đổi trạng thái trong lúc đó" in page and 'id="estimate"' in page


async def test_consent_recorded_on_the_360_and_messages_listed(web):
    async with logged_in(web, "support") as c:
        [lan] = (await c.get("/api/profiles/search", params={"q": "0960000000"})).json()
        pid = lan["profile_id"]
        page = (await c.get(f"/profiles/{pid}")).text
        assert page.index('id="consent"') < page.index('id="traits"')
        assert 'data-channel="sms" data-purpose="advertising" data-status="none"' in page
        r = await c.post(f"/profiles/{pid}/consent", data={
            "channel": "sms", "purpose": "advertising", "status": "granted",
            "note": "Gọi hotline, đồng ý nhận khuyến mãi"})
        assert r.status_code == 303
        [row] = [x for x in (await c.get(f"/api/profiles/{pid}/consents")).json()
                 if x["purpose"] == "advertising"]
        assert (row["status"], row["source"]) == ("granted", "ui")
        assert row["proof"] == {"entered_by": "support",
                                "note": "Gọi hotline, đồng ý nhận khuyến mãi"}
        page = (await c.get(f"/profiles/{pid}")).text
        assert "Nhân viên ghi nhận" in page and "Gọi hotline, đồng ý nhận khuyến mãi" in page
        r = await c.post(f"/profiles/{pid}/consent", data={
            "channel": "email", "purpose": "advertising", "status": "revoked",
            "note": "không có email"})
        page = (await c.get(r.headers["location"])).text
        assert 'id="consent-error"' in page and 'value="không có email"' in page
    async with logged_in(web, "marketer") as c:
        assert (await c.post(f"/profiles/{pid}/consent", data={
            "channel": "sms", "purpose": "advertising", "status": "revoked"})).status_code == 403
        from sen.segments import rules, saved

        saved.save(web.ops, saved.Segment("mot-nguoi", "Một người", rules.parse(
            {"trait": "orders", "op": ">=", "value": 0})))
        await _template(c, "chao")
        assert (await c.put("/api/campaigns/thu", json={
            "name": "thu", "title": "Thử", "segment": "mot-nguoi",
            "channels": [{"channel": "sms", "template": "chao"}]})).status_code == 200
        sent = (await c.post("/api/campaigns/thu/test", json={"profile_ids": [pid]})).json()
        assert sent == {"queued": 1, "suppressed": {}}
        [message] = (await c.get(f"/api/profiles/{pid}/messages")).json()
        assert (message["channel"], message["address"]) == ("sms", "+84960000000")
        page = (await c.get(f"/profiles/{pid}")).text
        assert f'data-message="{message["id"]}"' in page and "Chờ gửi" in page
