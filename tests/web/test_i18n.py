"""Vietnamese by default, English on request; money, dates and times per language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sen.web import i18n
from sen.web.tokens import create_token

from .conftest import running


@pytest.mark.parametrize("amount, vi, en", [
    (1_250_000, "1.250.000 ₫", "₫1,250,000"),
    (0, "0 ₫", "₫0"),
    (999, "999 ₫", "₫999"),
    (1000, "1.000 ₫", "₫1,000"),
    (-45_000, "-45.000 ₫", "-₫45,000"),
    (12_345_678_901, "12.345.678.901 ₫", "₫12,345,678,901"),
])
def test_money(amount, vi, en):
    assert i18n.format_money(amount, "vi") == vi
    assert i18n.format_money(amount, "en") == en


def test_dates_and_times_in_the_retailers_zone():
    assert i18n.format_date(date(2026, 11, 23), "vi") == "23/11/2026"
    assert i18n.format_date(date(2026, 1, 5), "vi") == "05/01/2026"
    assert i18n.format_date(date(2026, 11, 23), "en") == "23 Nov 2026"
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    stored = datetime(2026, 11, 23, 17, 30)  # naive = UTC, as stored
    assert i18n.format_datetime(stored, "vi", hcm) == "24/11/2026 00:30"
    assert i18n.format_datetime(stored, "en", ZoneInfo("UTC")) == "23 Nov 2026 17:30"


@pytest.mark.parametrize("candidates, expected", [
    (("en", "vi"), "en"), ((None, "EN-us"), "en"), (("fr", None), "vi"), ((), "vi"),
])
def test_pick_locale_takes_the_first_supported(candidates, expected):
    assert i18n.pick_locale(*candidates) == expected


def test_catalogue_is_complete_and_uses_the_glossary_words():
    for key, (vi, en) in i18n.MESSAGES.items():
        assert vi.strip() and en.strip(), key
    words = {"nav.overview": "Tổng quan", "overview.events": "Sự kiện",
             "overview.orders": "Đơn hàng", "nav.sources": "Nguồn dữ liệu",
             "overview.revenue": "Doanh số", "role.support": "Nhân viên CSKH"}
    for key, vi in words.items():
        assert i18n.translate("vi", key) == vi
    assert i18n.translate("en", "nav.overview") == "Overview"
    assert i18n.translate("vi", "no.such.key") == "no.such.key"


@pytest.mark.anyio
async def test_pages_are_vietnamese_by_default_and_english_on_request(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        login = await c.get("/login")
        assert '<html lang="vi">' in login.text and "Đăng nhập" in login.text
        await web.login(c, "lan")
        home = (await c.get("/")).text
        assert "Tổng quan" in home and "Khách hàng mới" in home and "0 ₫" in home
        english = (await c.get("/?lang=en")).text
        assert '<html lang="en">' in english and "Overview" in english and "₫0" in english
        assert "Tổng quan" not in english
        # The choice sticks for the rest of the session.
        assert "API tokens" in (await c.get("/tokens")).text
        assert "Nguồn dữ liệu" in (await c.get("/sources?lang=vi")).text


@pytest.mark.anyio
async def test_a_users_own_language_is_the_default_after_login(web):
    web.user("john", "analyst", locale="en")
    async with web.client() as c:
        await web.login(c, "john")
        page = (await c.get("/")).text
        assert '<html lang="en">' in page and "New customers" in page


@pytest.mark.anyio
async def test_token_times_show_in_the_configured_zone_not_utc(tmp_path):
    zone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the hour always differs from UTC's
    async with running(tmp_path, timezone=zone.key) as web:
        lan = web.user("lan", "marketer")
        before = datetime.now(UTC)
        create_token(web.ops, lan, "POS")
        after = datetime.now(UTC)
        async with web.client() as c:
            await web.login(c, "lan")
            page = (await c.get("/tokens")).text
    assert any(f"{m.astimezone(zone):%d/%m/%Y %H:%M}" in page for m in (before, after))
    assert not any(f"{m:%d/%m/%Y %H:%M}" in page for m in (before, after))
    assert "Chưa dùng" in page
