"""Lifecycle stages from each customer's own purchase cycle.

There is no "average customer": a customer who buys every month is overdue
after six weeks, one who buys every year is not. Her cycle comes from the
BG/NBD model (:meth:`sen.traits.clv.BgNbd.expected_cycle_days`: her repeat
purchases over her active period, shrunk toward the population's), and the
stage from how many cycles have passed since her last purchase
(:class:`sen.traits.config.LifecycleRules`).
"""

from __future__ import annotations

import numpy as np

from sen.traits.config import LifecycleRules

STAGES = ("prospect", "new", "active", "won back", "due", "overdue", "at risk", "lapsed")


def stages(*, purchase_days: np.ndarray, days_since: np.ndarray, cycle_days: np.ndarray,
           previous_gap: np.ndarray, rules: LifecycleRules) -> np.ndarray:
    """The stage of each customer.

    ``purchase_days``: distinct days she bought on (0 for a prospect);
    ``days_since``: days since the last of them; ``cycle_days``: her cycle;
    ``previous_gap``: days between her last two purchase days (NaN with fewer
    than two). Returns an object array of names from :data:`STAGES`.
    """
    ratio = days_since / cycle_days
    recent = ratio < rules.due_at
    bands = np.select(
        [ratio >= rules.lapsed_at, ratio >= rules.at_risk_at, ratio >= rules.overdue_at,
         ratio >= rules.due_at],
        ["lapsed", "at risk", "overdue", "due"], default="active").astype(object)
    with np.errstate(invalid="ignore"):
        came_back = recent & (previous_gap >= rules.lapsed_at * cycle_days)
    first_only = recent & (purchase_days == 1) & (days_since <= rules.new_days)
    out = np.where(came_back, "won back", bands).astype(object)
    out[first_only] = "new"
    out[purchase_days == 0] = "prospect"
    return out
