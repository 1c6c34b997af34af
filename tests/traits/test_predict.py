"""From histories to models and predictions: the model path and its fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from sen.traits import predict
from sen.traits.config import TraitsConfig


def _histories(n: int, seed: int = 5) -> predict.Histories:
    rng = np.random.default_rng(seed)
    days = rng.poisson(2.0, n)  # about 13 % prospects
    age = rng.uniform(30, 700, n).round()
    t_x = np.where(days > 1, (age * rng.uniform(0.2, 1.0, n)).round(), 0.0)
    return predict.Histories(
        purchase_days=days, t_x=t_x, age_days=np.where(days > 0, age, 0.0),
        repeat_value=np.where(days > 1, rng.gamma(4, 5e5, n), 0.0),
        days_since=np.where(days > 0, age - t_x, np.nan),
        previous_gap=np.where(days > 1, t_x / np.maximum(days - 1, 1), np.nan),
        orders=days.astype(float), spend=days * 1e6)


def test_models_fit_and_predictions_hang_together() -> None:
    h = _histories(3000)
    config = TraitsConfig()
    models = predict.fit(h, config)
    assert models.bgnbd is not None and models.gamma_gamma is not None
    out = predict.predict(h, models, config)
    buyers = h.buyers
    assert np.all((out["p_alive"][buyers] > 0) & (out["p_alive"][buyers] <= 1))
    assert np.all(np.isnan(out["p_alive"][~buyers]))
    assert out["clv"][buyers] == pytest.approx(
        np.round(out["expected_purchases"][buyers] * out["expected_order_value"][buyers]),
        abs=1.0)
    bg = models.bgnbd
    assert out["cycle_days"][buyers] == pytest.approx(
        (bg.alpha + h.t_x[buyers]) / (bg.r + h.x[buyers]))
    assert set(out["lifecycle_stage"][~buyers]) == {"prospect"}
    assert all(v is None for v in out["rfm_group"][~buyers])
    again = predict.Models.from_dict(models.as_dict())
    assert again.bgnbd.as_dict() == models.bgnbd.as_dict()


def test_a_longer_horizon_expects_more_purchases() -> None:
    h = _histories(2000)
    short, long = TraitsConfig(clv_horizon_days=90), TraitsConfig(clv_horizon_days=730)
    models = predict.fit(h, short)
    a = predict.predict(h, models, short)["expected_purchases"]
    b = predict.predict(h, models, long)["expected_purchases"]
    assert np.all(b[h.buyers] > a[h.buyers])


def test_too_few_buyers_fall_back_to_their_own_gaps() -> None:
    h = _histories(30)
    models = predict.fit(h, TraitsConfig())
    assert models.bgnbd is None and models.gamma_gamma is None
    out = predict.predict(h, models, TraitsConfig())
    repeaters = h.x > 0
    assert out["cycle_days"][repeaters] == pytest.approx(h.t_x[repeaters] / h.x[repeaters])
    once = h.buyers & ~repeaters
    assert np.all(out["cycle_days"][once] == models.typical_cycle_days)
    assert np.all(np.isnan(out["clv"]))


def test_nobody_repeating_uses_the_configured_cycle() -> None:
    h = predict.Histories(
        purchase_days=np.array([1, 1, 0]), t_x=np.zeros(3), age_days=np.array([10.0, 20, 0]),
        repeat_value=np.zeros(3), days_since=np.array([10.0, 20, np.nan]),
        previous_gap=np.full(3, np.nan), orders=np.array([1.0, 1, 0]),
        spend=np.array([1e6, 2e6, 0]))
    config = TraitsConfig()
    models = predict.fit(h, config)
    assert models.typical_cycle_days == config.lifecycle.default_cycle_days
    assert predict.predict(h, models, config)["lifecycle_stage"].tolist() == [
        "new", "new", "prospect"]
