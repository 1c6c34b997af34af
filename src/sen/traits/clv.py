"""Purchase-cycle and value models: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

BG/NBD (Fader, Hardie and Lee, 2005) says each customer buys at her own
Poisson rate while alive and may drop out after any purchase; from a
customer's frequency ``x`` (repeat purchases), recency ``t_x`` (time of the
last one) and age ``T`` it gives the probability she is alive and how many
purchases to expect. Gamma-Gamma (Fader, Hardie and Lee, 2005b) gives her
expected order value from her past mean. Together: expected value over a
horizon, the basis of CLV.

Pure functions over numpy arrays. The likelihoods are vectorised and written
in log space (``gammaln``, ``betaln``, ``logaddexp``); parameters are fitted
on their logarithms, so they stay positive, with bounds that keep the
optimiser out of overflow. Customers with the same (x, t_x, T) are fitted as
one weighted row, which is what makes a million customers take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

_LOG_BOUNDS = (-12.0, 12.0)  # parameters between 6e-6 and 1.6e5


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters: purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:  # noqa: N803
        """Probability each customer has not dropped out."""
        x, t_x, T = _arrays(x, t_x, T)  # noqa: N806
        log_ratio = (np.log(self.a) - np.log(np.maximum(self.b + x - 1, 1e-300))
                     + (self.r + x) * (np.log(self.alpha + T) - np.log(self.alpha + t_x)))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def expected_purchases(self, t: float, x: np.ndarray, t_x: np.ndarray,
                           T: np.ndarray) -> np.ndarray:  # noqa: N803
        """Purchases each customer is expected to make in the next ``t`` time units."""
        x, t_x, T = _arrays(x, t_x, T)  # noqa: N806
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x,
                                                                       a + b + x - 1, z)
        alive = self.p_alive(x, t_x, T)
        return head * tail * alive

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma parameters: spend per order ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float

    def expected_order_value(self, x: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        """Each customer's expected order value, shrunk from her mean toward the population's."""
        x, m = _arrays(x, mean_value)
        return (self.p * (self.v + x * m)) / (self.p * x + self.q - 1)

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


def _arrays(*values: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(v, dtype=np.float64) for v in values)


def _collapse(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Distinct rows of ``columns`` and how many customers share each."""
    order = np.lexsort(tuple(reversed(columns)))
    sorted_cols = [c[order] for c in columns]
    changed = np.zeros(len(order), bool)
    changed[0] = True
    for c in sorted_cols:
        changed[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(changed)
    counts = np.diff(np.append(starts, len(order))).astype(np.float64)
    return tuple(c[starts] for c in sorted_cols), counts


def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray,
                         T: np.ndarray) -> np.ndarray:  # noqa: N803
    """Each customer's BG/NBD log-likelihood at ``params`` = (r, alpha, a, b)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


@dataclass(frozen=True)
class _Histories:
    """Distinct (x, t_x, T) rows with weights, and each column's distinct values.

    Every transcendental term of the likelihood depends on one column only
    (``gammaln(r + x)``, ``log(alpha + T)``…), and each column takes few
    values (counts, and days up to a few years), so the terms are computed
    per distinct value and gathered: a million customers cost a few thousand
    special-function calls per iteration.
    """

    w: np.ndarray
    x: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    t_values: np.ndarray
    t_index: np.ndarray
    age_values: np.ndarray
    age_index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> _Histories:
        (ux, ut, ua), w = _collapse(x, t_x, age)
        xv, xi = np.unique(ux, return_inverse=True)
        tv, ti = np.unique(ut, return_inverse=True)
        av, ai = np.unique(ua, return_inverse=True)
        return cls(w, ux, xv, xi, tv, ti, av, ai)


def _bgnbd_value_and_gradient(params: np.ndarray, h: _Histories) -> tuple[float, np.ndarray]:
    """Weighted log-likelihood sum and its gradient in log(r, alpha, a, b)."""
    r, alpha, a, b = params
    xv, x = h.x_values, h.x
    has = x > 0
    log_at = np.log(alpha + h.age_values)[h.age_index]
    log_ax = np.log(alpha + h.t_values)[h.t_index]
    bx1 = np.log(np.maximum(b + xv - 1, 1e-300))[h.x_index]
    a1 = (gammaln(r + xv) - gammaln(r))[h.x_index] + r * np.log(alpha)
    a2 = (betaln(a, b + xv) - betaln(a, b))[h.x_index]
    a3 = -(r + x) * log_at
    a4 = np.where(has, np.log(a) - bx1 - (r + x) * log_ax, -np.inf)
    total = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - total), np.exp(a4 - total)
    value = float(h.w @ (a1 + a2 + total))
    d_r = (digamma(r + xv) - digamma(r))[h.x_index] + np.log(alpha) - w3 * log_at - w4 * log_ax
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + h.age_values)[h.age_index]
                                     + w4 / (alpha + h.t_values)[h.t_index])
    d_a = (digamma(a + b) - digamma(a + b + xv))[h.x_index] + w4 / a
    d_b = ((digamma(b + xv) - digamma(a + b + xv) - digamma(b) + digamma(a + b))[h.x_index]
           - np.where(has, w4 / np.exp(bx1), 0.0))
    grad = np.array([h.w @ d_r, h.w @ d_alpha, h.w @ d_a, h.w @ d_b]) * params
    return value, grad


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:  # noqa: N803
    """Maximum-likelihood BG/NBD parameters for customers' (frequency, recency, age)."""
    x, t_x, T = _arrays(x, t_x, T)  # noqa: N806
    _check(x, t_x, T)
    histories = _Histories.of(x, t_x, T)
    total = histories.w.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = _bgnbd_value_and_gradient(np.exp(log_params), histories)
        return -value / total, -grad / total

    scale = max(float(np.mean(T)), 1e-9)
    best = _minimise(objective, np.log([1.0, scale, 1.0, 1.0]), 4)
    r, alpha, a, b = np.exp(np.clip(best.x, *_LOG_BOUNDS))
    return BgNbd(float(r), float(alpha), float(a), float(b), -best.fun * total)


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood at ``params`` = (p, q, v)."""
    p, q, v = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' order count
    and mean order value (customers with no repeat purchase say nothing here)."""
    x, m = _arrays(x, mean_value)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise ValueError("Gamma-Gamma needs customers with at least one repeat purchase "
                         "and a positive mean order value")
    (ux, um), w = _collapse(x[keep], m[keep])
    total = w.sum()
    # Fit on values in units of their mean: v scales with the currency (a VND
    # order is millions), p and q do not, and the bounds stay meaningful.
    unit = float(np.average(um, weights=w))
    um = um / unit
    # Terms of x alone are computed per distinct count and gathered; log m and
    # log x never change.
    xv, xi = np.unique(ux, return_inverse=True)
    log_m, log_x, mx = np.log(um), np.log(ux), um * ux
    fixed = float(w @ (-log_m))

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = params = np.exp(log_params)
        pxv = p * xv
        log_vmx = np.log(v + mx)
        value = (w @ ((gammaln(pxv + q) - gammaln(pxv))[xi] + ux * p * (log_m + log_x - log_vmx)
                      - q * log_vmx) + fixed + total * (q * np.log(v) - gammaln(q)))
        common = digamma(pxv + q)
        d_p = w @ (ux * ((common - digamma(pxv))[xi] + log_m + log_x - log_vmx))
        d_q = w @ (common[xi] - log_vmx) + total * (np.log(v) - digamma(q))
        d_v = total * q / v - w @ ((p * ux + q) / (v + mx))
        grad = np.array([d_p, d_q, d_v]) * params
        return -float(value) / total, -grad / total

    best = _minimise(objective, np.zeros(3), 3)
    p, q, v = np.exp(np.clip(best.x, *_LOG_BOUNDS))
    log_likelihood = -best.fun * total - total * np.log(unit)  # density of m, not m / unit
    return GammaGamma(float(p), float(q), float(v * unit), float(log_likelihood))


def _minimise(objective, start: np.ndarray, n: int):  # noqa: ANN001, ANN202
    """BFGS with the analytic gradient on the log-parameters, kept inside bounds
    by clipping (the likelihood is smooth there, and BFGS's step costs nothing
    next to a likelihood evaluation, unlike L-BFGS-B's bookkeeping); tolerances
    tight enough to agree with other implementations to well under 1e-3."""
    def clipped(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        inside = np.clip(log_params, *_LOG_BOUNDS)
        value, grad = objective(inside)
        return value, np.where(inside == log_params, grad, 0.0)

    del n
    return minimize(clipped, start, jac=True, method="BFGS",
                    options={"gtol": 1e-9, "maxiter": 5000})


def _check(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:  # noqa: N803
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T).any() or ((x == 0) & (t_x != 0)).any():
        raise ValueError("need 0 <= recency <= age, and recency 0 for customers with no "
                         "repeat purchase")
