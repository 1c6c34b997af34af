"""Trait runs on demand through the server, the scheduled updater, and their history."""

from __future__ import annotations

import asyncio

import pytest

from sen.web.auth import RUN_TRAITS
from tests.web import customers as data
from tests.web.conftest import commit, logged_in, running

pytestmark = pytest.mark.anyio


async def test_refresh_then_update_through_the_api(shop):
    async with logged_in(shop, "admin") as c:
        r = await c.post("/api/traits/refresh")
        assert r.status_code == 200, r.text
        full = r.json()
        assert full["kind"] == "full" and full["profiles"] > 3
        assert "rfm_cuts" in full["models"]
        lan = shop.app.state.analytics.cursor().execute("""
            SELECT t.orders, t.channels FROM profile_traits t JOIN profiles p USING (profile_id)
            WHERE list_contains(p.user_ids, 'KH1')""").fetchall()
        assert lan and lan[0][0] >= 1
        r = await c.post("/api/traits/update")
        assert r.json()["kind"] == "incremental" and r.json()["profiles"] == 0
        runs = (await c.get("/api/traits/runs")).json()
        assert [x["kind"] for x in runs] == ["incremental", "full"]


async def test_only_admins_and_analysts_run_traits(shop):
    for role in ("admin", "marketer", "analyst", "support"):
        async with logged_in(shop, role) as c:
            r = await c.post("/api/traits/update")
            assert r.status_code == (200 if role in RUN_TRAITS else 403), role
            assert (await c.get("/api/traits/runs")).status_code == 200
    async with shop.client() as anonymous:
        assert (await anonymous.get("/api/traits/runs")).status_code == 401


async def test_the_server_computes_traits_by_itself(tmp_path):
    async with running(tmp_path, identity_interval_s=0.1, traits_interval_s=0.1) as web:
        commit(web, data.lan_pos(), "pos")
        cur = web.app.state.analytics.cursor()
        for _ in range(200):
            rows = cur.execute("SELECT orders FROM profile_traits WHERE orders > 0").fetchall()
            if rows:
                break
            await asyncio.sleep(0.05)
        assert rows, "no traits were computed"
        assert web.app.state.traits.failures == 0
        kinds = [k for (k,) in cur.execute("SELECT kind FROM trait_runs").fetchall()]
        assert kinds[0] == "full"  # the first run of a store refreshes everyone
