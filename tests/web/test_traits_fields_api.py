"""The trait catalogue, exports and a profile's traits through the management API."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.traits.test_fields import define, insert_custom, insert_periods, insert_traits

from . import customers as data
from .conftest import Web, commit, logged_in, rebuild, running

pytestmark = pytest.mark.anyio


def write(web: Web, fn: Any) -> None:
    """Change the store on the writer's thread, as the trait runner does."""
    web.app.state.writer.run_exclusive(lambda: fn(web.app.state.analytics.cursor()))


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Web]:
    """Every customer of :mod:`tests.web.customers`, one user per role, no trait jobs (the
    tests write traits by hand)."""
    async with running(tmp_path, traits_interval_s=0) as web:
        for events, source in data.everyone():
            commit(web, events, source)
        rebuild(web)
        for role in ("admin", "marketer", "analyst", "support"):
            web.user(role, role)
        yield web


async def profile_of(c, **identifier: str) -> dict[str, Any]:  # noqa: ANN001
    [found] = (await c.get("/api/profiles/lookup", params=identifier)).json()
    return found


def lan_traits(lan: str, minh: str):  # noqa: ANN201
    def fill(cur: Any) -> None:
        insert_traits(cur, lan, orders=1, spend=990_000, aov=990_000, rfm_group="Champions",
                      rfm_r=5, rfm_f=1, rfm_m=3, channels=["store", "web"], omnichannel=True,
                      province="Thừa Thiên Huế", region="Central", p_alive=0.87,
                      first_purchase_at=datetime(2026, 1, 5, 2, 5),
                      lifecycle_stage="new", clv_12m=1_250_000)
        insert_traits(cur, minh, channels=[], lifecycle_stage="prospect")
        insert_periods(cur, lan, ("2025", 1, 990_000), ("2026", 2, 1_500_000),
                       ("2026-01", 2, 1_500_000))
        define(cur, "ecco_revenue_365d", label="Doanh số ECCO 365 ngày", aggregate="sum")
        define(cur, "top_colour", aggregate="most_frequent")
        insert_custom(cur, lan, "ecco_revenue_365d", 990_000)
        insert_custom(cur, lan, "top_colour", text="đen")
    return fill


async def with_traits(web: Web) -> tuple[str, str]:
    async with logged_in(web, "admin") as c:
        lan = (await profile_of(c, user_id="KH1"))["profile_id"]
        minh = (await profile_of(c, user_id="M1"))["profile_id"]
    write(web, lan_traits(lan, minh))
    return lan, minh


# -- the field list ---------------------------------------------------------------------------

async def test_everyone_logged_in_reads_the_field_list(shop):
    lan, _ = await with_traits(shop)
    for role in ("admin", "marketer", "analyst", "support"):
        async with logged_in(shop, role) as c:
            r = await c.get("/api/traits/fields")
            assert r.status_code == 200, (role, r.text)
    found = {f["name"]: f for f in r.json()}
    assert found["spend"]["type"] == "money" and found["spend"]["max"] == 990_000
    assert found["spend"]["count"] == 2
    assert found["rfm_group"]["top"] == [{"value": "Champions", "count": 1}]
    assert found["lifecycle_stage"]["values"][:2] == ["new", "active"]
    assert found["region"]["label"] == {"vi": "Vùng miền", "en": "Region"}
    assert found["spend_in_period"]["params"]["period"]["values"] == ["2026-01", "2026",
                                                                      "2025"]
    assert found["top_colour"]["type"] == "text" and found["top_colour"]["source"] == "custom"
    assert found["ecco_revenue_365d"]["max"] == 990_000
    assert "min" not in found["favourite_brand"]  # absent rather than null
    async with shop.client() as anonymous:
        assert (await anonymous.get("/api/traits/fields")).status_code == 401


# -- exports ----------------------------------------------------------------------------------

