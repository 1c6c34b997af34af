"""From purchase histories to RFM, CLV, the next purchase and the lifecycle stage.

Pure: arrays in, arrays out. :mod:`sen.traits.runner` reads the histories
from the store and writes these columns back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sen.traits import lifecycle, rfm
from sen.traits.clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma
from sen.traits.config import TraitsConfig

# Below these, maximum likelihood has too little to go on; CLV is left empty.
MIN_BUYERS, MIN_REPEATERS = 50, 20


@dataclass(frozen=True)
class Histories:
    """Per customer in scope (buyers and prospects alike), in days."""

    purchase_days: np.ndarray  # distinct days with a purchase
    t_x: np.ndarray  # first to last purchase day
    age_days: np.ndarray  # first purchase day to as_of
    repeat_value: np.ndarray  # mean spend of the repeat purchase days
    days_since: np.ndarray  # last purchase day to as_of (NaN for prospects)
    previous_gap: np.ndarray  # between the last two purchase days (NaN if < 2)
    orders: np.ndarray
    spend: np.ndarray

    @property
    def buyers(self) -> np.ndarray:
        return self.purchase_days > 0

    @property
    def x(self) -> np.ndarray:
        """Repeat purchases, as BG/NBD counts them."""
        return np.maximum(self.purchase_days - 1, 0).astype(np.float64)


@dataclass(frozen=True)
class Models:
    """What a full refresh learns from everyone, reused by the updates after it."""

    bgnbd: BgNbd | None
    gamma_gamma: GammaGamma | None
    rfm_cuts: rfm.RfmCuts
    typical_cycle_days: float  # the buyers' median gap, for when there is no BG/NBD

    def as_dict(self) -> dict[str, Any]:
        return {"bgnbd": self.bgnbd.as_dict() if self.bgnbd else None,
                "gamma_gamma": self.gamma_gamma.as_dict() if self.gamma_gamma else None,
                "rfm_cuts": self.rfm_cuts.as_dict(),
                "typical_cycle_days": self.typical_cycle_days}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Models:
        bg, gg = data.get("bgnbd"), data.get("gamma_gamma")
        return cls(BgNbd(**bg, log_likelihood=float("nan")) if bg else None,
                   GammaGamma(**gg, log_likelihood=float("nan")) if gg else None,
                   rfm.RfmCuts.from_dict(data["rfm_cuts"]),
                   float(data["typical_cycle_days"]))


def fit(h: Histories, config: TraitsConfig) -> Models:
    """Fit BG/NBD, Gamma-Gamma and the RFM cut points on the buyers."""
    b = h.buyers & (h.age_days > 0)
    x, t_x, age = h.x[b], h.t_x[b].astype(np.float64), h.age_days[b].astype(np.float64)
    bg = fit_bgnbd(x, t_x, age) if b.sum() >= MIN_BUYERS and (x > 0).sum() >= MIN_REPEATERS \
        else None
    repeat = b & (h.x > 0) & (h.repeat_value > 0)
    gg = fit_gamma_gamma(h.x[repeat], h.repeat_value[repeat].astype(np.float64)) \
        if repeat.sum() >= MIN_REPEATERS else None
    buyers = h.buyers
    cuts = rfm.cuts_for(config.rfm, h.days_since[buyers], h.orders[buyers], h.spend[buyers])
    return Models(bg, gg, cuts, _typical_cycle(h, config))


def predict(h: Histories, models: Models, config: TraitsConfig) -> dict[str, np.ndarray]:
    """Every model-derived column, for buyers; prospects get NULLs and 'prospect'."""
    n, buyers = len(h.purchase_days), h.buyers
    out: dict[str, np.ndarray] = {}
    scores = rfm.rfm(h.days_since[buyers], h.orders[buyers], h.spend[buyers],
                     models.rfm_cuts, config.rfm)
    for name, values in (("rfm_r", scores.r), ("rfm_f", scores.f), ("rfm_m", scores.m),
                         ("rfm_score", scores.code), ("rfm_group", scores.group)):
        column = np.full(n, None, dtype=object)
        column[buyers] = values
        out[name] = column
    x, t_x, age = h.x, h.t_x.astype(np.float64), h.age_days.astype(np.float64)
    nan = np.full(n, np.nan)
    p_alive, purchases, value = nan.copy(), nan.copy(), nan.copy()
    if models.bgnbd is not None:
        bg = models.bgnbd
        p_alive[buyers] = bg.p_alive(x[buyers], t_x[buyers], age[buyers])
        purchases[buyers] = bg.expected_purchases(
            float(config.clv_horizon_days), x[buyers], t_x[buyers], age[buyers])
        cycle = np.where(buyers, bg.expected_cycle_days(x, t_x), np.nan)
    else:
        cycle = _empirical_cycle(h, models.typical_cycle_days)
    if models.gamma_gamma is not None:
        value[buyers] = models.gamma_gamma.expected_order_value(
            x[buyers], h.repeat_value[buyers].astype(np.float64))
    out.update(p_alive=p_alive, expected_purchases=purchases,
               expected_order_value=np.round(value), clv=np.round(purchases * value),
               cycle_days=cycle)
    out["lifecycle_stage"] = lifecycle.stages(
        purchase_days=h.purchase_days, days_since=h.days_since.astype(np.float64),
        cycle_days=np.where(buyers, cycle, 1.0), previous_gap=h.previous_gap,
        rules=config.lifecycle)
    return out


def _typical_cycle(h: Histories, config: TraitsConfig) -> float:
    """The buyers' median mean gap between purchase days (the setting if none repeat)."""
    repeaters = h.x > 0
    gaps = h.t_x[repeaters] / h.x[repeaters]
    typical = float(np.median(gaps)) if len(gaps) else 0.0
    return typical if typical > 0 else config.lifecycle.default_cycle_days


def _empirical_cycle(h: Histories, typical: float) -> np.ndarray:
    """Without a model: her own mean gap between purchase days, else the typical one."""
    x, repeaters = h.x, h.x > 0
    own = np.divide(h.t_x, x, out=np.full(len(x), typical), where=repeaters)
    own = np.where(own > 0, own, typical)
    return np.where(h.buyers, own, np.nan)
