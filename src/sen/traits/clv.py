"""Purchase-cycle and value models: BG/NBD and Gamma-Gamma, fitted by maximum likelihood.

BG/NBD (Fader, Hardie and Lee, 2005) says each customer buys at her own
Poisson rate while alive and may drop out after any purchase; from a
customer's frequency ``x`` (repeat purchases), recency ``t_x`` (time of the
last one) and age ``T`` it gives the probability she is alive and how many
purchases to expect. Gamma-Gamma (Fader, Hardie and Lee, 2005b) gives her
expected order value from her past mean. Together: expected value over a
horizon, the basis of CLV.

Pure functions over numpy arrays. The likelihoods are vectorised and written
in log space; parameters are fitted on their logarithms, so they stay
positive, within bounds that keep the optimiser out of overflow. The fits are
Newton's method on the exact gradient and Hessian: each evaluation costs a
few passes over the customers, and the fit converges in a handful of them
(see ``_newton``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1, polygamma

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

    def expected_cycle_days(self, x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
        """Each customer's inter-purchase interval, shrunk toward the population's.

        While she is alive her purchase rate has the posterior
        Gamma(r + x, alpha + t_x): ``x`` repeat purchases over the ``t_x``
        time units of her active period, added to the prior. This returns the
        inverse of its mean, ``(alpha + t_x) / (r + x)``, in the time unit of
        the fit (days when recency and age are in days): close to her own
        ``t_x / x`` when she has bought often, close to the population's
        ``alpha / r`` when she has not.
        """
        x, t_x = _arrays(x, t_x)
        return (self.alpha + t_x) / (self.r + x)

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


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Sum of products over customers. Not ``u @ v``: OpenBLAS spreads dots
    longer than 10,000 over threads, whose wake-up costs more than the sum
    itself when they are interleaved with other work."""
    return float(np.einsum("i,i->", u, v))


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and the index of each value among them. Whole numbers
    in a modest range (counts, days) take one counting pass, not a sort."""
    if len(values) and values.min() >= 0 and values.max() <= 4 * len(values) + 4096:
        whole = values.astype(np.int64)
        if np.array_equal(whole, values):
            present = np.zeros(int(whole.max()) + 1, bool)
            present[whole] = True
            return np.flatnonzero(present).astype(np.float64), np.cumsum(present)[whole] - 1
    return np.unique(values, return_inverse=True)


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
    """Customers' histories arranged for the BG/NBD likelihood.

    A customer's log-likelihood is ``A(x) + r log(alpha) - (r + x) log(alpha + T)``
    plus, if she has bought again, ``softplus(d)`` with
    ``d = log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + t_x))``
    (the odds that she dropped out after her last purchase rather than
    being alive and silent since). The first terms are summed per distinct
    count and per distinct age, with the customers sharing it as weight; only
    ``softplus(d)`` needs a pass over the repeat customers, gathering
    ``log(alpha + day)`` from a table of the distinct days.
    """

    customers: float
    x_values: np.ndarray  # distinct counts, and the customers with each
    x_weight: np.ndarray
    days: np.ndarray  # distinct ages and recencies, and per day as age:
    age_weight: np.ndarray  # the customers
    age_count: np.ndarray  # and their repeat purchases
    x: np.ndarray  # per repeat customer
    x_index: np.ndarray
    recency_index: np.ndarray
    age_index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> _Histories:
        x_values, x_index = _codes(x)
        repeat = np.flatnonzero(x > 0)
        days, day_index = _codes(np.concatenate([age, t_x[repeat]]))
        age_index = day_index[:len(age)]
        return cls(float(len(x)), x_values,
                   np.bincount(x_index, minlength=len(x_values)).astype(np.float64),
                   days, np.bincount(age_index, minlength=len(days)).astype(np.float64),
                   np.bincount(age_index, weights=x, minlength=len(days)),
                   x[repeat], x_index[repeat], day_index[len(age):], age_index[repeat])


def _bgnbd_terms(params: np.ndarray, h: _Histories) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed log-likelihood, its gradient and Hessian in (r, alpha, a, b)."""
    r, alpha, a, b = params
    xv, wx, n = h.x_values, h.x_weight, h.customers
    log_day, inv_day = np.log(alpha + h.days), 1.0 / (alpha + h.days)
    per_age = r * h.age_weight + h.age_count
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + xv)
    value = (wx @ (gammaln(r + xv) - gammaln(r) + betaln(a, b + xv) - betaln(a, b))
             + n * r * np.log(alpha) - _dot(per_age, log_day))
    grad = np.array([wx @ (digamma(r + xv) - digamma(r)) + n * np.log(alpha)
                     - _dot(h.age_weight, log_day), n * r / alpha - _dot(per_age, inv_day),
                     wx @ (psi_ab - psi_abx),
                     wx @ (digamma(b + xv) - psi_abx - digamma(b) + psi_ab)])
    tri_ab = polygamma(1, a + b) - polygamma(1, a + b + xv)
    hess = np.zeros((4, 4))  # upper triangle, mirrored at the end
    hess[0, 0] = wx @ (polygamma(1, r + xv) - polygamma(1, r))
    hess[0, 1] = n / alpha - _dot(h.age_weight, inv_day)
    hess[1, 1] = _dot(per_age, inv_day**2) - n * r / alpha**2
    hess[2, 2] = hess[2, 3] = wx @ tri_ab
    hess[3, 3] = wx @ (polygamma(1, b + xv) - polygamma(1, b) + tri_ab)
    # softplus(d) per repeat customer, with d's gradient and Hessian by the chain rule
    inv_b = 1.0 / (b + np.maximum(xv, 1.0) - 1.0)
    rx = h.x + r
    inv_age, inv_recency = inv_day.take(h.age_index), inv_day.take(h.recency_index)
    d_r = log_day.take(h.age_index) - log_day.take(h.recency_index)  # ∂d/∂r
    d = rx * d_r + (np.log(a) + np.log(inv_b)).take(h.x_index)
    small = np.exp(-np.abs(d))
    value += float(np.maximum(d, 0.0).sum() + np.log1p(small).sum())
    dropped = np.where(d >= 0, 1.0, small) / (1.0 + small)  # sigmoid(d)
    inv_gap = inv_age - inv_recency
    d_alpha, minus_d_b = rx * inv_gap, inv_b.take(h.x_index)  # ∂d/∂a is 1 / a
    grad += [_dot(dropped, d_r), _dot(dropped, d_alpha), dropped.sum() / a,
             -_dot(dropped, minus_d_b)]
    curve = dropped * (1.0 - dropped)  # softplus''(d)
    c_r, c_alpha, c_b = curve * d_r, curve * d_alpha, curve * minus_d_b
    hess += [[_dot(c_r, d_r), _dot(c_r, d_alpha) + _dot(dropped, inv_gap), c_r.sum() / a,
              -_dot(c_r, minus_d_b)],
             [0, _dot(c_alpha, d_alpha) + _dot(dropped, rx * (inv_recency**2 - inv_age**2)),
              c_alpha.sum() / a, -_dot(c_alpha, minus_d_b)],
             [0, 0, (curve.sum() - dropped.sum()) / a**2, -c_b.sum() / a],
             [0, 0, 0, _dot(c_b, minus_d_b) + _dot(dropped, minus_d_b**2)]]
    return float(value), grad, np.triu(hess) + np.triu(hess, 1).T


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> BgNbd:  # noqa: N803
    """Maximum-likelihood BG/NBD parameters for customers' (frequency, recency, age)."""
    x, t_x, T = _arrays(x, t_x, T)  # noqa: N806
    _check(x, t_x, T)
    histories = _Histories.of(x, t_x, T)
    scale = max(float(np.mean(T)), 1e-9)
    log_params, value = _newton(lambda params: _bgnbd_terms(params, histories),
                                np.log([1.0, scale, 1.0, 1.0]), len(x))
    r, alpha, a, b = np.exp(log_params)
    return BgNbd(float(r), float(alpha), float(a), float(b), value)


