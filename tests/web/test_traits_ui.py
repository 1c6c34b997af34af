"""The traits page through the real app: the list, the form (preview, save, edit, delete),
CSRF and roles, in both languages."""

from __future__ import annotations

import re
from html import unescape

import pytest

from .conftest import csrf_of, logged_in
from .test_traits_api import retailer, values  # noqa: F401 - the fixture is used by name
from .traits_data import ECCO

pytestmark = pytest.mark.anyio

FORM = {"name": "ecco_revenue_365d", "label": "Doanh số ECCO 365 ngày", "description": "",
        "source": "order_lines", "event": "", "aggregate": "sum", "property": "amount",
        "filter_property": ["brand", "", ""], "filter_op": ["=", "=", "="],
        "filter_value": ["ECCO", "", ""], "window_days": "365", "since": "", "until": "",
        "statuses": ["completed"]}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


async def test_everyone_sees_the_traits_but_only_definers_get_the_form(retailer):  # noqa: F811
    async with logged_in(retailer, "support") as c:
        page = (await c.get("/traits")).text
        assert 'href="/traits" aria-current="page"' in page
        assert "Thuộc tính khách hàng" in page and 'id="no-custom-traits"' in page
        builtins = re.search(r'<p id="builtin-traits">(.*?)</p>', page, re.S).group(1)
        assert "favourite_brand" in builtins and "rfm_group" in builtins
        assert "profile_id" not in builtins
        assert 'id="trait-form"' not in page
    async with logged_in(retailer, "marketer") as c:
        assert 'id="trait-form"' in (await c.get("/traits")).text


async def test_preview_then_save_through_the_form(retailer):  # noqa: F811
    async with logged_in(retailer, "marketer") as c:
        r = await c.post("/traits", data={**FORM, "action": "preview"})
        assert r.status_code == 200, r.text
        shown = text_of(re.search(r'<div class="alert info" role="status" id="preview">'
                                  r'(.*?)</div>', r.text, re.S).group(1))
        assert "2 khách hàng có giá trị" in shown
        assert "p_a 800.000" in shown and "p_b 300.000" in shown
        assert 'value="ECCO"' in r.text  # the form comes back as it was
        assert values(retailer) == []
        r = await c.post("/traits", data={**FORM, "action": "save"})
        assert (r.status_code, r.headers["location"]) == (303, "/traits")
        page = (await c.get("/traits")).text
        assert "Đã lưu thuộc tính ecco_revenue_365d: 2 khách hàng có giá trị." in page
        row = text_of(re.search(r'<tr data-trait="ecco_revenue_365d">(.*?)</tr>', page,
                                re.S).group(1))
        assert "Doanh số ECCO 365 ngày" in row and "Tổng amount" in row
        assert "brand = ECCO" in row and "365 ngày gần nhất" in row and "Số" in row
    assert len(values(retailer)) == 2


async def test_the_form_reads_lists_numbers_and_statuses(retailer):  # noqa: F811
    form = {**FORM, "name": "big_or_refunded", "aggregate": "count", "property": "amount",
            "filter_property": ["brand", "price", ""], "filter_op": ["in", ">=", "="],
            "filter_value": ["ECCO, Aldo", "500000", ""], "window_days": "",
            "statuses": ["completed", "refunded"], "action": "save"}
    async with logged_in(retailer, "admin") as c:
        assert (await c.post("/traits", data=form)).status_code == 303
        [d] = (await c.get("/api/traits/definitions")).json()
        assert d["definition"]["filters"] == [
            {"property": "brand", "op": "in", "value": ["ECCO", "Aldo"]},
            {"property": "price", "op": ">=", "value": 500000}]
        assert d["definition"]["property"] is None  # count takes none: left out
        assert d["definition"]["statuses"] == ["completed", "refunded"]
        assert d["profiles"] == 3  # A: 800.000 and 500.000, B: the refunded one, C: Aldo
        page = (await c.get("/traits?edit=big_or_refunded")).text
        assert 'value="ECCO, Aldo"' in page and 'value="500000"' in page
        assert re.search(r'value="refunded" checked', page)


