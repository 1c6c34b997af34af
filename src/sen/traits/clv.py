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
    stacked = np.column_stack(columns)
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return tuple(rows[:, i] for i in range(rows.shape[1])), counts.astype(np.float64)


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


def bgnbd_gradient(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                   w: np.ndarray) -> np.ndarray:  # noqa: N803
    """Gradient of the weighted log-likelihood sum with respect to log(r, alpha, a, b)."""
    r, alpha, a, b = params
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                      - (r + x) * np.log(alpha + t_x), -np.inf)
    total = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - total), np.exp(a4 - total)
    safe_b = np.maximum(b + x - 1, 1e-300)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T)
           - w4 * np.log(alpha + t_x))
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = (digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)
           - np.where(x > 0, w4 / safe_b, 0.0))
    grads = np.array([w @ d_r, w @ d_alpha, w @ d_a, w @ d_b])
    return grads * params  # d/d log(theta) = theta * d/d theta


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:  # noqa: N803
    """Maximum-likelihood BG/NBD parameters for customers' (frequency, recency, age)."""
    x, t_x, T = _arrays(x, t_x, T)  # noqa: N806
    _check(x, t_x, T)
    (ux, ut, uT), w = _collapse(x, t_x, T)  # noqa: N806
    total = w.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = -float(np.dot(w, bgnbd_log_likelihood(params, ux, ut, uT))) / total
        return value, -bgnbd_gradient(params, ux, ut, uT, w) / total

    scale = max(float(np.mean(T)), 1e-9)
    best = _minimise(objective, np.log([1.0, scale, 1.0, 1.0]), 4)
    r, alpha, a, b = np.exp(best.x)
    return BgNbd(float(r), float(alpha), float(a), float(b), -best.fun * total)


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood at ``params`` = (p, q, v)."""
    p, q, v = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))


def gamma_gamma_gradient(params: np.ndarray, x: np.ndarray, m: np.ndarray,
                         w: np.ndarray) -> np.ndarray:
    """Gradient of the weighted log-likelihood sum with respect to log(p, q, v)."""
    p, q, v = params
    px, vmx = p * x, v + m * x
    common = digamma(px + q)
    d_p = x * (common - digamma(px) + np.log(m) + np.log(x) - np.log(vmx))
    d_q = common - digamma(q) + np.log(v) - np.log(vmx)
    d_v = q / v - (px + q) / vmx
    return np.array([w @ d_p, w @ d_q, w @ d_v]) * params


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

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = -float(np.dot(w, gamma_gamma_log_likelihood(params, ux, um))) / total
        return value, -gamma_gamma_gradient(params, ux, um, w) / total

    best = _minimise(objective, np.log([1.0, 1.0, float(np.mean(um))]), 3)
    p, q, v = np.exp(best.x)
    return GammaGamma(float(p), float(q), float(v), -best.fun * total)


def _minimise(objective, start: np.ndarray, n: int):  # noqa: ANN001, ANN202
    """L-BFGS-B with the analytic gradient, tolerances tight enough to agree with
    other implementations' optimum to well under 1e-3."""
    return minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[_LOG_BOUNDS] * n,
                    options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 5000})


def _check(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:  # noqa: N803
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T).any() or ((x == 0) & (t_x != 0)).any():
        raise ValueError("need 0 <= recency <= age, and recency 0 for customers with no "
                         "repeat purchase")
