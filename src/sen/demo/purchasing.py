"""Orders from a buy-till-you-die process, and their line items.

Each person makes a first purchase on their acquisition day; afterwards
purchases arrive as a Poisson process with their own rate ``lam`` in
*seasonal time* (so Tết and 11.11 are busy but a year still holds ``lam``
purchases on average), and after every purchase they drop out for good with
probability ``p_drop`` (BG/NBD). Given ``M`` arrivals in the horizon the arrival
times are uniform order statistics, which lets the whole population be drawn
at once: ``min(N - 1, M)`` repeat purchases with ``N ~ Geometric(p)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sen.demo import geo
from sen.demo.calendar import Calendar, minutes_of_day
from sen.demo.catalogue import CAT_CARE, CAT_MEN, CAT_SANDAL, CAT_WOMEN, Catalogue
from sen.demo.people import SPEND_P, People

STORE, WEB, APP, MARKET = range(4)
COMPLETED, REFUNDED, CANCELLED = range(3)
STATUSES = ("completed", "refunded", "cancelled")
# coupon code, discount (VND, or percent when < 100), channels it is used on
COUPONS = (
    ("", 0),
    ("VIP200K", 200_000),
    ("BDAY10", 10),
    ("WELCOME100K", 100_000),
    ("FREESHIP", 0),
    ("SALE15", 15),
    ("SHOPVELA50K", 50_000),
    ("LIVE30K", 30_000),
)
_COUPON_BY_CHANNEL = {
    STORE: ([0, 1, 2], [0.92, 0.05, 0.03]),
    WEB: ([0, 3, 4, 5], [0.75, 0.1, 0.08, 0.07]),
    APP: ([0, 3, 4, 5], [0.7, 0.12, 0.08, 0.1]),
    MARKET: ([0, 6, 7], [0.7, 0.2, 0.1]),
}
_STATUS_BY_CHANNEL = {
    STORE: [0.975, 0.025, 0.0],
    WEB: [0.94, 0.04, 0.02],
    APP: [0.94, 0.04, 0.02],
    MARKET: [0.92, 0.03, 0.05],
}
# category shares by gender: (men's shoes, women's shoes, sandals, bags, belts, care)
_CAT_FEMALE = [0.10, 0.42, 0.15, 0.25, 0.03, 0.05]
_CAT_MALE = [0.50, 0.06, 0.12, 0.10, 0.15, 0.07]


@dataclass(frozen=True)
class Orders:
    """Orders in the export window (order-level columns, sorted by time)."""

    person: np.ndarray
    ts: np.ndarray  # UTC epoch seconds
    channel: np.ndarray
    store: np.ndarray  # -1 when not fulfilled by a store
    platform: np.ndarray  # -1 unless a marketplace order
    status: np.ndarray
    coupon: np.ndarray  # index into COUPONS
    order_discount: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    status_ts: np.ndarray  # when it was refunded or cancelled (else = ts)
    seq: np.ndarray  # running number per channel family, for order ids

    @property
    def n(self) -> int:
        return len(self.person)


@dataclass(frozen=True)
class Lines:
    """Line items; ``order`` indexes :class:`Orders`."""

    order: np.ndarray
    sku: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    line_discount: np.ndarray


@dataclass(frozen=True)
class History:
    """Every purchase since acquisition, before the window too (compact)."""

    person: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    store: np.ndarray
    alive_at_end: np.ndarray  # per person


def purchase_history(rng: np.random.Generator, people: People, cal: Calendar) -> History:
    """All purchase days and channels of everyone (see the module docstring)."""
    acq = people.acq_day
    horizon = cal.cum[-1] - cal.cum[acq]
    m = rng.poisson(people.lam * horizon)
    n_total = rng.geometric(np.clip(people.p_drop, 1e-6, 1.0))
    k = np.minimum(n_total - 1, m)
    person = np.repeat(np.arange(people.n), m)
    u = cal.cum[acq][person] + rng.random(len(person)) * horizon[person]
    order = np.lexsort((u, person))
    person, u = person[order], u[order]
    start = np.cumsum(m) - m
    rank = np.arange(len(person)) - start[person]
    keep = rank < k[person]
    rep_person, rep_day = person[keep], cal.day_from_op_time(u[keep])
    all_person = np.concatenate([np.arange(people.n), rep_person])
    all_day = np.concatenate([acq, rep_day])
    o = np.lexsort((all_person, all_day))
    all_person, all_day = all_person[o], all_day[o]
    channel = _draw_rows(rng, people.channel_mix[all_person])
    store = _stores(rng, people, all_person, all_day, channel, cal)
    return History(all_person, all_day, channel, store, alive_at_end=n_total - 1 > m)


def _draw_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix."""
    cum = np.cumsum(probs, axis=1)
    return np.minimum((rng.random(len(probs))[:, None] > cum).sum(axis=1), probs.shape[1] - 1)


