"""Events by profile: content of a full build, and updates that follow merges and splits."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sen.identity import decisions, resolver
from sen.ingest.spec import validate_event
from sen.ingest.writer import EventWriter
from sen.segments import events
from sen.segments.commands import segment_app
from sen.segments.jobs import ProfileEventsUpdater
from sen.store.analytics import DuckDBEngine
from tests.traits.shop import Shop

AT = datetime(2026, 10, 1, 9)
NOW = datetime(2026, 10, 31, 10)


def rows(engine: DuckDBEngine) -> list[tuple]:
    return engine.execute("SELECT * FROM profile_events ORDER BY event_rowid").fetchall()


def by_event(engine: DuckDBEngine) -> dict[str, tuple]:
    """Per event name (unique in these tests): profile, channel, campaign, journey, properties."""
    got = engine.execute("SELECT event, profile_id, channel, campaign_id, journey_id, properties "
                         "FROM profile_events").fetchall()
    return {e: (p, ch, c, j, json.loads(props) if props else None)
            for e, p, ch, c, j, props in got}


def view(shop: Shop, kind: str, record: str, name: str | None, properties: dict | None) -> None:
    """A page or screen call, as the ingest writes it."""
    user_id, anonymous_id = (record[2:], None) if record.startswith("u:") else (None, record[2:])
    shop.cur.execute("""
        INSERT INTO events (message_id, message_key, type, name, user_id, anonymous_id, source,
                            timestamp, received_at, properties)
        VALUES (?, hash(?), ?, ?, ?, ?, 'web', ?, ?, ?)
    """, [f"{kind}-{name}", f"{kind}-{name}", kind, name, user_id, anonymous_id, AT, AT,
          json.dumps(properties) if properties is not None else None])


@pytest.fixture
def shop(tmp_path):
    s = Shop(tmp_path / "shop.duckdb")
    yield s
    s.engine.close()


def test_a_full_build_holds_every_tracked_page_and_screen_event_of_profiled_records(shop):
    shop.customer("p_lan", "u:U1", "a:anon-lan")
    shop.customer("p_nam", "u:U2")
    shop.event("a:anon-lan", "Product Viewed", AT, {"product_id": "P1", "channel": "web"})
    shop.event("u:U1", "Message Clicked", AT,
               {"channel": "zalo", "campaign_id": "C7", "journey_id": "J2", "url": "/sale"})
    shop.event("u:U2", "Message Delivered", AT, {"channel": "sms", "campaign_id": 42})
    shop.event("u:nobody", "Product Added", AT, {})  # its record has no profile
    view(shop, "page", "a:anon-lan", "Giày nữ", {"path": "/giay-nu"})
    view(shop, "screen", "u:U2", "Cart", None)
    view(shop, "page", "u:U2", None, {"path": "/"})
    shop.cur.execute("""
        INSERT INTO events (message_id, message_key, type, user_id, source, timestamp,
                            received_at, traits)
        VALUES ('id1', 1001, 'identify', 'U1', 'web', ?, ?, '{"name": "Lan"}')
    """, [AT, AT])
    shop.identity_caught_up()
    run = events.rebuild(shop.engine)
    assert run.kind == "full" and run.events == 6
    got = by_event(shop.engine)
    assert got["Product Viewed"] == ("p_lan", None, None, None,
                                     {"product_id": "P1", "channel": "web"})
    assert got["Message Clicked"] == ("p_lan", "zalo", "C7", "J2", {
        "channel": "zalo", "campaign_id": "C7", "journey_id": "J2", "url": "/sale"})
    assert got["Message Delivered"][:4] == ("p_nam", "sms", "42", None)
    assert got["Screen Viewed"] == ("p_nam", None, None, None, {"name": "Cart"})
    pages = shop.engine.execute("SELECT profile_id, properties, record FROM profile_events "
                                "WHERE event = 'Page Viewed' ORDER BY profile_id").fetchall()
    assert [(p, json.loads(props), r) for p, props, r in pages] == [
        ("p_lan", {"path": "/giay-nu", "name": "Giày nữ"}, "a:anon-lan"),
        ("p_nam", {"path": "/"}, "u:U2")]
    stored = shop.engine.execute("SELECT e.message_id, p.timestamp, p.source FROM profile_events p "
                                 "JOIN events e ON e.rowid = p.event_rowid").fetchall()
    assert len(stored) == 6 and all(t == AT and s in ("test", "web") for _, t, s in stored)


def test_events_identity_has_not_folded_in_yet_wait(shop):
    shop.customer("p_lan", "u:U1")
    shop.event("u:U1", "Product Viewed", AT, {})
    shop.identity_caught_up()
    shop.event("u:U1", "Product Added", AT, {})
    assert events.update(shop.engine).kind == "full"  # the first run on a store
    assert list(by_event(shop.engine)) == ["Product Viewed"]
    assert events.update(shop.engine).events == 0
    shop.identity_caught_up()
    run = events.update(shop.engine)
    assert run.kind == "incremental" and run.events == 1
    assert sorted(by_event(shop.engine)) == ["Product Added", "Product Viewed"]


def test_an_update_with_nothing_new_changes_nothing(shop):
    shop.customer("p_lan", "u:U1")
    shop.event("u:U1", "Product Viewed", AT, {})
    shop.identity_caught_up()
    events.update(shop.engine)
    shop.event("u:U1", "Product Added", AT, {})
    shop.identity_caught_up()
    first = events.update(shop.engine)
    before = rows(shop.engine)
    again = events.update(shop.engine)
    assert (first.events, again.events, again.records_moved) == (1, 0, 0)
    assert rows(shop.engine) == before


def test_a_failed_run_leaves_the_table_and_watermarks_as_they_were(shop, monkeypatch):
    shop.customer("p_lan", "u:U1")
    shop.event("u:U1", "Product Viewed", AT, {})
    shop.identity_caught_up()
    events.update(shop.engine)
    shop.event("u:U1", "Product Added", AT, {})
    shop.identity_caught_up()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(events, "_add", boom)
    with pytest.raises(RuntimeError):
        events.update(shop.engine)
    assert list(by_event(shop.engine)) == ["Product Viewed"]
    monkeypatch.undo()
    assert events.update(shop.engine).events == 1


# -- merges and splits, through identity itself ---------------------------------------------

def commit(engine: DuckDBEngine, batch: list[dict], source: str = "web") -> None:
    EventWriter(engine).write_sync([validate_event(e, source=source, received_at=NOW)
                                    for e in batch])


def track(mid: str, event: str = "Product Viewed", **ids) -> dict:
    return {"type": "track", "messageId": mid, "event": event,
            "timestamp": "2026-10-01T10:00:00Z", **ids}


def identify(mid: str, user: str, phone: str, **ids) -> dict:
    return {"type": "identify", "messageId": mid, "userId": user, "traits": {"phone": phone},
            "timestamp": "2026-10-01T10:00:00Z", **ids}


def profiles_of(engine: DuckDBEngine) -> dict[str, str]:
    """Record → profile id, as stored with the record's events."""
    return dict(engine.execute("SELECT DISTINCT record, profile_id FROM profile_events"
                               ).fetchall())