def gamma_gamma_log_likelihood(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's Gamma-Gamma log-likelihood at ``params`` = (p, q, v)."""
    p, q, v = params
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + m * x))


@dataclass(frozen=True)
class _Spends:
    """Repeat customers' counts and mean values arranged for the Gamma-Gamma likelihood:
    terms of the count alone are summed per distinct count; ``log(v + m x)``
    is the one pass over the customers."""

    customers: float
    x_values: np.ndarray  # distinct counts, and the customers with each
    x_weight: np.ndarray
    x: np.ndarray  # per customer
    mx: np.ndarray
    minus_log_m: float  # sums free of the parameters: of -log m,
    log_mx_by_x: float  # and of x log(m x)

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> _Spends:
        x_values, x_index = _codes(x)
        log_m, log_x = np.log(m), np.log(x)
        return cls(float(len(x)), x_values,
                   np.bincount(x_index, minlength=len(x_values)).astype(np.float64),
                   x, m * x, float(-log_m.sum()), _dot(x, log_m + log_x))


def _gamma_gamma_terms(params: np.ndarray, s: _Spends) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed log-likelihood, its gradient and Hessian in (p, q, v)."""
    p, q, v = params
    xv, wx, n = s.x_values, s.x_weight, s.customers
    pxq, px = p * xv + q, p * xv
    # sums over customers of log(v + m x), 1 / (v + m x) and its square, plain and times x
    logs, inv = np.log(v + s.mx), 1.0 / (v + s.mx)
    inv2 = inv * inv
    x_log, x_inv, x_inv2 = _dot(s.x, logs), _dot(s.x, inv), _dot(s.x, inv2)
    log_sum, inv_sum, inv2_sum = logs.sum(), inv.sum(), inv2.sum()
    value = (wx @ (gammaln(pxq) - gammaln(px)) - n * gammaln(q) + n * q * np.log(v)
             + s.minus_log_m + p * (s.log_mx_by_x - x_log) - q * log_sum)
    psi, tri = digamma(pxq), polygamma(1, pxq)
    grad = np.array([wx @ (xv * (psi - digamma(px))) + s.log_mx_by_x - x_log,
                     wx @ psi - n * digamma(q) + n * np.log(v) - log_sum,
                     n * q / v - p * x_inv - q * inv_sum])
    pq, qv = wx @ (xv * tri), n / v - inv_sum
    hess = np.array([[wx @ (xv * xv * (tri - polygamma(1, px))), pq, -x_inv],
                     [pq, wx @ tri - n * polygamma(1, q), qv],
                     [-x_inv, qv, p * x_inv2 + q * inv2_sum - n * q / v**2]])
    return float(value), grad, hess


def fit_gamma_gamma(x: np.ndarray, mean_value: np.ndarray) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' order count
    and mean order value (customers with no repeat purchase say nothing here)."""
    x, m = _arrays(x, mean_value)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise ValueError("Gamma-Gamma needs customers with at least one repeat purchase "
                         "and a positive mean order value")
    x, m = x[keep], m[keep]
    # Fit on values in units of their mean: v scales with the currency (a VND
    # order is millions), p and q do not, and the bounds stay meaningful.
    unit = float(m.mean())
    spends = _Spends.of(x, m / unit)
    log_params, value = _newton(lambda params: _gamma_gamma_terms(params, spends), np.zeros(3),
                                len(m))
    p, q, v = np.exp(log_params)
    log_likelihood = value - len(m) * np.log(unit)  # density of m, not m / unit
    return GammaGamma(float(p), float(q), float(v * unit), float(log_likelihood))