def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_csv_export_with_traits_periods_and_custom_values(shop):
    lan, minh = await with_traits(shop)
    async with logged_in(shop, "marketer") as c:
        r = await c.get("/api/traits/export", params={
            "fields": "rfm_group,spend,channels,omnichannel,first_purchase_at,"
                      "spend_in_period:2026,top_colour,ecco_revenue_365d"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="sen-traits-')
    rows = read_csv(r.content)
    assert rows[0] == ["profile_id", "name", "phone", "email", "rfm_group", "spend", "channels",
                       "omnichannel", "first_purchase_at", "spend_in_period:2026",
                       "top_colour", "ecco_revenue_365d"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[lan] == [lan, "Nguyễn Thị Lan", data.LAN_E164, "lan@gmail.com", "Champions",
                          "990000", "store, web", "true", "2026-01-05 02:05:00", "1500000",
                          "đen", "990000"]
    assert by_id[minh][1] == "Lê Minh" and by_id[minh][4:] == [
        "", "0", "", "false", "", "0", "", ""]
    profiles = shop.app.state.analytics.execute("SELECT count(*) FROM profiles").fetchall()
    assert len(rows) - 1 == profiles[0][0]  # everyone, traits or not
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


async def test_csv_export_of_contact_columns_only(shop):
    async with logged_in(shop, "analyst") as c:
        r = await c.get("/api/traits/export")
    assert r.status_code == 200
    assert read_csv(r.content)[0] == ["profile_id", "name", "phone", "email"]


async def test_xlsx_export(shop):
    lan, _ = await with_traits(shop)
    async with logged_in(shop, "analyst") as c:
        r = await c.get("/api/traits/export",
                        params={"fields": "spend,region,channels,p_alive", "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)["traits"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["profile_id", "name", "phone", "email", "spend", "region", "channels",
                       "p_alive"]
    [mine] = [row for row in rows if row[0] == lan]
    assert mine == [lan, "Nguyễn Thị Lan", data.LAN_E164, "lan@gmail.com", 990_000, "Central",
                    "store, web", 0.87]


@pytest.mark.parametrize("query,named", [
    ({"fields": "spend,shoe_size"}, "shoe_size"),
    ({"fields": "spend_in_period:2026-13"}, "spend_in_period:2026-13"),
    ({"fields": "spend", "format": "pdf"}, "pdf"),
])
async def test_unknown_fields_and_formats_are_422(shop, query, named):
    async with logged_in(shop, "admin") as c:
        r = await c.get("/api/traits/export", params=query)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["type"] == "ValidationError" and named in error["message"]
    assert error["field"] in ("fields", "format")


async def test_exports_are_for_admins_marketers_and_analysts(shop):
    async with logged_in(shop, "support") as c:
        r = await c.get("/api/traits/export", params={"fields": "spend"})
    assert r.status_code == 403 and r.json()["error"]["type"] == "PermissionDeniedError"
    async with shop.client() as anonymous:
        assert (await anonymous.get("/api/traits/export")).status_code == 401


async def test_a_bearer_token_exports(shop):
    async with logged_in(shop, "marketer") as c:
        token = (await c.post("/api/tokens", json={"name": "export"})).json()["secret"]
    async with shop.client(token) as c:
        r = await c.get("/api/traits/export", params={"fields": "spend"})
    assert r.status_code == 200 and read_csv(r.content)[0][-1] == "spend"


async def test_spreadsheet_formulas_are_not_run(shop):
    commit(shop, [data.ev("evil-1", "identify", ts=data.at(1), userId="EVIL",
                          traits={"name": "=HYPERLINK(\"http://x\")", "phone": "0903 999 888"})],
           "pos")
    rebuild(shop)
    async with logged_in(shop, "admin") as c:
        rows = read_csv((await c.get("/api/traits/export")).content)
        book = (await c.get("/api/traits/export", params={"format": "xlsx"})).content
    [evil] = [row for row in rows if row[2] == "+84903999888"]
    assert evil[1].lower() == "'=hyperlink(\"http://x\")"  # the name as identity wrote it
    sheet = openpyxl.load_workbook(io.BytesIO(book))["traits"]
    [cell] = [row[1] for row in sheet.iter_rows() if row[2].value == "+84903999888"]
    assert cell.data_type == "s" and cell.value == evil[1][1:]


# -- one profile's traits ---------------------------------------------------------------------

async def test_a_profiles_traits(shop):
    lan, _ = await with_traits(shop)
    async with logged_in(shop, "support") as c:
        r = await c.get(f"/api/profiles/{lan}/traits")
        assert r.status_code == 200, r.text
        body = r.json()
        full = (await c.get(f"/api/profiles/{lan}")).json()
    assert body["profile_id"] == lan and body["computed"] is True
    assert body["as_of"] == "2026-03-01T00:00:00"
    traits = body["traits"]
    assert (traits["spend"], traits["rfm_group"], traits["channels"], traits["p_alive"],
            traits["favourite_brand"]) == (990_000, "Champions", ["store", "web"], 0.87, None)
    assert body["spend_per_year"] == [{"period": "2025", "orders": 1, "spend": 990_000},
                                      {"period": "2026", "orders": 2, "spend": 1_500_000}]
    assert body["spend_per_month"] == [{"period": "2026-01", "orders": 2, "spend": 1_500_000}]
    assert body["custom"] == [
        {"name": "ecco_revenue_365d", "type": "number", "value": 990_000.0,
         "label": {"vi": "Doanh số ECCO 365 ngày", "en": "Doanh số ECCO 365 ngày"}},
        {"name": "top_colour", "type": "text", "value": "đen",
         "label": {"vi": "top_colour", "en": "top_colour"}}]
    assert full["traits"] == body  # the 360 carries them too
    assert full["profile"]["name"] == "Nguyễn Thị Lan"


async def test_a_profile_without_traits(shop):
    async with logged_in(shop, "support") as c:
        hung = (await c.get("/api/profiles/search", params={"q": "Phạm Văn Hùng"})).json()
        pid = hung[0]["profile_id"]
        body = (await c.get(f"/api/profiles/{pid}/traits")).json()
        full = (await c.get(f"/api/profiles/{pid}")).json()
    assert body == {"profile_id": pid, "computed": False, "as_of": None, "computed_at": None,
                    "traits": None, "spend_per_year": [], "spend_per_month": [], "custom": []}
    assert full["traits"]["computed"] is False


async def test_an_unknown_profile_is_404(shop):
    async with logged_in(shop, "support") as c:
        r = await c.get("/api/profiles/p_0000000000000000/traits")
    assert r.status_code == 404 and r.json()["error"]["type"] == "NotFoundError"


async def test_a_merged_away_id_redirects(tmp_path):
    async with running(tmp_path, traits_interval_s=0) as web:
        web.user("hoa", "support")
        first, second = data.minh_web()
        commit(web, [first], "web")
        web.app.state.identity.run_now()
        async with logged_in(web, "hoa") as c:
            old = (await profile_of(c, anonymous_id="anon-minh"))["profile_id"]
            commit(web, [second], "web")
            web.app.state.identity.run_now()
            minh = (await profile_of(c, user_id="M1"))["profile_id"]
            write(web, lambda cur: insert_traits(cur, minh, orders=2))
            r = await c.get(f"/api/profiles/{old}/traits?x=1")
            assert r.status_code == 307 and r.json() == {"merged_into": minh}
            assert r.headers["location"] == f"/api/profiles/{minh}/traits?x=1"
            followed = await c.get(f"/api/profiles/{old}/traits", follow_redirects=True)
            assert followed.json()["traits"]["orders"] == 2
