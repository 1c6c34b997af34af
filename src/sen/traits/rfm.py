"""RFM: recency, frequency and monetary scores from 1 to 5, and the named groups.

Pure functions over numpy arrays. Cut points are the buyers' quintiles unless
the retailer fixes them (:class:`sen.traits.config.RfmRules`); a value equal to
a cut point scores with the values below it, so equal customers always score
alike. Recency is in days, so fewer days scores higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sen.traits.config import RfmGroup, RfmRules

QUINTILES = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True)
class RfmCuts:
    """The four cut points of each measure, kept between full refreshes."""

    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def as_dict(self) -> dict[str, list[float]]:
        return {"recency": list(self.recency), "frequency": list(self.frequency),
                "monetary": list(self.monetary)}

    @classmethod
    def from_dict(cls, data: dict[str, Sequence[float]]) -> RfmCuts:
        return cls(*(tuple(float(v) for v in data[k])
                     for k in ("recency", "frequency", "monetary")))


def quintile_cuts(values: np.ndarray) -> tuple[float, ...]:
    """The 20/40/60/80 % points of ``values`` (all zeros when there are none)."""
    if len(values) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return tuple(float(q) for q in np.quantile(values.astype(np.float64), QUINTILES))


def cuts_for(rules: RfmRules, recency: np.ndarray, frequency: np.ndarray,
             monetary: np.ndarray) -> RfmCuts:
    """Fixed cut points where the rules give them, else the buyers' quintiles."""
    return RfmCuts(
        tuple(rules.recency_cuts) if rules.recency_cuts else quintile_cuts(recency),
        tuple(rules.frequency_cuts) if rules.frequency_cuts else quintile_cuts(frequency),
        tuple(rules.monetary_cuts) if rules.monetary_cuts else quintile_cuts(monetary),
    )


def score(values: np.ndarray, cuts: Sequence[float], *, lower_is_better: bool = False
          ) -> np.ndarray:
    """1-5: one plus the number of cut points a value is above (reversed for recency)."""
    above = np.searchsorted(np.asarray(cuts, dtype=np.float64),
                            values.astype(np.float64), side="left")
    scores = (1 + above).astype(np.int8)
    return (6 - scores).astype(np.int8) if lower_is_better else scores


def fm_score(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The mean of F and M rounded half up: the grid's second axis."""
    return ((f.astype(np.int16) + m.astype(np.int16) + 1) // 2).astype(np.int8)


def groups(r: np.ndarray, fm: np.ndarray, rules: Sequence[RfmGroup]) -> np.ndarray:
    """The first group whose R and FM ranges hold each customer (None if none does)."""
    names = np.array([g.name for g in rules] + [None], dtype=object)
    pick = np.full(len(r), len(rules), dtype=np.int64)
    for i in range(len(rules) - 1, -1, -1):
        g = rules[i]
        hit = (r >= g.r[0]) & (r <= g.r[1]) & (fm >= g.fm[0]) & (fm <= g.fm[1])
        pick[hit] = i
    return names[pick]


@dataclass(frozen=True)
class RfmScores:
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    group: np.ndarray

    @property
    def code(self) -> np.ndarray:
        """'545'-style codes, as marketers write them."""
        return np.char.add(np.char.add(self.r.astype(str), self.f.astype(str)),
                           self.m.astype(str))


def rfm(recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray,
        cuts: RfmCuts, rules: RfmRules) -> RfmScores:
    """Scores and group of each buyer."""
    r = score(recency_days, cuts.recency, lower_is_better=True)
    f = score(frequency, cuts.frequency)
    m = score(monetary, cuts.monetary)
    return RfmScores(r, f, m, groups(r, fm_score(f, m), rules.groups))