def current(engine: DuckDBEngine, record: str) -> str:
    return engine.execute("SELECT profile_id FROM identity_profiles WHERE record = ?",
                          [record]).fetchall()[0][0]


@pytest.fixture
def engine():
    eng = DuckDBEngine(":memory:")
    yield eng
    eng.close()


def test_a_merge_moves_events_an_unmerge_moves_them_back_merged_away_ids_vanish(engine):
    commit(engine, [track("w1", anonymousId="anon-lan"), track("w2", "Cart Viewed", userId="U1"),
                    identify("w3", "U1", "0912345678")])
    commit(engine, [identify("p1", "KH1", "0912 345 678"),
                    track("p2", "Order Completed", userId="KH1")], source="pos")
    resolver.update(engine)
    events.update(engine)
    before = profiles_of(engine)
    assert before["u:U1"] == before["u:KH1"] != before["a:anon-lan"]
    # The visitor logs in: her browsing joins the known customer.
    commit(engine, [track("w4", "Product Added", userId="U1", anonymousId="anon-lan")])
    resolver.update(engine)
    run = events.update(engine)
    lan = current(engine, "u:U1")
    assert run.records_moved == 1 and run.events_moved == 1 and run.events == 1
    assert set(profiles_of(engine).values()) == {lan}
    assert engine.execute("SELECT count(*) FROM profile_events WHERE profile_id = ?",
                          [before["a:anon-lan"]]).fetchall() == [(0,)]
    assert engine.execute("SELECT count(*) FROM profile_events WHERE profile_id = ?",
                          [lan]).fetchall() == [(4,)]
    # Support unmerges the phone: the till's record goes back to a profile of its own.
    decisions.unmerge(engine, lan, "phone", "+84912345678", actor="support")
    run = events.update(engine)
    after = profiles_of(engine)
    moved = {r for r in after if after[r] != lan}
    assert run.records_moved == len(moved) and moved in ({"u:KH1"}, {"u:U1", "a:anon-lan"})
    assert after["u:KH1"] == current(engine, "u:KH1") != after["u:U1"]
    assert after["u:U1"] == after["a:anon-lan"] == current(engine, "u:U1")
    assert events.update(engine).records_moved == 0
    decisions.restore(engine, "phone", "+84912345678", actor="support")
    events.update(engine)
    assert set(profiles_of(engine).values()) == {current(engine, "u:KH1")}
    expected = rows(engine)
    assert expected == _rebuilt(engine)
    events.rebuild(engine)
    assert rows(engine) == expected


def _rebuilt(engine: DuckDBEngine) -> list[tuple]:
    """What a rebuild would write now, read without writing it."""
    end = engine.execute("SELECT coalesce(max(value), '0') FROM sen_meta "
                         "WHERE key = 'identity_rowid'").fetchall()[0][0]
    return engine.execute(f"SELECT * FROM ({events.rows_sql(0, int(end))}) "
                          "ORDER BY event_rowid").fetchall()


