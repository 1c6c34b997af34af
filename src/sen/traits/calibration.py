"""Does the purchase model predict? A time-split check against a naive baseline.

Purchases before a split date make the calibration period: each customer
who had bought by then gets a history (repeat purchases counted on distinct
purchase days, recency and age in days, mean value of the repeat purchases)
and both models are fitted on them. The model then predicts each customer's
purchases in the holdout period, from the split to the end date, and the
prediction is compared with what she did, and with a naive baseline: as many
purchases as she made in the period of the same length just before the split.

Pure: arrays in, a :class:`Calibration` out. Days are whole days: float day
numbers are floored, datetimes taken at their date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sen.traits.clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma

DECILES = 10


@dataclass(frozen=True)
class Decile:
    """Customers ranked by the model's prediction: one tenth of them, and their
    mean predicted, actual and naive holdout purchases."""

    customers: int
    predicted: float
    actual: float
    naive: float


@dataclass(frozen=True, eq=False)
class Calibration:
    """The fitted models, the holdout comparison and the per-customer figures."""

    bgnbd: BgNbd
    gamma_gamma: GammaGamma | None  # None when nobody spent on a repeat purchase before the split
    horizon_days: float
    customer: np.ndarray  # the customers who bought before the split, by id
    history: tuple[np.ndarray, ...]  # their frequency, recency, age and mean repeat value
    predicted: np.ndarray  # holdout purchases: expected by the model,
    actual: np.ndarray  # made (distinct purchase days),
    naive: np.ndarray  # and made in the same length of time before the split
    predicted_value: np.ndarray  # holdout spend expected by both models, and made
    actual_value: np.ndarray
    deciles: tuple[Decile, ...]  # from the lowest predictions to the highest

    @property
    def errors(self) -> dict[str, float]:
        """Customer-level mean absolute and root mean square errors, model and naive."""
        model, naive = self.predicted - self.actual, self.naive - self.actual
        return {"mae_model": float(np.mean(np.abs(model))),
                "mae_naive": float(np.mean(np.abs(naive))),
                "rmse_model": float(np.sqrt(np.mean(model**2))),
                "rmse_naive": float(np.sqrt(np.mean(naive**2)))}

    @property
    def totals(self) -> dict[str, float]:
        """Holdout purchases and spend over all customers: predicted, actual, naive."""
        return {"predicted": float(self.predicted.sum()), "actual": float(self.actual.sum()),
                "naive": float(self.naive.sum()),
                "predicted_value": float(self.predicted_value.sum()),
                "actual_value": float(self.actual_value.sum())}

    def table(self) -> str:
        """The decile table as aligned text, one line per decile."""
        lines = [f"{'decile':>6} {'customers':>9} {'predicted':>9} {'actual':>9} {'naive':>9}"]
        lines += [f"{i:>6} {d.customers:>9,} {d.predicted:>9.3f} {d.actual:>9.3f} {d.naive:>9.3f}"
                  for i, d in enumerate(self.deciles, 1)]
        return "\n".join(lines)


def calibrate(customer: np.ndarray, day: np.ndarray, value: np.ndarray,
              split: object, end: object) -> Calibration:
    """Fit on purchases before ``split``, predict ``split`` to ``end``, compare.

    ``customer`` is an integer id per purchase, ``day`` its day (float day
    numbers, or dates as ``datetime64``), ``value`` its amount. ``split`` and
    ``end`` are days of the same kind (dates may also be ``datetime.date`` or
    ISO strings); the holdout is ``split <= day < end``. Purchases from
    ``end`` on are ignored.
    """
    customer = np.asarray(customer)
    if not np.issubdtype(customer.dtype, np.integer):
        raise ValueError("customer must be an integer id per purchase; map other keys "
                         "to integers first (np.unique(..., return_inverse=True))")
    days, split_day, end_day = _days(day), _day(split, day), _day(end, day)
    value = np.asarray(value, dtype=np.float64)
    if not len(customer) == len(days) == len(value):
        raise ValueError(f"one customer, day and value per purchase: got {len(customer)}, "
                         f"{len(days)} and {len(value)}")
    if split_day >= end_day:
        raise ValueError(f"the split ({split}) must come before the end of the holdout "
                         f"({end}); pass a split date earlier than the end date")
    ids, who, on, spent = _purchase_days(customer, days, value)
    horizon = end_day - split_day
    before = on < split_day
    cohort = np.unique(who[before])
    if len(cohort) == 0:
        raise ValueError(f"no customer bought before the split ({split}): nothing to fit; "
                         "choose a later split date, or check the purchase days")
    slot = np.full(len(ids), -1)
    slot[cohort] = np.arange(len(cohort))
    x, t_x, age, mean_value = _histories(slot[who[before]], on[before], spent[before],
                                         len(cohort), split_day)
    bgnbd = fit_bgnbd(x, t_x, age)
    spenders = (x > 0) & (mean_value > 0)
    gamma_gamma = fit_gamma_gamma(x, mean_value) if spenders.any() else None
    predicted = bgnbd.expected_purchases(horizon, x, t_x, age)
    in_cohort = slot[who] >= 0
    holdout = in_cohort & (on >= split_day) & (on < end_day)
    recent = in_cohort & (on >= split_day - horizon) & before
    actual = np.bincount(slot[who[holdout]], minlength=len(cohort)).astype(np.float64)
    naive = np.bincount(slot[who[recent]], minlength=len(cohort)).astype(np.float64)
    order_value = (gamma_gamma.expected_order_value(x, mean_value) if gamma_gamma
                   else np.zeros(len(cohort)))
    return Calibration(bgnbd, gamma_gamma, float(horizon), ids[cohort],
                       (x, t_x, age, mean_value), predicted, actual, naive,
                       predicted * order_value,
                       np.bincount(slot[who[holdout]], weights=spent[holdout],
                                   minlength=len(cohort)),
                       _deciles(predicted, actual, naive))


def _days(day: np.ndarray) -> np.ndarray:
    """Whole days as float: dates as days since 1970-01-01, numbers floored."""
    day = np.asarray(day)
    if np.issubdtype(day.dtype, np.datetime64):
        return day.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    if not np.issubdtype(day.dtype, np.number):
        raise ValueError("purchase days must be numbers of days or datetime64 dates")
    return np.floor(day.astype(np.float64))


def _day(when: object, day: np.ndarray) -> float:
    """``split`` or ``end`` as a whole day, of the same kind as the purchase days."""
    dated = np.issubdtype(np.asarray(day).dtype, np.datetime64)
    is_date = isinstance(when, str | dt.date | np.datetime64)
    if dated != is_date:
        raise ValueError("give the split and end dates in the same kind as the purchase days: "
                         "dates (datetime64, datetime.date or 'YYYY-MM-DD') for datetime64 "
                         "days, numbers for day numbers")
    return float(_days(np.datetime64(when, "D")) if dated else np.floor(float(when)))


def _purchase_days(customer: np.ndarray, days: np.ndarray,
                   value: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct (customer, day) purchases, sorted by customer then day, with the
    day's summed value: several orders on one day are one purchase."""
    ids, who = np.unique(customer, return_inverse=True)
    offset = days - days.min()
    key = who * (offset.max() + 1) + offset
    keys, index = np.unique(key, return_inverse=True)
    per_key = np.zeros(len(keys), np.int64)
    per_key[index] = np.arange(len(key))
    return ids, who[per_key], days[per_key], np.bincount(index, weights=value)


def _histories(who: np.ndarray, on: np.ndarray, spent: np.ndarray, customers: int,
               split: float) -> tuple[np.ndarray, ...]:
    """Frequency, recency, age and mean repeat value per customer, from her
    purchase days (sorted by customer, then day) before the split."""
    starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
    first, last = on[starts], on[np.r_[starts[1:], len(who)] - 1]
    x = np.bincount(who, minlength=customers).astype(np.float64) - 1
    repeat_spend = np.bincount(who, weights=spent, minlength=customers) - spent[starts]
    mean_value = np.divide(repeat_spend, x, out=np.zeros(customers), where=x > 0)
    return x, last - first, split - first, mean_value


def _deciles(predicted: np.ndarray, actual: np.ndarray, naive: np.ndarray) -> tuple[Decile, ...]:
    groups = np.array_split(np.argsort(predicted, kind="stable"), DECILES)
    return tuple(Decile(len(g), float(predicted[g].mean()), float(actual[g].mean()),
                        float(naive[g].mean())) for g in groups if len(g))
