"""The segments API: live previews with per-branch counts, saved segments, runs with
entered/exited events, history, overlap, members' export, SQL and roles."""

from __future__ import annotations

import pytest

from sen.segments import events
from sen.traits import runner
from tests.web.conftest import logged_in

pytestmark = pytest.mark.anyio

BUYERS = {"trait": "orders", "op": ">=", "value": 1}
PROSPECTS = {"trait": "lifecycle_stage", "op": "=", "value": "prospect"}


def _refresh(web) -> None:
    """Traits and events by profile, as the server's jobs keep them."""
    engine = web.app.state.analytics
    web.app.state.writer.run_exclusive(lambda: runner.refresh(engine))
    web.app.state.writer.run_exclusive(lambda: events.rebuild(engine))


async def test_preview_counts_each_branch_and_samples_members(shop):
    _refresh(shop)
    async with logged_in(shop, "marketer") as c:
        r = await c.post("/api/segments/preview", json={
            "rule": {"any": [BUYERS, PROSPECTS]}, "sample": 3})
        assert r.status_code == 200, r.text
        body = r.json()
        paths = [b["path"] for b in body["branches"]]
        assert paths == ["(rule)", "any[0]", "any[1]"]
        counts = [b["count"] for b in body["branches"]]
        assert counts[0] == counts[1] + counts[2] > 0  # buyers and prospects never overlap
        assert len(body["sample"]) == min(3, counts[0])
        assert {"profile_id", "name", "lifecycle_stage"} <= set(body["sample"][0])
        sql = (await c.post("/api/segments/sql", json={"rule": BUYERS})).json()["sql"]
        assert "profile_traits" in sql


async def test_a_bad_rule_names_its_path(shop):
    async with logged_in(shop, "marketer") as c:
        r = await c.post("/api/segments/preview", json={
            "rule": {"all": [BUYERS, {"not": {"trait": "age", "op": "between", "value": [1]}}]}})
        assert r.status_code == 400
        assert "all[1].not" in r.json()["error"]["message"]
        r = await c.post("/api/segments/preview", json={"rule": {"trait": "nope", "op": "=",
                                                                 "value": 1}})
        assert r.status_code == 400 and "Unknown trait 'nope'" in r.text
        # A rule that cannot run is not saved either.
        r = await c.put("/api/segments/broken", json={
            "title": "Broken", "rule": {"trait": "nope", "op": "=", "value": 1}})
        assert r.status_code == 400 and "Unknown trait 'nope'" in r.text
        assert (await c.get("/api/segments/broken")).status_code == 404


async def test_save_run_list_overlap_and_export_members(shop):
    _refresh(shop)
    async with logged_in(shop, "marketer") as c:
        r = await c.put("/api/segments/buyers", json={"title": "Buyers", "rule": BUYERS})
        assert r.status_code == 200, r.text
        await c.put("/api/segments/prospects", json={"title": "Prospects", "rule": PROSPECTS})
        run = (await c.post("/api/segments/buyers/run")).json()
        assert run["members"] == run["entered"] > 0 and run["exited"] == 0
        again = (await c.post("/api/segments/buyers/run")).json()
        assert (again["entered"], again["exited"]) == (0, 0)
        await c.post("/api/segments/prospects/run")
        listed = {s["name"]: s for s in (await c.get("/api/segments")).json()}
        assert [h["members"] for h in listed["buyers"]["history"]] == [run["members"]] * 2
        matrix = (await c.post("/api/segments/overlap",
                               json={"names": ["buyers", "prospects"]})).json()
        assert matrix["buyers"]["prospects"] == 0
        assert matrix["buyers"]["buyers"] == run["members"]
        csv = await c.get("/api/traits/export", params={"fields": "orders",
                                                        "segment": "buyers"})
        lines = csv.text.strip().splitlines()
        assert len(lines) == 1 + run["members"]
        assert "buyers-" in csv.headers["content-disposition"]
        entered = shop.app.state.analytics.cursor().execute(
            "SELECT count(*) FROM events WHERE event = 'Segment Entered' "
            "AND properties->>'segment' = 'buyers'").fetchall()[0][0]
        assert entered == run["members"]
        assert (await c.delete("/api/segments/buyers")).status_code == 204
        assert "buyers" not in {s["name"] for s in (await c.get("/api/segments")).json()}
        assert (await c.get("/api/segments/nobody")).status_code == 404


async def test_roles(shop):
    for role in ("admin", "marketer", "analyst", "support"):
        async with logged_in(shop, role) as c:
            r = await c.put(f"/api/segments/by-{role}", json={"title": "x", "rule": BUYERS})
            assert r.status_code == (200 if role in ("admin", "marketer") else 403), role
            r = await c.post("/api/segments/preview", json={"rule": BUYERS})
            assert r.status_code == 200, role
    async with shop.client() as anonymous:
        assert (await anonymous.post("/api/segments/preview",
                                     json={"rule": BUYERS})).status_code == 401


async def test_the_server_keeps_events_by_profile_and_saved_segments_up_to_date(tmp_path):

    from sen.segments import rules, saved
    from tests.web import customers as data
    from tests.web.conftest import commit, eventually, running, traits_with_orders

    async with running(tmp_path, identity_interval_s=0.1, traits_interval_s=0.1,
                       profile_events_interval_s=0.1, segments_interval_s=0.1) as web:
        commit(web, data.lan_pos(), "pos")
        cur = web.app.state.analytics.cursor()
        assert await eventually(lambda: traits_with_orders(web))  # identity, then traits
        saved.save(web.app.state.ops, saved.Segment(
            name="buyers", title="Buyers", rule=rules.parse(BUYERS)))
        members = await eventually(lambda: cur.execute(  # a new segment is due at once
            "SELECT count(*) FROM segment_members WHERE segment = 'buyers'").fetchall()[0][0])
        assert members == 1
        orders = cur.execute("SELECT count(*) FROM profile_events "
                             "WHERE event = 'Order Completed'").fetchall()[0][0]
        assert orders == 1
        assert web.app.state.segments.failures == web.app.state.profile_events.failures == 0


async def test_previews_at_the_same_time_do_not_collide(shop):
    import asyncio

    _refresh(shop)
    async with logged_in(shop, "marketer") as c:
        answers = await asyncio.gather(*[
            c.post("/api/segments/preview", json={"rule": {"any": [BUYERS, PROSPECTS]}})
            for _ in range(8)])
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.json()["count"] for a in answers}) == 1
