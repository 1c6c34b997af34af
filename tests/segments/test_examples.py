"""The demo's example segments parse, save once, and run on a store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sen.segments import evaluate, examples, rules, saved
from sen.store import operational
from sen.traits import runner
from tests.segments.test_compiler import PROFILE_EVENTS
from tests.traits.test_runner import AS_OF, VELA, build_shop


def test_the_examples_save_once_and_run(tmp_path: Path) -> None:
    shop = build_shop(tmp_path)
    # Tuan buys a bag in his store three days before as_of.
    shop.order("u:pos:3", datetime(2026, 6, 27), 500_000, store="DN01",
               lines=((VELA, "Túi xách", None, 1, 500_000),))
    shop.identity_caught_up()
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.engine.cursor().execute(PROFILE_EVENTS)
    ops = operational.connect(f"sqlite:///{tmp_path / 'ops.db'}")
    try:
        names = [e[0] for e in examples.EXAMPLES]
        assert examples.save_examples(ops) == names
        # A marketer's edit survives the next demo start.
        edited = saved.get(ops, "bought-7d")
        saved.save(ops, saved.Segment(edited.name, "Của tôi", edited.rule))
        assert examples.save_examples(ops) == []
        assert saved.get(ops, "bought-7d").title == "Của tôi"
        runs = {r.segment: r.members for r in saved.run_all(shop.engine, ops, as_of=AS_OF)}
        assert set(runs) == set(names)
        for name, _, _, rule in examples.EXAMPLES:
            assert runs[name] == evaluate.count(shop.engine, rules.parse(rule), as_of=AS_OF)
        members = {name: saved.members(shop.engine, name) for name in names}
        assert members["bought-7d"] == ["p_tuan"]
        # Lan's bag was bought on the web, Hoa's on Shopee: Tuan is the store-only bag buyer.
        assert members["store-only-bags"] == ["p_tuan"]
        assert members["lapsed-90-vela-south"] == []  # Lan lapsed, but in the North
    finally:
        ops.dispose()
        shop.engine.close()
