"""The traits benchmark's store keeps its promises, at a tiny scale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sen.store.analytics import open_engine

BENCH = Path(__file__).parents[2] / "benchmarks" / "traits.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_traits", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _shape(bench: ModuleType, path: Path) -> tuple[dict, list]:
    engine = open_engine(path, read_only=True)
    try:
        sample = engine.execute("SELECT order_id, user_id, anonymous_id, total FROM orders "
                                "ORDER BY order_id LIMIT 50").fetchall()
        return bench.shape(engine), sample
    finally:
        engine.close()


def test_store_has_the_promised_shape_and_is_reused(bench: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    assert bench.prepare(path, 4000, 40_000, rebuild=False)  # built: seconds per step
    data, _ = _shape(bench, path)
    assert data["customers"] == 4000
    assert data["order_lines"] == 40_000
    assert data["orphan_orders"] == 0
    assert data["max_records"] <= 3
    assert data["message_events"] == 2000
    assert abs(data["no_orders"] / data["customers"] - 0.2) < 0.03
    assert abs(data["order_lines"] / data["orders"] - 2.7) < 0.1
    assert abs(data["channels"]["store"] - 0.65) < 0.03
    assert abs(data["statuses"]["completed"] - 0.94) < 0.02
    assert data["orders_per_buyer"]["20+"] > 0.005
    assert bench.prepare(path, 4000, 40_000, rebuild=False) is None  # kept
    engine = open_engine(path, read_only=True)
    try:
        assert engine.scalar("SELECT min(records) FROM profiles") >= 1
        assert engine.scalar("SELECT count(*) FROM profiles p ANTI JOIN identity_profiles ip "
                             "ON ip.profile_id = p.profile_id AND ip.record = p.record") == 0
    finally:
        engine.close()


def test_store_is_deterministic(bench: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    bench.prepare(a, 1500, 12_000, rebuild=False)
    bench.prepare(b, 1500, 12_000, rebuild=True)
    assert _shape(bench, a) == _shape(bench, b)
