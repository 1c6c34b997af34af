"""BG/NBD and Gamma-Gamma fitted by Sen agree with the reference implementation."""

from __future__ import annotations

import numpy as np
import pytest

from sen.traits.clv import (
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)

lifetimes = pytest.importorskip("lifetimes")
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def _customers(n: int = 3000, seed: int = 7) -> tuple[np.ndarray, ...]:
    """Buy-till-you-die customers over a year in days, and their mean order values."""
    rng = np.random.default_rng(seed)
    lam, drop = rng.gamma(0.7, 1 / 40, n), rng.beta(1.2, 4.0, n)
    age = rng.integers(60, 365, n).astype(float)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while (t := t + rng.exponential(1 / lam[i])) <= age[i]:
            x[i] += 1
            t_x[i] = np.floor(t)
            if rng.random() < drop[i]:
                break
    value = np.where(x > 0, rng.gamma(4.0, 300.0 / 4.0, n) * rng.gamma(6.0, 1 / 6.0, n), 0.0)
    return x, t_x, age, value


def _rel(ours: dict[str, float], theirs: dict[str, float]) -> float:
    return max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in theirs)


def test_bgnbd_parameters_and_predictions_match_lifetimes() -> None:
    x, t_x, age, _ = _customers()
    ours = fit_bgnbd(x, t_x, age)
    ref = lifetimes.BetaGeoFitter().fit(x, t_x, age)
    assert _rel(ours.as_dict(), ref.params_.to_dict()) < 1e-3
    np.testing.assert_allclose(ours.p_alive(x, t_x, age),
                               ref.conditional_probability_alive(x, t_x, age), atol=1e-4)
    np.testing.assert_allclose(
        ours.expected_purchases(90, x, t_x, age),
        ref.conditional_expected_number_of_purchases_up_to_time(90, x, t_x, age),
        rtol=1e-3, atol=1e-5)


def test_gamma_gamma_parameters_and_values_match_lifetimes() -> None:
    x, _, _, value = _customers()
    ours = fit_gamma_gamma(x, value)
    keep = x > 0
    ref = lifetimes.GammaGammaFitter().fit(x[keep], value[keep])
    assert _rel(ours.as_dict(), ref.params_.to_dict()) < 1e-3
    np.testing.assert_allclose(
        ours.expected_order_value(x[keep], value[keep]),
        ref.conditional_expected_average_profit(x[keep], value[keep]), rtol=1e-3)


def test_gamma_gamma_does_not_depend_on_the_currency_unit() -> None:
    """Orders in VND are millions; the fit scales, it does not hit a bound."""
    x, _, _, value = _customers()
    in_units, in_vnd = fit_gamma_gamma(x, value), fit_gamma_gamma(x, value * 10_000)
    assert in_vnd.p == pytest.approx(in_units.p, rel=1e-5)
    assert in_vnd.q == pytest.approx(in_units.q, rel=1e-5)
    assert in_vnd.v == pytest.approx(in_units.v * 10_000, rel=1e-5)
    keep = x > 0
    ref = lifetimes.GammaGammaFitter().fit(x[keep], value[keep] * 10_000)
    assert _rel(in_vnd.as_dict(), ref.params_.to_dict()) < 1e-3


def test_customers_counted_twice_double_the_likelihood_not_the_parameters() -> None:
    x, t_x, age, _ = _customers(800)
    once, twice = fit_bgnbd(x, t_x, age), fit_bgnbd(*(np.tile(v, 2) for v in (x, t_x, age)))
    assert _rel(twice.as_dict(), once.as_dict()) < 1e-6
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-9)


def test_the_fits_are_maxima_of_the_per_customer_likelihoods() -> None:
    """The summed terms behind the fit agree with the customer-level likelihoods,
    and moving any parameter by 0.1% lowers them."""
    x, t_x, age, value = _customers()
    keep = x > 0
    for fitted, per_customer in (
        (fit_bgnbd(x, t_x, age), lambda p: bgnbd_log_likelihood(p, x, t_x, age)),
        (fit_gamma_gamma(x, value), lambda p: gamma_gamma_log_likelihood(p, x[keep], value[keep])),
    ):
        best = np.array(list(fitted.as_dict().values()))
        top = per_customer(best).sum()
        assert top == pytest.approx(fitted.log_likelihood, rel=1e-10)
        for i in range(len(best)):
            for factor in (0.999, 1.001):
                moved = best.copy()
                moved[i] *= factor
                assert per_customer(moved).sum() < top


def test_degenerate_histories_stop_at_the_bounds() -> None:
    """Everyone with the same history: the likelihood keeps rising toward infinite
    parameters; the fit stops at the bounds, finite, without warnings."""
    same = fit_bgnbd(np.full(100, 3.0), np.full(100, 20.0), np.full(100, 40.0))
    params = np.array(list(same.as_dict().values()))
    assert np.isfinite(params).all() and (params <= np.exp(12.0) * 1.0001).all()
    nobody_again = fit_bgnbd(np.zeros(50), np.zeros(50), np.arange(50.0) + 1)
    assert nobody_again.r < 1e-4 and nobody_again.log_likelihood == pytest.approx(0.0, abs=1e-3)


def test_expected_cycle_days_shrink_toward_the_population() -> None:
    model = fit_bgnbd(*_customers()[:3])
    x, t_x = np.array([0.0, 1.0, 20.0]), np.array([0.0, 30.0, 300.0])
    cycle = model.expected_cycle_days(x, t_x)
    np.testing.assert_allclose(cycle, (model.alpha + t_x) / (model.r + x))
    assert cycle[0] == pytest.approx(model.alpha / model.r)  # nothing to go on: the population's
    assert abs(cycle[2] - 15.0) < abs(cycle[1] - 30.0)  # a frequent buyer keeps her own pace


def test_a_lapsed_customer_is_less_likely_alive_than_a_recent_one() -> None:
    model = fit_bgnbd(*_customers()[:3])
    recent, lapsed = model.p_alive(np.array([5.0, 5.0]), np.array([300.0, 60.0]),
                                   np.array([310.0, 310.0]))
    assert recent > 0.8 and lapsed < 0.05
    assert model.p_alive(np.array([0.0]), np.array([0.0]), np.array([310.0]))[0] == 1.0


@pytest.mark.parametrize(("x", "t_x", "age"), [
    ([], [], []), ([1.0], [20.0], [10.0]), ([0.0], [5.0], [10.0]), ([-1.0], [0.0], [10.0]),
    ([1.5], [5.0], [10.0]), ([1.0], [np.nan], [10.0]),
])
def test_impossible_histories_are_refused(x, t_x, age) -> None:
    with pytest.raises(ValueError):
        fit_bgnbd(np.array(x), np.array(t_x), np.array(age))


def test_gamma_gamma_needs_repeat_buyers() -> None:
    with pytest.raises(ValueError, match="repeat purchase"):
        fit_gamma_gamma(np.array([0.0, 0.0]), np.array([0.0, 0.0]))
