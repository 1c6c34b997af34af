"""Lifecycle stages from each customer's own cycle."""

from __future__ import annotations

import numpy as np

from sen.traits.config import LifecycleRules
from sen.traits.lifecycle import STAGES, stages

NAN = np.nan


def _stage(purchase_days: int, days_since: float, cycle: float, previous_gap: float = NAN,
           rules: LifecycleRules | None = None) -> str:
    return stages(purchase_days=np.array([purchase_days]), days_since=np.array([days_since]),
                  cycle_days=np.array([cycle]), previous_gap=np.array([previous_gap]),
                  rules=rules or LifecycleRules())[0]


def test_stages_follow_her_own_cycle_not_a_fixed_number_of_days() -> None:
    # 60 days since the last purchase: overdue for a monthly buyer, active for a yearly one.
    assert _stage(5, 60, 30) == "at risk"
    assert _stage(5, 60, 365) == "active"


def test_thresholds_as_multiples_of_the_cycle() -> None:
    assert _stage(3, 79, 100) == "active"
    assert _stage(3, 80, 100) == "due"
    assert _stage(3, 125, 100) == "overdue"
    assert _stage(3, 200, 100) == "at risk"
    assert _stage(3, 300, 100) == "lapsed"


def test_new_won_back_and_prospect() -> None:
    assert _stage(1, 10, 100) == "new"
    assert _stage(1, 91, 200) == "active"  # one purchase, but longer ago than new_days
    assert _stage(1, 150, 100) == "overdue"  # a first purchase that was never repeated
    assert _stage(4, 10, 100, previous_gap=320) == "won back"
    assert _stage(4, 10, 100, previous_gap=120) == "active"
    assert _stage(4, 90, 100, previous_gap=320) == "due"  # won back, and due again
    assert _stage(0, NAN, NAN) == "prospect"


def test_thresholds_are_settings() -> None:
    strict = LifecycleRules(due_at=0.5, overdue_at=0.75, at_risk_at=1, lapsed_at=1.5,
                            new_days=5)
    assert _stage(3, 60, 100, rules=strict) == "due"
    assert _stage(1, 10, 100, rules=strict) == "active"


def test_every_stage_name_is_known() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    out = stages(purchase_days=rng.integers(0, 5, n), days_since=rng.uniform(0, 900, n),
                 cycle_days=rng.uniform(20, 300, n), previous_gap=rng.uniform(0, 900, n),
                 rules=LifecycleRules())
    assert set(out) <= set(STAGES)
    assert len(set(out)) == len(STAGES)
