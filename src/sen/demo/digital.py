"""Web and app behaviour as a compact event frame (numbers, not JSON).

Sessions come from three places: the session that ends in each web or app
order, browsing sessions of people with a digital habit while they are
active, and visitors who are never customers. A session is a fixed script
(home, product views, maybe cart, maybe login and checkout, maybe the order)
expanded with ``np.repeat``. Devices carry the anonymous id; after the first
login on a device every later event there carries the user id as well, as
analytics libraries do. The frame is rendered to Segment JSON by ``render``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sen.demo.calendar import Calendar, minutes_of_day
from sen.demo.catalogue import Catalogue
from sen.demo.people import People
from sen.demo.purchasing import APP, CANCELLED, REFUNDED, WEB, History, Lines, Orders, pick_skus

KINDS = (
    "page",
    "screen",
    "identify",
    "alias",
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    "Order Refunded",
    "Order Cancelled",
)
(
    K_PAGE,
    K_SCREEN,
    K_IDENTIFY,
    K_ALIAS,
    K_VIEWED,
    K_ADDED,
    K_CHECKOUT,
    K_ORDER,
    K_REFUND,
    K_CANCEL,
) = range(10)
PLATFORMS = ("web_desktop", "web_mobile", "ios", "android")
P_HOME, P_PRODUCT, P_CHECKOUT = range(3)
# What an identify event is: a login, the sign-up form, or the account page's consent boxes.
F_LOGIN, F_SIGNUP, F_SETTINGS = range(3)
DUPLICATE_SHARE = 0.005
SKEWED_DEVICE_SHARE = 0.03
VISITORS_PER_CUSTOMER = 0.5


@dataclass(frozen=True)
class Devices:
    """Browsers and app installs; ``person`` is -1 for visitors who never buy."""

    person: np.ndarray
    platform: np.ndarray
    push: np.ndarray
    skew_ms: np.ndarray


@dataclass(frozen=True)
class EventFrame:
    """One row per delivered event, in delivery (``received_ms``) order."""

    kind: np.ndarray
    device: np.ndarray
    person: np.ndarray
    with_user: np.ndarray
    sku: np.ndarray
    order: np.ndarray
    page: np.ndarray
    ts_ms: np.ndarray  # as the device wrote it (skewed clocks included)
    sent_ms: np.ndarray  # device clock
    received_ms: np.ndarray  # server clock
    message: np.ndarray  # index of the messageId; duplicates repeat it
    true_ms: np.ndarray
    form: np.ndarray  # F_LOGIN, F_SIGNUP or F_SETTINGS (identify events; 0 otherwise)

    @property
    def n(self) -> int:
        return len(self.kind)


def build_devices(
    rng: np.random.Generator, people: People, orders: Orders
) -> tuple[Devices, np.ndarray]:
    """1-3 devices per digital person plus one per visitor; returns the devices and,
    per person, the index of their first device (web) — their app is the next one."""
    ordered_online = np.zeros(people.n, dtype=bool)
    ordered_online[orders.person[(orders.channel == WEB) | (orders.channel == APP)]] = True
    has_app = np.zeros(people.n, dtype=bool)
    has_app[orders.person[orders.channel == APP]] = True
    digital = people.digital | ordered_online
    person = np.flatnonzero(digital)
    k = 1 + (rng.random(len(person)) < 0.45) + (rng.random(len(person)) < 0.15)
    k = np.where(has_app[person], np.maximum(k, 2), k)
    dev_person = np.repeat(person, k)
    slot = np.arange(len(dev_person)) - np.repeat(np.cumsum(k) - k, k)
    mobile_web = rng.random(len(dev_person)) < 0.6
    app_os = np.where(rng.random(len(dev_person)) < 0.35, 2, 3)
    platform = np.where(slot == 1, app_os, np.where(mobile_web, 1, 0))
    n_vis = int(people.n * VISITORS_PER_CUSTOMER)
    vis_platform = np.where(rng.random(n_vis) < 0.65, 1, 0)
    all_person = np.concatenate([dev_person, np.full(n_vis, -1)])
    all_platform = np.concatenate([platform, vis_platform])
    n = len(all_person)
    push = np.where(all_platform >= 2, rng.random(n) < 0.55, rng.random(n) < 0.08)
    skew = np.where(
        rng.random(n) < SKEWED_DEVICE_SHARE,
        rng.choice([-1, 1], n) * rng.integers(300, 3 * 3600, n) * 1000,
        0,
    )
    first = np.full(people.n, -1)
    first[person] = np.cumsum(k) - k
    return Devices(all_person, all_platform, push, skew), first


@dataclass(frozen=True)
class Sessions:
    person: np.ndarray  # -1 for visitors
    device: np.ndarray
    end_ms: np.ndarray  # when the last scripted event happens
    order: np.ndarray  # -1 unless the session ends in this order
    views: np.ndarray
    added: np.ndarray
    login: np.ndarray
    checkout: np.ndarray
    gap_ms: np.ndarray


def build_sessions(
    rng: np.random.Generator,
    people: People,
    history: History,
    orders: Orders,
    devices: Devices,
    first_device: np.ndarray,
    cal: Calendar,
) -> Sessions:
    """Order sessions, browsing sessions and visitor sessions, scripted."""
    online = np.flatnonzero((orders.channel == WEB) | (orders.channel == APP))
    o_person = orders.person[online]
    o_device = first_device[o_person] + (orders.channel[online] == APP)
    b_person, b_ms = _browse_times(rng, people, history, first_device, cal)
    n_dev = np.bincount(devices.person[devices.person >= 0], minlength=people.n)
    b_device = first_device[b_person] + (rng.random(len(b_person)) * n_dev[b_person]).astype(int)
    visitors = np.flatnonzero(devices.person < 0)
    v_count = 1 + rng.poisson(0.3, len(visitors))
    v_device = np.repeat(visitors, v_count)
    v_ms = _times(rng, cal, len(v_device), cal.window_first_day, cal.days)
    person = np.concatenate([o_person, b_person, np.full(len(v_device), -1)])
    device = np.concatenate([o_device, b_device, v_device])
    end_ms = np.concatenate([orders.ts[online] * 1000, b_ms, v_ms])
    order = np.concatenate([online, np.full(len(b_person) + len(v_device), -1)])
    n, is_order = len(person), order >= 0
    added = is_order | (rng.random(n) < 0.25)
    checkout = is_order | added & (rng.random(n) < 0.45)
    login = (person >= 0) & (is_order | checkout | (rng.random(n) < 0.08))
    return Sessions(
        person,
        device,
        end_ms,
        order,
        1 + np.minimum(rng.poisson(0.9, n), 4),
        added,
        login,
        checkout,
        rng.integers(15_000, 90_000, n),
    )


def _browse_times(
    rng: np.random.Generator,
    people: People,
    history: History,
    first_device: np.ndarray,
    cal: Calendar,
) -> tuple[np.ndarray, np.ndarray]:
    """Browsing sessions while a person is a live customer, at about
    ``0.5 + lam`` a year: people who buy more also browse more."""
    last = np.full(people.n, -1)
    np.maximum.at(last, history.person, history.day)
    active_to = np.where(history.alive_at_end, cal.days - 1, np.minimum(last + 60, cal.days - 1))
    start = np.maximum(people.acq_day, cal.window_first_day)
    live = (first_device >= 0) & people.digital & (active_to > start)
    person = np.flatnonzero(live)
    c0, c1 = cal.cum[start[person]], cal.cum[active_to[person]]
    count = rng.poisson((0.5 + 1.0 * people.lam[person]) * (c1 - c0))
    who = np.repeat(person, count)
    op = np.repeat(c0, count) + rng.random(len(who)) * np.repeat(c1 - c0, count)
    day = cal.day_from_op_time(op)
    ms = (cal.local_midnight_utc_s(day) + minutes_of_day(rng, np.ones(len(day), bool)) * 60) * 1000
    return who, ms + rng.integers(0, 60_000, len(who))


def _times(rng: np.random.Generator, cal: Calendar, n: int, first: int, stop: int) -> np.ndarray:
    """Seasonally weighted online times (UTC ms) between two day indices."""
    w = cal.weight[first:stop]
    day = first + rng.choice(len(w), size=n, p=w / w.sum())
    secs = cal.local_midnight_utc_s(day) + minutes_of_day(rng, np.ones(n, bool)) * 60
    return secs * 1000 + rng.integers(0, 60_000, n)


def build_events(
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    lines: Lines,
    cat: Catalogue,
    devices: Devices,
    sessions: Sessions,
) -> EventFrame:
    """Expand the session scripts into events, then deliver them (late, twice, skewed)."""
    s = sessions
    is_order = s.order >= 0
    b1 = 1 + 2 * s.views
    b2 = b1 + s.added
    b3 = b2 + s.login
    b4 = b3 + 2 * s.checkout
    n_ev = b4 + is_order
    sess = np.repeat(np.arange(len(n_ev)), n_ev)
    pos = np.arange(len(sess)) - np.repeat(np.cumsum(n_ev) - n_ev, n_ev)
    app = devices.platform[s.device[sess]] >= 2
    view_kind = np.where(pos % 2 == 1, np.where(app, K_SCREEN, K_PAGE), K_VIEWED)
    checkout_kind = np.where(pos == b3[sess], np.where(app, K_SCREEN, K_PAGE), K_CHECKOUT)
    kind = np.select(
        [pos == 0, pos < b1[sess], pos < b2[sess], pos < b3[sess], pos < b4[sess]],
        [np.where(app, K_SCREEN, K_PAGE), view_kind, K_ADDED, K_IDENTIFY, checkout_kind],
        K_ORDER,
    )
    page = np.select([pos == 0, pos < b1[sess]], [P_HOME, P_PRODUCT], P_CHECKOUT)
    sku = _session_skus(rng, people, orders, lines, cat, s)
    view_no = np.minimum((pos - 1) // 2, s.views[sess] - 1)
    first_view = np.cumsum(s.views) - s.views
    ev_sku = sku[first_view[sess] + np.maximum(view_no, 0)]
    shows_product = (page == P_PRODUCT) | (kind == K_ADDED) | (kind == K_CHECKOUT)
    ev_sku = np.where(shows_product, ev_sku, -1)
    steps_left = n_ev[sess] - 1 - pos
    jitter = (rng.random(len(sess)) * s.gap_ms[sess] / 3).astype(np.int64) * (steps_left > 0)
    true_ms = s.end_ms[sess] - steps_left * s.gap_ms[sess] - jitter
    frame = _Frame(
        kind,
        s.device[sess],
        s.person[sess],
        ev_sku,
        np.where(kind == K_ORDER, s.order[sess], -1),
        page,
        true_ms,
        sess,
    )
    frame = frame.plus(_after_sale(orders, s))
    frame = frame.plus(_aliases(rng, devices, frame))
    return _deliver(rng, devices, frame, len(s.person))


@dataclass(frozen=True)
class _Frame:
    """Scripted events before delivery."""

    kind: np.ndarray
    device: np.ndarray
    person: np.ndarray
    sku: np.ndarray
    order: np.ndarray
    page: np.ndarray
    true_ms: np.ndarray
    session: np.ndarray

    def plus(self, other: _Frame) -> _Frame:
        return _Frame(
            *(
                np.concatenate([getattr(self, f), getattr(other, f)])
                for f in self.__dataclass_fields__
            )
        )


def _session_skus(
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    lines: Lines,
    cat: Catalogue,
    s: Sessions,
) -> np.ndarray:
    """The products viewed in each session, by the viewer's taste; an order session's
    last view is the first item the person then bought."""
    owner = np.repeat(s.person, s.views)
    twins = rng.integers(0, people.n, len(owner))  # visitors browse like a random customer
    taste = np.where(owner >= 0, owner, twins)
    target = rng.gamma(4.0, 1 / people.spend_nu[taste])
    sku = pick_skus(rng, people, taste, target, cat)
    last_view = np.cumsum(s.views) - 1
    first_line = np.searchsorted(lines.order, np.arange(orders.n))
    ordered = s.order >= 0
    sku[last_view[ordered]] = lines.sku[first_line[s.order[ordered]]]
    return sku


def _after_sale(orders: Orders, s: Sessions) -> _Frame:
    """Order Refunded / Order Cancelled on the device the order was placed from."""
    idx = np.flatnonzero(s.order >= 0)
    o = s.order[idx]
    st = orders.status[o]
    keep = (st == REFUNDED) | (st == CANCELLED)
    idx, o, st = idx[keep], o[keep], st[keep]
    kind = np.where(st == REFUNDED, K_REFUND, K_CANCEL)
    n = len(o)
    return _Frame(
        kind,
        s.device[idx],
        s.person[idx],
        np.full(n, -1),
        o,
        np.zeros(n, np.int64),
        orders.status_ts[o] * 1000,
        idx,
    )


def _aliases(rng: np.random.Generator, devices: Devices, f: _Frame) -> _Frame:
    """An alias right after the first login on 30% of app installs."""
    ident = np.flatnonzero(f.kind == K_IDENTIFY)
    order = np.lexsort((f.true_ms[ident], f.device[ident]))
    ident = ident[order]
    first = ident[np.r_[True, f.device[ident][1:] != f.device[ident][:-1]]] if len(ident) else ident
    pick = first[(devices.platform[f.device[first]] >= 2) & (rng.random(len(first)) < 0.3)]
    n = len(pick)
    return _Frame(
        np.full(n, K_ALIAS),
        f.device[pick],
        f.person[pick],
        np.full(n, -1),
        np.full(n, -1),
        np.zeros(n, np.int64),
        f.true_ms[pick] + 400,
        f.session[pick],
    )


def _deliver(rng: np.random.Generator, devices: Devices, f: _Frame, n_sessions: int) -> EventFrame:
    """userId after the device's first login; network and batching delays; a few
    offline app sessions flushed hours later; skewed device clocks; duplicates."""
    n = len(f.kind)
    first_login = np.full(len(devices.person), np.iinfo(np.int64).max)
    ident = f.kind == K_IDENTIFY
    np.minimum.at(first_login, f.device[ident], f.true_ms[ident])
    with_user = (f.person >= 0) & (f.true_ms >= first_login[f.device])
    app = devices.platform[f.device] >= 2
    offline = (rng.random(n_sessions) < 0.04)[f.session] & app
    delay = np.where(app, rng.integers(1_000, 30_000, n), rng.integers(50, 1_500, n))
    delay = np.where(offline, rng.integers(3_600_000, 48 * 3_600_000, n), delay)
    skew = devices.skew_ms[f.device]
    received = f.true_ms + delay + rng.integers(20, 400, n)
    message = np.arange(n)
    dup = np.flatnonzero(rng.random(n) < DUPLICATE_SHARE)
    take = np.concatenate([message, dup])
    received = np.concatenate([received, received[dup] + rng.integers(1_000, 120_000, len(dup))])
    order = np.argsort(received, kind="stable")
    take = take[order]
    true_ms = f.true_ms[take]
    return EventFrame(
        kind=f.kind[take],
        device=f.device[take],
        person=f.person[take],
        with_user=with_user[take],
        sku=f.sku[take],
        order=f.order[take],
        page=f.page[take],
        ts_ms=true_ms + skew[take],
        sent_ms=true_ms + delay[take] + skew[take],
        received_ms=received[order],
        message=take,
        true_ms=true_ms,
        form=np.zeros(len(take), dtype=np.int8),
    )
