"""Saved segments: runs record members, entered/exited events, snapshots and history;
references run in order; cycles and unknown references are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sen.errors import NotFoundError, ValidationError
from sen.segments import rules, saved
from sen.store import operational
from sen.traits import runner
from tests.segments.test_compiler import PROFILE_EVENTS
from tests.traits.test_runner import AS_OF, build_shop


@pytest.fixture
def stores(tmp_path: Path):
    shop = build_shop(tmp_path)
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.engine.cursor().execute(PROFILE_EVENTS)
    ops = operational.connect(f"sqlite:///{tmp_path / 'ops.db'}")
    yield shop, ops
    ops.dispose()
    shop.engine.close()


def _segment(name: str, rule: dict, **kw) -> saved.Segment:
    return saved.Segment(name=name, title=name.title(), rule=rules.parse(rule), **kw)


def _events(shop) -> list[tuple]:
    return shop.engine.cursor().execute("""
        SELECT event, user_id, anonymous_id, properties->>'segment', properties->>'profile_id'
        FROM events WHERE source = 'sen' ORDER BY 1, 5""").fetchall()


def test_a_run_records_members_changes_snapshots_and_history(stores) -> None:
    shop, ops = stores
    buyers = saved.save(ops, _segment("buyers", {"trait": "orders", "op": ">=", "value": 1}),
                        actor="lan")
    first = saved.run(shop.engine, buyers, as_of=AS_OF)
    assert (first.members, first.entered, first.exited) == (3, 3, 0)
    assert _events(shop) == [
        ("Segment Entered", None, "shopee:77", "buyers", "p_hoa"),
        ("Segment Entered", "pos:1", None, "buyers", "p_lan"),
        ("Segment Entered", "pos:3", None, "buyers", "p_tuan")]
    # Hoa's order is refunded: she leaves; Minh buys: he enters.
    cur = shop.cur
    cur.execute("UPDATE orders SET status = 'refunded' WHERE anonymous_id = 'shopee:77'")
    shop.order("u:pos:2", AS_OF.replace(hour=9), 300_000, store="HCM01")
    runner.refresh(shop.engine, as_of=AS_OF)
    second = saved.run(shop.engine, buyers, as_of=AS_OF)
    assert (second.members, second.entered, second.exited) == (3, 1, 1)
    assert ("Segment Exited", None, "shopee:77", "buyers", "p_hoa") in _events(shop)
    assert ("Segment Entered", "pos:2", None, "buyers", "p_minh") in _events(shop)
    now = cur.execute("SELECT profile_id FROM segment_members WHERE segment = 'buyers' "
                      "ORDER BY 1").fetchall()
    assert now == [("p_lan",), ("p_minh",), ("p_tuan",)]
    snaps = cur.execute("SELECT run_at, count(*) FROM segment_snapshots GROUP BY 1 "
                        "ORDER BY 1").fetchall()
    assert [n for _, n in snaps] == [3, 3]
    assert [(r.members, r.entered, r.exited) for r in saved.history(shop.engine, "buyers")] == [
        (3, 1, 1), (3, 3, 0)]
    third = saved.run(shop.engine, buyers, as_of=AS_OF)
    assert (third.entered, third.exited) == (0, 0)
    assert len(_events(shop)) == 5


def test_segments_using_segments_run_in_order_and_overlap(stores) -> None:
    shop, ops = stores
    saved.save(ops, _segment("north", {"trait": "region", "op": "=", "value": "North"}))
    saved.save(ops, _segment("buyers", {"trait": "orders", "op": ">=", "value": 1}))
    saved.save(ops, _segment("a-north-buyer", {"all": [{"segment": "buyers"},
                                                        {"segment": "north"}]}))
    runs = saved.run_all(shop.engine, ops, as_of=AS_OF)
    assert [r.segment for r in runs][-1] == "a-north-buyer"
    assert {r.segment: r.members for r in runs} == {"north": 1, "buyers": 3,
                                                    "a-north-buyer": 1}
    matrix = saved.overlap(shop.engine, ["north", "buyers", "a-north-buyer"])
    assert matrix["buyers"] == {"north": 1, "buyers": 3, "a-north-buyer": 1}
    assert matrix["north"]["north"] == 1
    assert saved.run_all(shop.engine, ops, as_of=AS_OF, due_only=True) == []


def test_saving_refuses_bad_names_unknown_references_and_cycles(stores) -> None:
    _, ops = stores
    with pytest.raises(ValidationError, match="lower-case"):
        saved.save(ops, _segment("Big Spenders", {"trait": "orders", "op": ">", "value": 3}))
    with pytest.raises(ValidationError, match="do not exist: \\['ghost'\\]"):
        saved.save(ops, _segment("a", {"segment": "ghost"}))
    saved.save(ops, _segment("a", {"trait": "orders", "op": ">", "value": 3}))
    saved.save(ops, _segment("b", {"segment": "a"}))
    with pytest.raises(ValidationError, match="circle \\(a → b → a\\)"):
        saved.save(ops, _segment("a", {"segment": "b"}))
    with pytest.raises(NotFoundError, match="no segment 'zzz'"):
        saved.get(ops, "zzz")
    updated = saved.save(ops, _segment("a", {"trait": "orders", "op": ">", "value": 5},
                                       refresh_minutes=15))
    assert updated.refresh_minutes == 15 and updated.rule.value == 5


def test_a_failed_run_changes_nothing(stores, monkeypatch) -> None:
    shop, ops = stores
    buyers = saved.save(ops, _segment("buyers", {"trait": "orders", "op": ">=", "value": 1}))
    saved.run(shop.engine, buyers, as_of=AS_OF)

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(saved, "_keep_recent_snapshots", broken)
    shop.cur.execute("UPDATE orders SET status = 'refunded' WHERE anonymous_id = 'shopee:77'")
    runner.refresh(shop.engine, as_of=AS_OF)
    with pytest.raises(RuntimeError):
        saved.run(shop.engine, buyers, as_of=AS_OF)
    assert len(_events(shop)) == 3
    assert len(saved.history(shop.engine, "buyers")) == 1


def test_a_segment_that_cannot_run_does_not_stop_the_others(stores) -> None:
    from sen.traits import custom

    shop, ops = stores
    custom.save(shop.engine, custom.parse({"name": "bags", "source": "order_lines",
                                           "aggregate": "count"}), "test")
    saved.save(ops, _segment("bag-buyers", {"trait": "bags", "op": ">=", "value": 1}))
    saved.save(ops, _segment("loyal-bag-buyers", {"all": [{"segment": "bag-buyers"},
                                                          {"trait": "orders", "op": ">=",
                                                           "value": 2}]}))
    saved.save(ops, _segment("buyers", {"trait": "orders", "op": ">=", "value": 1}))
    shop.engine.execute("DELETE FROM trait_definitions WHERE name = 'bags'")  # deleted since
    with pytest.raises(saved.SegmentRunsFailed) as caught:
        saved.run_all(shop.engine, ops, as_of=AS_OF)
    assert [r.segment for r in caught.value.runs] == ["buyers"]
    assert set(caught.value.failed) == {"bag-buyers", "loyal-bag-buyers"}
    assert "Unknown trait 'bags'" in caught.value.failed["bag-buyers"]
    assert caught.value.failed["loyal-bag-buyers"] == "uses bag-buyers, which could not run"
    assert "Fix or archive them" in str(caught.value)
    assert saved.members(shop.engine, "buyers") == ["p_hoa", "p_lan", "p_tuan"]


def test_the_last_runs_keep_their_members_empty_runs_included(stores, monkeypatch) -> None:
    shop, ops = stores
    monkeypatch.setattr(saved, "SNAPSHOTS_KEPT", 3)
    buyers = saved.save(ops, _segment("buyers", {"trait": "orders", "op": ">=", "value": 1}))
    nobody = saved.save(ops, _segment("nobody", {"trait": "orders", "op": ">", "value": 99}))
    for _ in range(5):
        saved.run(shop.engine, buyers, as_of=AS_OF)
        saved.run(shop.engine, nobody, as_of=AS_OF)
    kept = saved.snapshots(shop.engine, "buyers")
    assert [n for _, n in kept] == [3, 3, 3]
    assert [at for at, _ in kept] == [r.run_at for r in saved.history(shop.engine, "buyers")][:3]
    stored = shop.cur.execute("SELECT segment, count(DISTINCT run_at), count(*) "
                              "FROM segment_snapshots GROUP BY 1").fetchall()
    assert stored == [("buyers", 3, 9)]  # "nobody" has runs but no members to keep
    assert [n for _, n in saved.snapshots(shop.engine, "nobody")] == [0, 0, 0]
