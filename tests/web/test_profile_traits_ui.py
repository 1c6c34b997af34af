"""The Traits section of the customer 360 page, in both languages."""

from __future__ import annotations

import re
from html import unescape

import pytest

from .conftest import logged_in
from .test_traits_fields_api import shop, with_traits  # noqa: F401 - the fixture

pytestmark = pytest.mark.anyio


def trait(html: str, name: str) -> str:
    [value] = re.findall(rf'<dd data-trait="{re.escape(name)}">(.*?)</dd>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", "", value)).split())


def section(html: str) -> str:
    [found] = re.findall(r'<section class="card" id="traits">(.*?)</section>', html, re.S)
    return found


async def test_the_traits_section_in_vietnamese(shop):  # noqa: F811
    lan, _ = await with_traits(shop)
    async with logged_in(shop, "support") as c:
        html = section((await c.get(f"/profiles/{lan}")).text)
    assert "Thuộc tính tính toán" in html and 'id="no-traits"' not in html
    assert trait(html, "rfm_group") == "Khách hàng tốt nhất"
    assert trait(html, "rfm_scores") == "R 5 · F 1 · M 3"
    assert trait(html, "lifecycle_stage") == "Khách hàng mới"
    assert trait(html, "clv_12m") == "1.250.000 ₫"
    assert trait(html, "p_alive") == "87,0%"
    assert trait(html, "next_purchase_at") == "—"
    assert trait(html, "spend") == "990.000 ₫" and trait(html, "orders") == "1"
    assert trait(html, "aov") == "990.000 ₫"
    assert trait(html, "first_purchase") == "05/01/2026 09:05"  # no channel or store known
    assert trait(html, "province") == "Thừa Thiên Huế · Miền Trung"
    assert trait(html, "channels") == "Cửa hàng, Website"
    assert trait(html, "omnichannel") == "Có"
    assert trait(html, "favourite_brand") == "—"
    assert trait(html, "ecco_revenue_365d") == "990.000"
    assert trait(html, "top_colour") == "đen"
    years = re.findall(r'<tr data-period="(\d{4})">.*?data-spend="(\d+)">([^<]+)<.*?'
                       r'<rect[^>]* width="([\d.]+)"', html, re.S)
    assert years == [("2026", "1500000", "1.500.000 ₫", "160.0"),
                     ("2025", "990000", "990.000 ₫", "105.6")]
    assert "Tính đến 01/03/2026" in html


async def test_the_traits_section_in_english(shop):  # noqa: F811
    lan, _ = await with_traits(shop)
    async with logged_in(shop, "marketer") as c:
        html = section((await c.get(f"/profiles/{lan}?lang=en")).text)
    assert "Computed traits" in html and "Spend per year" in html
    assert trait(html, "rfm_group") == "Champions"
    assert trait(html, "clv_12m") == "₫1,250,000"
    assert trait(html, "p_alive") == "87.0%"
    assert trait(html, "province") == "Thừa Thiên Huế · Central"
    assert trait(html, "channels") == "Store, Web"
    assert trait(html, "omnichannel") == "Yes"
    assert trait(html, "lifecycle_stage") == "New"
    assert "Customer lifetime value, 12 months (CLV)" in html
    assert "As of 1 Mar 2026" in html


async def test_a_profile_without_traits_says_how_to_compute_them(shop):  # noqa: F811
    _, minh = await with_traits(shop)
    async with logged_in(shop, "support") as c:
        [hung] = (await c.get("/api/profiles/search", params={"q": "Phạm Văn Hùng"})).json()
        html = section((await c.get(f"/profiles/{hung['profile_id']}")).text)
        prospect = section((await c.get(f"/profiles/{minh}")).text)
        english = section((await c.get(f"/profiles/{hung['profile_id']}?lang=en")).text)
    assert 'id="no-traits"' in html and "sen traits refresh" in html
    assert "have not been computed" in english and "sen traits refresh" in english
    # computed, but nothing bought yet
    assert trait(prospect, "lifecycle_stage") == "Chưa mua hàng"
    assert trait(prospect, "spend") == "0 ₫" and trait(prospect, "channels") == "—"
    assert 'id="no-spend"' in prospect and 'id="no-custom-traits"' not in prospect


async def test_traits_computed_by_the_runner_show_on_the_page(shop):  # noqa: F811
    shop.app.state.traits.run_now(full=True)
    async with logged_in(shop, "support") as c:
        [lan] = (await c.get("/api/profiles/lookup", params={"user_id": "KH1"})).json()
        html = section((await c.get(f"/profiles/{lan['profile_id']}")).text)
        body = (await c.get(f"/api/profiles/{lan['profile_id']}/traits")).json()
    assert body["computed"] and body["traits"]["spend"] == 990_000
    assert trait(html, "spend") == "990.000 ₫" and trait(html, "orders") == "1"
    assert "HCM-01" in trait(html, "last_purchase")
    assert 'id="spend-per-year"' in html
