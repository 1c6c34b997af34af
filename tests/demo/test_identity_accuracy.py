"""Identity resolution on the synthetic retailer, scored against its ground truth.

The retailer is loaded through the import path and resolved from its event
log; then an update after more events must give what a rebuild gives, and the
probable-duplicate queue must be right about who is who.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sen.demo import Manifest
from sen.demo.evaluate import score
from sen.demo.load import load
from sen.identity import decisions, resolver
from sen.store import operational
from sen.store.analytics import DuckDBEngine


@pytest.fixture(scope="module")
def resolved(retailer: tuple[Path, Manifest], tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, DuckDBEngine]:
    out, _ = retailer
    work = tmp_path_factory.mktemp("identity")
    engine = DuckDBEngine(work / "sen.duckdb")
    ops = operational.connect(f"sqlite:///{work / 'ops.db'}")
    load(out, engine, ops, quarantine_dir=work / "q", timezone="Asia/Ho_Chi_Minh")
    ops.dispose()
    resolver.rebuild(engine)
    yield out, engine
    engine.close()


@pytest.mark.slow
def test_deterministic_merges_are_precise_and_find_what_the_data_can_link(resolved) -> None:
    out, engine = resolved
    s = score(engine.cursor(), out)
    assert s.precision >= 0.99
    assert s.recall >= 0.98
    assert s.records > 20_000  # the scoring really covered the retailer


@pytest.mark.slow
def test_reviewed_duplicates_raise_recall_at_the_same_precision(resolved) -> None:
    out, engine = resolved
    before = score(engine.cursor(), out, with_duplicates=True)
    waiting = decisions.score_candidates(engine)
    assert waiting > 50
    cur = engine.cursor()
    person = dict(cur.execute(f"""
        SELECT 'u:' || value, person_id FROM read_parquet('{out}/ground_truth/records.parquet')
        WHERE kind IN ('customer_id', 'user_id', 'zalo_id')""").fetchall())
    queue = [(p["record_a"], p["record_b"]) for p in decisions.pending(cur, limit=100_000)]
    true = [(a, b) for a, b in queue if person.get(a) is not None
            and person.get(a) == person.get(b)]
    assert len(true) >= 0.95 * len(queue)  # the queue is mostly right
    decisions.link_many(engine, true, actor="test")
    after = score(engine.cursor(), out, with_duplicates=True)
    assert after.recall > before.recall
    assert after.precision >= 0.99