# -- any sequence of updates gives what a rebuild gives --------------------------------------

USERS = [None, "U1", "U2", "KH1", "KH2", "KH2"]
ANONS = [None, "a1", "a2", "a3"]
PHONES = ["0912345678", "0987654321"]
NAMES = ["Product Viewed", "Message Clicked", "page", "screen"]


@st.composite
def histories(draw):
    steps, n = [], 0
    for _ in range(draw(st.integers(1, 6))):
        batch = []
        for _ in range(draw(st.integers(0, 6))):
            n += 1
            user, anon = draw(st.sampled_from(USERS)), draw(st.sampled_from(ANONS))
            ids = {"userId": user} if user else {}
            if anon or not user:
                ids["anonymousId"] = anon or "a4"
            kind = draw(st.sampled_from(["track", "identify", "identify", "page"]))
            if kind == "identify" and user:
                batch.append(identify(f"m{n}", user, draw(st.sampled_from(PHONES)), **ids))
            elif kind == "page":
                batch.append({"type": draw(st.sampled_from(["page", "screen"])),
                              "messageId": f"m{n}", "name": f"P{n % 3}",
                              "timestamp": "2026-10-02T10:00:00Z", **ids})
            else:
                batch.append(track(f"m{n}", draw(st.sampled_from(NAMES[:2])), **ids,
                                   properties={"channel": "zalo", "campaign_id": f"C{n % 2}"}))
        decision = draw(st.sampled_from([None, "unmerge", "restore", "link", "unlink"]))
        pair = draw(st.sampled_from([("u:U1", "u:KH1"), ("u:U2", "a:a1"), ("u:KH2", "a:a2")]))
        steps.append((batch, decision, draw(st.sampled_from(PHONES)), pair,
                      draw(st.booleans())))
    return steps


def _decide(engine: DuckDBEngine, decision: str | None, phone: str,
            pair: tuple[str, str]) -> None:
    known = {r for (r,) in engine.execute("SELECT record FROM identity_profiles").fetchall()}
    value = "+84" + phone[1:]
    if decision == "unmerge":
        holders = engine.execute("""
            SELECT DISTINCT p.profile_id FROM identity_observations o
            JOIN identity_profiles p USING (record) WHERE o.id_type = 'phone' AND o.value = ?
        """, [value]).fetchall()
        if holders:
            decisions.unmerge(engine, holders[0][0], "phone", value, actor="t")
    elif decision == "restore" and engine.execute(
            "SELECT 1 FROM identity_overrides WHERE kind = 'block' AND active AND value = ?",
            [value]).fetchall():
        decisions.restore(engine, "phone", value, actor="t")
    elif decision == "link" and set(pair) <= known:
        decisions.link(engine, *pair, actor="t")
    elif decision == "unlink" and engine.execute(
            "SELECT 1 FROM identity_overrides WHERE kind = 'link' AND active "
            "AND record_a = ? AND record_b = ?", list(pair)).fetchall():
        decisions.unlink(engine, *pair, actor="t")


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories())
def test_updates_between_merges_and_unmerges_give_what_a_rebuild_gives(steps):
    engine = DuckDBEngine(":memory:")
    try:
        for batch, decision, phone, pair, identity_first in steps:
            if batch:
                commit(engine, batch)
            if identity_first:  # else the batch waits for identity's next run
                resolver.update(engine)
            _decide(engine, decision, phone, pair)
            events.update(engine)
            assert rows(engine) == _rebuilt(engine)
            assert events.update(engine).events == 0
            assert rows(engine) == _rebuilt(engine)
        mapped = dict(engine.execute("SELECT record, profile_id FROM identity_profiles"
                                     ).fetchall())
        assert all(mapped[r] == p for r, p in profiles_of(engine).items())
    finally:
        engine.close()


# -- the server's job and the commands ----------------------------------------------------

class _Writer:
    """The event writer's ``run_exclusive``, run on the caller's thread."""

    def run_exclusive(self, fn):  # noqa: ANN001, ANN201
        return fn()


def test_the_servers_job_runs_an_update_on_the_writer_thread(shop):
    shop.customer("p_lan", "u:U1")
    shop.event("u:U1", "Product Viewed", AT, {})
    shop.identity_caught_up()
    job = ProfileEventsUpdater(_Writer(), shop.engine, interval_s=0).start()
    assert job.run_now().kind == "full" and job.last.events == 1
    assert job.run_now().kind == "incremental"
    job.stop()


def test_the_commands_rebuild_and_update(tmp_path):
    shop = Shop(tmp_path / "sen.duckdb")
    shop.customer("p_lan", "u:U1")
    shop.event("u:U1", "Product Viewed", AT, {})
    shop.identity_caught_up()
    shop.engine.close()
    runner = CliRunner()
    res = runner.invoke(segment_app, ["events-rebuild", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "rebuilt" in res.output and "full" in res.output
    res = runner.invoke(segment_app, ["events-update", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "incremental" in res.output