def _stores(
    rng: np.random.Generator,
    people: People,
    person: np.ndarray,
    day: np.ndarray,
    channel: np.ndarray,
    cal: Calendar,
) -> np.ndarray:
    """Home store mostly; sometimes another store; never one not yet open."""
    n = len(person)
    traffic = np.array([s[6] for s in geo.STORES])
    store = people.home_store[person].copy()
    away = rng.random(n) < 0.18
    store[away] = rng.choice(len(traffic), size=int(away.sum()), p=traffic / traffic.sum())
    opened = np.array(
        [
            cal.day_of(cal.history_start.replace(year=s[5])) if s[5] > cal.history_start.year else 0
            for s in geo.STORES
        ]
    )
    closed = opened[store] > day
    nearest = geo.nearest_store_matrix()[people.province[person[closed]]]
    ok = opened[nearest] <= day[closed][:, None]
    store[closed] = nearest[np.arange(len(nearest)), ok.argmax(axis=1)]
    click_collect = (channel == WEB) & (rng.random(n) < 0.1)
    return np.where((channel == STORE) | click_collect, store, -1)


def window_orders(
    rng: np.random.Generator, people: People, history: History, cal: Calendar
) -> Orders:
    """The purchases inside the export window, with times, statuses and coupons."""
    inside = history.day >= cal.window_first_day
    person, day = history.person[inside], history.day[inside]
    channel, store = history.channel[inside], history.store[inside]
    n = len(person)
    online = channel != STORE
    ts = cal.local_midnight_utc_s(day) + minutes_of_day(rng, online) * 60 + rng.integers(0, 60, n)
    order = np.argsort(ts, kind="stable")
    person, day, channel, store, ts = (
        person[order],
        day[order],
        channel[order],
        store[order],
        ts[order],
    )
    platform = np.where(
        channel == MARKET,
        np.where(rng.random(n) < 0.8, people.platform[person], rng.integers(0, 3, n)),
        -1,
    )
    status = np.empty(n, dtype=np.int64)
    coupon = np.empty(n, dtype=np.int64)
    for ch in range(4):
        mask = channel == ch
        status[mask] = rng.choice(3, size=int(mask.sum()), p=_STATUS_BY_CHANNEL[ch])
        codes, p = _COUPON_BY_CHANNEL[ch]
        coupon[mask] = rng.choice(codes, size=int(mask.sum()), p=p)
    end_s = cal.local_midnight_utc_s(np.array([cal.days]))[0] - 1
    status_ts = np.where(
        status == REFUNDED,
        ts + rng.integers(2, 21, n) * 86_400,
        np.where(status == CANCELLED, ts + rng.integers(600, 86_400, n), ts),
    )
    late = status_ts > end_s
    status[late], status_ts[late] = COMPLETED, ts[late]
    family = np.where(channel == STORE, 0, np.where(channel == MARKET, 2, 1))
    seq = np.zeros(n, dtype=np.int64)
    for f in range(3):
        mask = family == f
        seq[mask] = np.arange(int(mask.sum())) + 1
    zeros = np.zeros(n, dtype=np.int64)
    return Orders(
        person,
        ts,
        channel,
        store,
        platform,
        status,
        coupon,
        zeros.copy(),
        zeros.copy(),
        zeros.copy(),
        status_ts,
        seq,
    )