async def test_mistakes_come_back_with_the_form_and_the_reason(retailer):  # noqa: F811
    async with logged_in(retailer, "marketer") as c:
        r = await c.post("/traits", data={**FORM, "property": "revenue", "action": "save"})
        assert r.status_code == 400
        error = text_of(re.search(r'id="form-error">(.*?)</p>', r.text, re.S).group(1))
        assert error.startswith("property:") and "amount" in error
        assert 'value="revenue"' in r.text and 'value="Doanh số ECCO 365 ngày"' in r.text
        r = await c.post("/traits", data={**FORM, "window_days": "một năm"})
        assert r.status_code == 400 and "whole number of days" in r.text
        r = await c.post("/traits", data={**FORM, "source": "events"})
        assert r.status_code == 400 and "event" in text_of(r.text)
    assert values(retailer) == []


async def test_edit_fills_the_form_and_delete_removes_the_trait(retailer):  # noqa: F811
    async with logged_in(retailer, "marketer") as c:
        await c.put("/api/traits/definitions/ecco_revenue_365d", json=ECCO)
        page = (await c.get("/traits?edit=ecco_revenue_365d")).text
        form = re.search(r'<form method="post" action="/traits" .*?</form>', page, re.S).group(0)
        for value in ('value="ecco_revenue_365d"', 'value="ECCO"', 'value="365"',
                      'value="amount"'):
            assert value in form
        assert '<option value="order_lines" selected>' in form
        r = await c.post("/traits/ecco_revenue_365d/delete")
        assert (r.status_code, r.headers["location"]) == (303, "/traits")
        page = (await c.get("/traits")).text
        assert "Đã xóa thuộc tính ecco_revenue_365d." in page
        assert 'id="no-custom-traits"' in page
        assert (await c.get("/traits?edit=ecco_revenue_365d")).status_code == 404
    assert values(retailer) == []


async def test_the_forms_csrf_field_is_required(retailer):  # noqa: F811
    async with retailer.client() as c:
        await retailer.login(c, "marketer")
        page = (await c.get("/traits")).text
        r = await c.post("/traits", data={**FORM, "action": "save"})
        assert r.status_code == 403 and "Biểu mẫu đã cũ" in r.text
        r = await c.post("/traits", data={**FORM, "action": "save",
                                          "csrf_token": csrf_of(page)})
        assert r.status_code == 303
        r = await c.post("/traits/ecco_revenue_365d/delete")
        assert r.status_code == 403
    assert len(values(retailer)) == 2


@pytest.mark.parametrize("role", ["analyst", "support"])
async def test_other_roles_cannot_define_or_delete(retailer, role):  # noqa: F811
    async with logged_in(retailer, "marketer") as c:
        await c.put("/api/traits/definitions/ecco_revenue_365d", json=ECCO)
    async with logged_in(retailer, role) as c:
        page = (await c.get("/traits")).text
        assert 'data-trait="ecco_revenue_365d"' in page and "/delete" not in page
        r = await c.post("/traits", data={**FORM, "name": "mine", "action": "save"})
        assert r.status_code == 403 and "Vai trò" in r.text
        assert (await c.post("/traits/ecco_revenue_365d/delete")).status_code == 403
    assert len(values(retailer)) == 2


async def test_the_page_in_english(retailer):  # noqa: F811
    async with logged_in(retailer, "marketer") as c:
        await c.put("/api/traits/definitions/ecco_revenue_365d", json=ECCO)
        page = (await c.get("/traits?lang=en")).text
        assert "Customer traits" in page and "Define a computed trait" in page
        row = text_of(re.search(r'<tr data-trait="ecco_revenue_365d">(.*?)</tr>', page,
                                re.S).group(1))
        assert "Sum amount · Order lines" in row and "Last 365 days" in row
        r = await c.post("/traits", data={**FORM, "action": "preview"})
        assert "800,000" in text_of(r.text)