def _newton(terms, start: np.ndarray, count: float) -> tuple[np.ndarray, float]:  # noqa: ANN001
    """Maximise a log-likelihood over log-parameters kept within bounds.

    ``terms(params)`` gives the log-likelihood of ``count`` customers with its
    gradient and Hessian in the parameters. Each iteration takes a Newton step
    (on the absolute eigenvalues of the Hessian where it is not negative
    definite, as it need not be far from the optimum), at most a factor e^3
    per parameter, halved until the likelihood rises enough. Near the
    optimum (a definite Hessian and a step under 1e-3) the full step is taken
    without that test, which rounding would fail: steps there shrink
    quadratically, and the fit stops after one changing no parameter by more
    than 1e-6 relative (the error left is about its square), or when the mean
    gradient is below 1e-10. Parameters held at a bound by the gradient stay
    out of the step. Returns the log-parameters and the log-likelihood.
    """
    low, high = _LOG_BOUNDS

    def at(log_params: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            value, grad, hess = terms(params)
        grad = grad * params / count  # chain rule to log-parameters, per customer
        return value / count, grad, hess * np.outer(params, params) / count + np.diag(grad)

    log_params = np.clip(np.asarray(start, np.float64), low, high)
    value, grad, hess = at(log_params)
    for _ in range(100):
        free = ~(((log_params <= low) & (grad < 0)) | ((log_params >= high) & (grad > 0)))
        if np.abs(grad[free]).max(initial=0.0) < 1e-10:
            break
        step = np.zeros_like(log_params)
        step[free], definite = _ascent(grad[free], hess[np.ix_(free, free)])
        step *= min(1.0, 3.0 / np.abs(step).max())
        near, size = definite and np.abs(step).max() < 1e-3, 1.0
        while True:
            trial = np.clip(log_params + size * step, low, high)
            new_value, new_grad, new_hess = at(trial)
            if near or new_value >= value + 1e-4 * size * float(grad @ step):
                break
            size /= 2
            if size < 1e-9:
                return log_params, value * count  # no step gains: the optimum, to rounding
        moved = np.abs(trial - log_params).max()
        log_params, value, grad, hess = trial, new_value, new_grad, new_hess
        if near and moved < 1e-6:
            break
    return log_params, value * count


def _ascent(grad: np.ndarray, hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Newton step up the likelihood, on the Hessian's absolute eigenvalues,
    and whether the Hessian was negative definite (the step is Newton's own)."""
    eigenvalues, vectors = np.linalg.eigh(hess)
    top = np.abs(eigenvalues).max()
    curvature = np.maximum(np.abs(eigenvalues), 1e-10 * top + 1e-300)
    definite = bool(eigenvalues.max() < -1e-10 * top)
    return vectors @ ((vectors.T @ grad) / curvature), definite


def _check(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:  # noqa: N803
    if len(x) == 0:
        raise ValueError("no customers to fit")
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("frequency, recency and age must be finite numbers")
    if (x != np.floor(x)).any():
        raise ValueError("frequency counts repeat purchases: it must be whole numbers")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T).any() or ((x == 0) & (t_x != 0)).any():
        raise ValueError("need 0 <= recency <= age, and recency 0 for customers with no "
                         "repeat purchase")