def order_lines(
    rng: np.random.Generator, people: People, orders: Orders, cat: Catalogue, cal: Calendar
) -> tuple[Orders, Lines]:
    """Line items of every order, then the order totals that follow from them.

    The order's value is drawn gamma-gamma style (shape ``SPEND_P``, the
    person's rate ``spend_nu``) and split across 1-3 lines; each line picks the
    product of the person's usual brand and size whose price is nearest.
    """
    n_lines = 1 + np.minimum(rng.poisson(0.25, orders.n), 2)
    value = rng.gamma(SPEND_P, 1 / people.spend_nu[orders.person])
    line_order = np.repeat(np.arange(orders.n), n_lines)
    person = orders.person[line_order]
    target = (value / n_lines)[line_order]
    sku = pick_skus(rng, people, person, target, cat)
    care = cat.style_cat[cat.sku_style[sku]] == CAT_CARE
    qty = np.where(rng.random(len(sku)) < 0.35 * care + 0.03, 2, 1)
    unit = cat.style_price[cat.sku_style[sku]]
    day = np.clip(cal.day_of_ts(orders.ts[line_order]), 0, cal.days - 1)
    marked = rng.random(len(sku)) < cal.sale_share[day]
    disc = np.where(marked, np.round(unit * qty * cal.markdown[day] / 1000) * 1000, 0).astype(
        np.int64
    )
    lines = Lines(line_order, sku, qty, unit, disc)
    return _with_totals(rng, orders, lines), lines


def pick_skus(
    rng: np.random.Generator, people: People, person: np.ndarray, target: np.ndarray, cat: Catalogue
) -> np.ndarray:
    """A SKU per row: usual brand, a category for the gender, nearest price, own size."""
    n = len(person)
    female = people.female[person]
    brand = np.where(
        rng.random(n) < people.brand_loyalty[person],
        people.fav_brand[person],
        1 - people.fav_brand[person],
    )
    category = np.where(female, rng.choice(6, n, p=_CAT_FEMALE), rng.choice(6, n, p=_CAT_MALE))
    style = np.empty(n, dtype=np.int64)
    for b in (0, 1):
        for c in range(6):
            mask = (brand == b) & (category == c)
            styles = np.flatnonzero((cat.style_brand == b) & (cat.style_cat == c))
            styles = styles[np.argsort(cat.style_price[styles], kind="stable")]
            pos = np.searchsorted(cat.style_price[styles], target[mask])
            pos = np.clip(pos + rng.integers(-2, 3, int(mask.sum())), 0, len(styles) - 1)
            style[mask] = styles[pos]
    n_col = (cat.style_colours[style] >= 0).sum(axis=1)
    slot = (rng.random(n) * n_col).astype(np.int64)
    return cat.lookup[style, slot, _size_slot(rng, people, person, category, cat)]


def _size_slot(
    rng: np.random.Generator,
    people: People,
    person: np.ndarray,
    category: np.ndarray,
    cat: Catalogue,
) -> np.ndarray:
    """Own size nine times in ten (±1 otherwise); gifts for the other gender get a typical size."""
    own = people.shoe_size[person] + np.where(
        rng.random(len(person)) < 0.9, 0, rng.choice([-1, 1], len(person))
    )
    gift = (category == CAT_WOMEN) & ~people.female[person] | (category == CAT_MEN) & people.female[
        person
    ]
    typical = np.where(
        category == CAT_WOMEN, rng.integers(36, 39, len(person)), rng.integers(40, 43, len(person))
    )
    size = np.where(gift, typical, own)
    rng_ = cat.size_range[category]
    size = np.clip(size, rng_[:, 0], rng_[:, 1])
    sized = np.isin(category, [CAT_MEN, CAT_WOMEN, CAT_SANDAL])
    return np.where(sized, size - 34, 0)


def _with_totals(rng: np.random.Generator, orders: Orders, lines: Lines) -> Orders:
    """Order discount from the coupon, shipping for small online orders, the total."""
    gross = np.bincount(
        lines.order,
        weights=lines.unit_price * lines.quantity - lines.line_discount,
        minlength=orders.n,
    ).astype(np.int64)
    amount = np.array([c[1] for c in COUPONS])[orders.coupon]
    discount = np.where(amount < 100, np.round(gross * amount / 100 / 1000) * 1000, amount)
    discount = np.minimum(discount, gross // 2).astype(np.int64)
    online = orders.channel != STORE
    free = (np.array([c[0] for c in COUPONS])[orders.coupon] == "FREESHIP") | (gross >= 1_500_000)
    fee = np.where(
        orders.channel == MARKET, rng.choice([0, 15_000, 22_000, 30_000], orders.n), 30_000
    )
    shipping = np.where(online & ~free, fee, 0).astype(np.int64)
    return replace(
        orders, order_discount=discount, shipping=shipping, total=gross - discount + shipping
    )
