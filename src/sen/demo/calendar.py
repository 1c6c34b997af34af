"""The retail calendar: seasonal demand, sale markdowns and times of day.

Vietnamese footwear retail peaks in the fortnight before Tết, on Women's Days
(8/3 and 20/10) and on the marketplace double days (11.11, 12.12) and Black
Friday, and nearly stops during the Tết holiday itself. Demand is a daily
weight with mean 1, so a purchase rate "per year" keeps its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

LOCAL_OFFSET_S = 7 * 3600  # Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving)
HISTORY_YEARS = 8  # customers acquired before the export window start this far back

# First day of the lunar new year (Tết Nguyên Đán).
TET = {
    2014: date(2014, 1, 31),
    2015: date(2015, 2, 19),
    2016: date(2016, 2, 8),
    2017: date(2017, 1, 28),
    2018: date(2018, 2, 16),
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Calendar:
    """Days from ``history_start`` to ``end`` with demand weights and markdowns.

    Day ``i`` is ``history_start + i``; ``window_start`` is the first exported
    day. ``cum`` is the cumulative demand at the end of each day, in units of
    average days, used to turn a homogeneous Poisson process into a seasonal
    one.
    """

    history_start: date
    window_start: date
    end: date
    weight: np.ndarray
    markdown: np.ndarray  # typical markdown rate of marked-down items that day
    sale_share: np.ndarray  # share of lines marked down that day
    cum: np.ndarray

    @property
    def days(self) -> int:
        return len(self.weight)

    @property
    def window_first_day(self) -> int:
        return (self.window_start - self.history_start).days

    def day_of(self, d: date) -> int:
        return (d - self.history_start).days

    def local_midnight_utc_s(self, day_idx: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of local midnight starting each day index."""
        base = (self.history_start - EPOCH).days
        return (np.asarray(day_idx, dtype=np.int64) + base) * 86_400 - LOCAL_OFFSET_S

    def day_of_ts(self, ts: np.ndarray) -> np.ndarray:
        """The local day index of UTC epoch seconds."""
        base = (self.history_start - EPOCH).days
        return (np.asarray(ts) + LOCAL_OFFSET_S) // 86_400 - base

    def day_from_op_time(self, op: np.ndarray) -> np.ndarray:
        """The day in which cumulative demand reaches ``op``."""
        return np.minimum(np.searchsorted(self.cum, op, side="left"), self.days - 1)


def window_start_for(end: date, years: int) -> date:
    """The first day of an export of ``years`` years ending on ``end``."""
    try:
        back = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        back = end.replace(year=end.year - years, day=28)
    return back + timedelta(days=1)


def build_calendar(end: date, years: int) -> Calendar:
    """The demand calendar from ``HISTORY_YEARS`` before the window to ``end``."""
    window_start = window_start_for(end, years)
    history_start = window_start_for(window_start - timedelta(days=1), HISTORY_YEARS)
    n = (end - history_start).days + 1
    days = [history_start + timedelta(days=i) for i in range(n)]
    weight = np.array([_day_weight(d) for d in days])
    weight *= n / weight.sum()
    sale = [_sale(d) for d in days]
    markdown = np.array([s[0] for s in sale])
    share = np.array([s[1] for s in sale])
    return Calendar(
        history_start, window_start, end, weight, markdown, share, np.cumsum(weight) / 365.25
    )


def _day_weight(d: date) -> float:
    """Relative demand of one day; why each factor: see the module docstring."""
    w = 1.35 if d.weekday() >= 5 else 1.0
    tet = TET.get(d.year) if d.month < 4 else TET.get(d.year + 1)
    if tet is not None:
        before = (tet - d).days
        if 1 <= before <= 14:
            w *= 2.2
        elif -4 <= before <= 0:
            w *= 0.3
    if d.month == 3 and 5 <= d.day <= 8 or d.month == 10 and 17 <= d.day <= 20:
        w *= 1.8
    if (d.month, d.day) in {(11, 11), (12, 12)}:
        w *= 2.6
    black_friday = _black_friday(d.year)
    if d == black_friday:
        w *= 2.6
    elif 1 <= (d - black_friday).days <= 3:
        w *= 1.5
    if d.month == 12 and 20 <= d.day <= 25:
        w *= 1.3
    return w


def _black_friday(year: int) -> date:
    """The fourth Friday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 21)


def _sale(d: date) -> tuple[float, float]:
    """(markdown rate, share of lines marked down) on a given day."""
    if d == _black_friday(d.year) or 1 <= (d - _black_friday(d.year)).days <= 3:
        return 0.30, 0.6
    if (d.month, d.day) in {(11, 11), (12, 12)}:
        return 0.20, 0.6
    if d.month in (1, 7) and d.day >= 10:  # end-of-season sales
        return 0.30, 0.4
    if d.month == 3 and 5 <= d.day <= 8 or d.month == 10 and 17 <= d.day <= 20:
        return 0.15, 0.3
    return 0.40, 0.05  # clearance of old-season items


# Minute-of-day profiles: stores open 9:00-22:00 with an evening peak; people
# shop online from early morning to past midnight, most after dinner.
_STORE_HOURS = np.array([0] * 9 + [2, 4, 6, 6, 5, 5, 6, 7, 8, 10, 12, 11, 6] + [0, 0], float)
_ONLINE_HOURS = np.array(
    [2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4, 5, 6, 5, 4, 4, 4, 5, 6, 8, 10, 11, 9, 5], float
)


def minutes_of_day(rng: np.random.Generator, online: np.ndarray) -> np.ndarray:
    """Minute of the local day for each event: store or online profile."""
    n = len(online)
    out = np.empty(n, dtype=np.int64)
    for mask, profile in ((~online, _STORE_HOURS), (online, _ONLINE_HOURS)):
        k = int(mask.sum())
        hours = rng.choice(24, size=k, p=profile / profile.sum())
        out[mask] = hours * 60 + rng.integers(0, 60, size=k)
    return out
