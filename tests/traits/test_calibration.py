"""The time-split check on purchases simulated from a known BG/NBD process."""

from __future__ import annotations

import numpy as np
import pytest

from sen.traits.calibration import calibrate

SPLIT, END = 540.0, 720.0


def _purchases(customers: int = 20_000, seed: int = 11) -> tuple[np.ndarray, ...]:
    """Buy-till-you-die purchases over two years of days: each customer's first
    purchase at a uniform day, then Poisson purchases at her Gamma(0.8, 30)
    rate until she drops out, with probability Beta(1, 3) after each repeat
    purchase; each purchase's value is Gamma around her own mean."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, SPLIT + 90, customers)
    rate = rng.gamma(0.8, 1 / 30, customers)
    repeats = rng.geometric(rng.beta(1.0, 3.0, customers))  # the last before dropping out
    most = 160
    gaps = rng.exponential(1.0, (customers, most)) / rate[:, None]
    times = start[:, None] + np.cumsum(gaps, axis=1)
    made = (np.arange(1, most + 1) <= repeats[:, None]) & (times < END)
    who = np.r_[np.arange(customers), np.nonzero(made)[0]]
    day = np.r_[start, times[made]]
    mean_value = rng.gamma(6.0, 50.0, customers)
    value = rng.gamma(4.0, mean_value[who] / 4.0)
    return who, day, value


@pytest.fixture(scope="module")
def result():  # noqa: ANN201
    return calibrate(*_purchases(), SPLIT, END)


def test_the_model_beats_the_naive_baseline(result) -> None:
    errors = result.errors
    assert errors["mae_model"] < errors["mae_naive"]
    assert errors["rmse_model"] < errors["rmse_naive"]


def test_the_fit_finds_the_simulated_process(result) -> None:
    fitted = result.bgnbd.as_dict()
    assert fitted["r"] == pytest.approx(0.8, rel=0.15)
    assert fitted["alpha"] == pytest.approx(30, rel=0.2)
    assert fitted["a"] / (fitted["a"] + fitted["b"]) == pytest.approx(0.25, rel=0.2)


def test_predicted_totals_and_deciles_follow_the_actuals(result) -> None:
    totals = result.totals
    assert totals["predicted"] == pytest.approx(totals["actual"], rel=0.1)
    assert totals["predicted_value"] == pytest.approx(totals["actual_value"], rel=0.15)
    deciles = result.deciles
    assert len(deciles) == 10 and sum(d.customers for d in deciles) == len(result.customer)
    assert deciles[-1].actual > deciles[0].actual
    assert [d.predicted for d in deciles] == sorted(d.predicted for d in deciles)
    means = [d.actual for d in deciles]
    assert sum(b >= a for a, b in zip(means, means[1:], strict=False)) >= 7
    assert result.table().count("\n") == 10


def test_the_calibration_period_histories() -> None:
    # customer 7 buys on days 0 (twice: one purchase day), 10 and 20, then once
    # after the split; customer 8 on day 5, then twice after the split; customer 9
    # only after it. The holdout is days 30 to 39, the naive window 20 to 29.
    who = np.array([7, 7, 7, 7, 7, 8, 8, 8, 9])
    day = np.array([0.2, 0.7, 10.0, 20.5, 36.0, 5.0, 31.0, 33.0, 35.0])
    value = np.array([10.0, 5.0, 20.0, 40.0, 3.0, 7.0, 1.0, 2.0, 1.0])
    result = calibrate(who, day, value, 30, 40)
    assert list(result.customer) == [7, 8]
    x, t_x, age, mean_value = result.history
    assert list(x) == [2, 0] and list(t_x) == [20, 0] and list(age) == [30, 25]
    assert list(mean_value) == [30.0, 0.0]
    assert list(result.actual) == [1.0, 2.0] and list(result.actual_value) == [3.0, 3.0]
    assert list(result.naive) == [1.0, 0.0]
    assert result.horizon_days == 10


def test_dates_work_as_days() -> None:
    who, day, value = _purchases(3000, seed=5)
    dates = np.datetime64("2024-11-01") + np.floor(day).astype("timedelta64[D]")
    by_dates = calibrate(who, dates, value, "2026-04-25", np.datetime64("2026-10-22"))
    by_days = calibrate(who, day, value, SPLIT, END)
    np.testing.assert_allclose(by_dates.predicted, by_days.predicted)
    np.testing.assert_array_equal(by_dates.actual, by_days.actual)


def test_a_split_after_the_end_is_refused() -> None:
    who, day, value = _purchases(200)
    with pytest.raises(ValueError, match="pass a split date earlier than the end date"):
        calibrate(who, day, value, END, SPLIT)


def test_no_customer_before_the_split_is_refused() -> None:
    who, day, value = _purchases(200)
    with pytest.raises(ValueError, match="choose a later split date"):
        calibrate(who, day + 1000, value, SPLIT, END)


def test_dates_and_day_numbers_do_not_mix() -> None:
    who, day, value = _purchases(200)
    with pytest.raises(ValueError, match="same kind as the purchase days"):
        calibrate(who, day, value, "2026-05-01", "2026-11-01")
