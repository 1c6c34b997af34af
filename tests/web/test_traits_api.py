"""User-defined traits through the management API: define, list, preview, delete, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .conftest import Web, logged_in, running
from .traits_data import ECCO, seed

pytestmark = pytest.mark.anyio
URL = "/api/traits/definitions"


@pytest.fixture
async def retailer(tmp_path: Path) -> AsyncIterator[Web]:
    """The app with the three customers of :mod:`tests.web.traits_data` and one user per
    role, named after it."""
    async with running(tmp_path) as web:
        engine = web.app.state.analytics
        web.app.state.writer.run_exclusive(lambda: seed(engine))
        for role in ("admin", "marketer", "analyst", "support"):
            web.user(role, role)
        yield web


def values(web: Web) -> list[tuple]:
    return web.app.state.analytics.execute(
        "SELECT profile_id, trait, value_num, value_text FROM custom_trait_values "
        "ORDER BY ALL").fetchall()


async def test_a_marketer_defines_a_trait_and_it_is_computed_for_everyone(retailer):
    async with logged_in(retailer, "marketer") as c:
        r = await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["name"], body["result_type"], body["profiles"]) == \
            ("ecco_revenue_365d", "number", 2)
        assert body["definition"]["filters"] == ECCO["filters"]
        assert values(retailer) == [("p_a", "ecco_revenue_365d", 800_000.0, None),
                                ("p_b", "ecco_revenue_365d", 300_000.0, None)]
    async with logged_in(retailer, "support") as c:  # everyone reads them
        [listed] = (await c.get(URL)).json()
        assert (listed["name"], listed["profiles"]) == ("ecco_revenue_365d", 2)
        assert (await c.get(f"{URL}/ecco_revenue_365d")).json() == listed


async def test_replacing_a_definition_recomputes_it(retailer):
    async with logged_in(retailer, "admin") as c:
        await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)
        body = {k: v for k, v in ECCO.items() if k != "name"}  # the address names it
        r = await c.put(f"{URL}/ecco_revenue_365d", json={**body, "window_days": 7})
        assert r.json()["profiles"] == 1
        assert values(retailer) == [("p_b", "ecco_revenue_365d", 300_000.0, None)]
        r = await c.put(f"{URL}/top_brand", json={"source": "order_lines",
                                                   "aggregate": "most_frequent",
                                                   "property": "brand"})
        assert (r.json()["result_type"], r.json()["profiles"]) == ("text", 3)
        assert [d["name"] for d in (await c.get(URL)).json()] == ["ecco_revenue_365d",
                                                                  "top_brand"]


@pytest.mark.parametrize("path,body,field", [
    ("ecco", {**ECCO, "name": "ecco"}, None),
    ("Ecco", {**ECCO, "name": "Ecco"}, "name"),
    ("spend", {**ECCO, "name": "spend"}, "name"),
    ("ecco", {**ECCO, "name": "other"}, "name"),
    ("ecco", {**ECCO, "name": "ecco", "property": "revenue"}, "property"),
    ("ecco", {**ECCO, "name": "ecco", "source": "events"}, "event"),
    ("ecco", {**ECCO, "name": "ecco", "aggregate": "count"}, "property"),
    ("ecco", {**ECCO, "name": "ecco", "filters": [{"property": "brand", "op": "~"}]},
     "filters[0].op"),
    ("ecco", {**ECCO, "name": "ecco", "window_days": "365"}, "window_days"),
])
async def test_invalid_definitions_are_400_naming_the_field(retailer, path, body, field):
    async with logged_in(retailer, "marketer") as c:
        r = await c.put(f"{URL}/{path}", json=body)
        if field is None:
            assert r.status_code == 200
            return
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert (error["type"], error["field"]) == ("ValidationError", field)
        assert error["message"].startswith(field)
        assert (await c.get(URL)).json() == [] and values(retailer) == []


async def test_preview_computes_without_writing(retailer):
    async with logged_in(retailer, "marketer") as c:
        body = {k: v for k, v in ECCO.items() if k != "name"}
        r = await c.post(f"{URL}/preview", json=body)
        assert r.status_code == 200, r.text
        shown = r.json()
        assert (shown["profiles"], shown["result_type"]) == (2, "number")
        assert shown["samples"] == [{"profile_id": "p_a", "value": 800_000.0},
                                    {"profile_id": "p_b", "value": 300_000.0}]
        r = await c.post(f"{URL}/preview", json={"source": "orders", "aggregate": "max",
                                                  "property": "status",
                                                  "statuses": ["refunded"]})
        assert r.json()["samples"] == [{"profile_id": "p_b", "value": "refunded"}]
        r = await c.post(f"{URL}/preview", json={"source": "orders", "aggregate": "sum"})
        assert (r.status_code, r.json()["error"]["field"]) == (400, "property")
        assert (await c.get(URL)).json() == [] and values(retailer) == []


async def test_delete_removes_the_trait_and_its_values(retailer):
    async with logged_in(retailer, "marketer") as c:
        await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)
        r = await c.delete(f"{URL}/ecco_revenue_365d")
        assert r.status_code == 204
        assert values(retailer) == [] and (await c.get(URL)).json() == []
        assert (await c.get(f"{URL}/ecco_revenue_365d")).status_code == 404
        r = await c.delete(f"{URL}/ecco_revenue_365d")
        assert (r.status_code, r.json()["error"]["type"]) == (404, "NotFoundError")


@pytest.mark.parametrize("role", ["analyst", "support"])
async def test_only_admins_and_marketers_define_traits(retailer, role):
    async with logged_in(retailer, "marketer") as c:
        await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)
    async with logged_in(retailer, role) as c:
        assert (await c.get(URL)).status_code == 200
        for r in (await c.put(f"{URL}/other", json=ECCO),
                  await c.post(f"{URL}/preview", json=ECCO),
                  await c.delete(f"{URL}/ecco_revenue_365d")):
            assert r.status_code == 403
            assert r.json()["error"]["type"] == "PermissionDeniedError"
    assert len(values(retailer)) == 2


async def test_a_session_needs_its_csrf_token_and_strangers_are_refused(retailer):
    async with logged_in(retailer, "marketer") as c:
        del c.headers["X-CSRF-Token"]
        assert (await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)).status_code == 403
    async with retailer.client() as c:
        assert (await c.get(URL)).status_code == 401
        assert (await c.put(f"{URL}/ecco_revenue_365d", json=ECCO)).status_code == 401
    assert values(retailer) == []
