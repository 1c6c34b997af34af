"""RFM scores, cut points and groups on values whose scores are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sen.errors import ConfigError
from sen.traits import rfm
from sen.traits.config import DEFAULT_GROUPS, RfmGroup, RfmRules, parse


def test_a_value_equal_to_a_cut_scores_with_the_values_below() -> None:
    cuts = (10, 20, 30, 40)
    values = np.array([5, 10, 11, 20, 35, 40, 41])
    assert rfm.score(values, cuts).tolist() == [1, 1, 2, 2, 4, 4, 5]
    assert rfm.score(values, cuts, lower_is_better=True).tolist() == [5, 5, 4, 4, 2, 2, 1]


def test_quintile_cuts_give_equal_customers_equal_scores() -> None:
    frequency = np.array([1] * 70 + [2] * 20 + [3] * 10)
    cuts = rfm.quintile_cuts(frequency)
    scores = rfm.score(frequency, cuts)
    assert set(scores[frequency == 1]) == {1}
    assert len(set(scores[frequency == 2])) == 1
    assert scores[frequency == 3][0] == 5
    assert rfm.quintile_cuts(np.array([])) == (0.0, 0.0, 0.0, 0.0)


def test_fixed_cut_points_replace_quintiles() -> None:
    rules = RfmRules(frequency_cuts=(1, 2, 4, 8))
    cuts = rfm.cuts_for(rules, np.arange(100.0), np.arange(100.0), np.arange(100.0))
    assert cuts.frequency == (1, 2, 4, 8)
    assert cuts.recency == pytest.approx((19.8, 39.6, 59.4, 79.2))
    assert rfm.RfmCuts.from_dict(cuts.as_dict()) == cuts


def test_fm_is_the_mean_rounded_half_up() -> None:
    f, m = np.array([1, 1, 2, 4, 5]), np.array([1, 2, 3, 5, 5])
    assert rfm.fm_score(f, m).tolist() == [1, 2, 3, 5, 5]


def test_default_groups_cover_the_grid_exactly_once_in_order() -> None:
    cells = list(itertools.product(range(1, 6), range(1, 6)))
    r = np.array([c[0] for c in cells])
    fm = np.array([c[1] for c in cells])
    names = rfm.groups(r, fm, DEFAULT_GROUPS)
    assert None not in set(names)
    assert dict(zip(cells, names, strict=True))[(5, 5)] == "Champions"
    assert dict(zip(cells, names, strict=True))[(1, 5)] == "Can't Lose Them"
    assert dict(zip(cells, names, strict=True))[(2, 4)] == "At Risk"
    assert dict(zip(cells, names, strict=True))[(1, 1)] == "Lost"
    assert dict(zip(cells, names, strict=True))[(5, 1)] == "New Customers"
    assert {g.name for g in DEFAULT_GROUPS} == set(names)  # no group is unreachable


def test_custom_groups_first_match_wins_and_unmatched_is_none() -> None:
    groups = (RfmGroup(name="VIP", r=(4, 5), fm=(5, 5)), RfmGroup(name="Recent", r=(5, 5)))
    names = rfm.groups(np.array([5, 5, 1]), np.array([5, 1, 1]), groups)
    assert names.tolist() == ["VIP", "Recent", None]


def test_scores_and_codes_together() -> None:
    cuts = rfm.RfmCuts((30, 60, 90, 180), (1, 2, 3, 5), (1e6, 2e6, 5e6, 1e7))
    s = rfm.rfm(np.array([10, 400]), np.array([6, 1]), np.array([2e7, 5e5]), cuts, RfmRules())
    assert s.code.tolist() == ["555", "111"]
    assert s.group.tolist() == ["Champions", "Lost"]


@pytest.mark.parametrize("bad, words", [
    ({"rfm": {"recency_cuts": [1, 2, 3]}}, "four cut points"),
    ({"rfm": {"monetary_cuts": [4, 3, 2, 1]}}, "increasing order"),
    ({"rfm": {"groups": []}}, "at least one group"),
    ({"rfm": {"groups": [{"name": "X", "r": [0, 6]}]}}, "1 <= low <= high <= 5"),
    ({"lifecycle": {"due_at": 2, "overdue_at": 1}}, "due_at < overdue_at"),
    ({"clv_horizon": 365}, "clv_horizon"),
])
def test_bad_settings_name_the_setting_and_the_fix(bad: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse(bad)
