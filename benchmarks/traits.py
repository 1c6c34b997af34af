"""Built-in traits: the time to compute every one for all customers.

    python benchmarks/traits.py --scale small|full [--store PATH] [--rebuild] [--build-only]

Builds a store shaped like the synthetic retailer (10k customers and 100k
order lines for ``small``, 1M customers and 10M order lines for ``full``),
then times :func:`sen.traits.runner.refresh` on it, opened fresh each run
(best of ``--runs``; a single run when the first one takes over two minutes).
``traits_s`` is that run's wall time; ``traits_cpu_s`` its CPU time over all
threads, which other work on a shared machine inflates much less.

The demo generator's customers buy about 1.6 lines each over two years, so
10M lines would need six million people; here the store's tables are written
directly instead, deterministically from the seed, from the retailer's own
people (:func:`sen.demo.people.build_people`), stores, catalogue, calendar and
SKU choice, with more orders per customer:

* 20% of customers with no order in the window; the others buy from a
  heavy-tailed distribution (a third once, a few dozen times for some), about
  2.7 lines an order, the total cut to exactly the scale's lines;
* orders spread in seasonal time between a first purchase and, for 45% of
  customers, a dropout; channel from each person's mix (about 65% store, 15%
  web, 8% app, 12% marketplace); status 94% completed, 4% refunded, 2%
  cancelled; prices, markdowns, coupons and shipping as the demo draws them;
* golden records (``profiles``) and 1-3 records per profile in
  ``identity_profiles``: a POS customer (``u:KH…``) for store buyers, a web/app
  account (``u:U…``) for online ones, a marketplace buyer (``a:shopee:…``), a
  browser (``a:<uuid>``); each order's ``user_id``/``anonymous_id`` names one of
  its profile's records;
* half an engagement event per customer (``Message Opened`` / ``Message
  Clicked`` with a channel and a campaign) over the last six months.

The store is kept at ``/tmp/sen-bench-traits-<scale>.duckdb`` and reused while
its recorded shape matches (``--rebuild`` forces a new one), so repeated runs
only measure the traits. Ends with one line of JSON (figure names fixed in
shared/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import codes, geo, names, phones, pos, purchasing, render
from sen.demo.calendar import Calendar, build_calendar, minutes_of_day
from sen.demo.catalogue import CAT_CARE, Catalogue, build_catalogue
from sen.demo.people import CHANNELS, PLATFORMS, SPEND_P, People, build_people
from sen.demo.seeds import rng_for
from sen.identity.extract import record_key
from sen.store.analytics import DuckDBEngine, open_engine

SCALES = {"small": (10_000, 100_000), "full": (1_000_000, 10_000_000)}
TARGET_S = 60
SEED = 42
END = date(2026, 10, 31)
AS_OF = datetime(2026, 10, 31, 17, 0)  # local midnight after the last day, in UTC
BUYERS = 0.8
LINES_PER_ORDER = 2.7
ORDERS_SHAPE = 0.6  # negative binomial shape of repeat orders: small = heavier tail
ALIVE = 0.55
STATUS_MIX = (0.94, 0.04, 0.02)
MESSAGES_PER_CUSTOMER = 0.5
MESSAGE_CHANNELS = ("sms", "zalo", "email", "push")
VERSION = "1"
STORE, WEB, APP, MARKET = purchasing.STORE, purchasing.WEB, purchasing.APP, purchasing.MARKET
FAMILY = ("HD", "ON", "MP")  # order-id prefixes: store, web and app, marketplace
SOURCES = ("pos", "web", "app", "marketplace")


@dataclass(frozen=True)
class Records:
    """Which records each person's profile holds (at least one, at most three)."""

    pos: np.ndarray
    account: np.ndarray
    market: np.ndarray
    browser: np.ndarray

    @property
    def identified(self) -> np.ndarray:
        return self.pos | self.account


# ---------------------------------------------------------------- drawing


def draw_orders(
    rng: np.random.Generator, people: People, cal: Calendar, lines_target: int
) -> tuple[purchasing.Orders, np.ndarray]:
    """Orders of 80% of people, heavy-tailed per person, sorted by time; and their days."""
    n = people.n
    buyers = np.flatnonzero(rng.random(n) < BUYERS)
    extra = lines_target / LINES_PER_ORDER / len(buyers) - 1
    k = 1 + rng.negative_binomial(ORDERS_SHAPE, ORDERS_SHAPE / (ORDERS_SHAPE + extra), len(buyers))
    # First purchase and end of activity in seasonal time; orders uniform between.
    w0, w1 = cal.cum[cal.window_first_day - 1], cal.cum[-1]
    first = w0 + rng.random(len(buyers)) * (w1 - w0)
    last = np.where(rng.random(len(buyers)) < ALIVE, w1,
                    first + rng.random(len(buyers)) * (w1 - first))
    person = np.repeat(buyers, k)
    start = np.repeat(np.cumsum(k) - k, k)
    op = np.repeat(first, k) + rng.random(len(person)) * np.repeat(last - first, k)
    op[start == np.arange(len(person))] = first
    day = np.clip(cal.day_from_op_time(op), cal.window_first_day, cal.days - 1)
    channel = purchasing._draw_rows(rng, people.channel_mix[person])
    store = purchasing._stores(rng, people, person, day, channel, cal)
    online = channel != STORE
    ts = cal.local_midnight_utc_s(day) + minutes_of_day(rng, online) * 60 \
        + rng.integers(0, 60, len(person))
    o = np.argsort(ts, kind="stable")
    person, day, channel, store, ts = person[o], day[o], channel[o], store[o], ts[o]
    m = len(person)
    coupon = np.empty(m, dtype=np.int64)
    for ch, (choices, p) in purchasing._COUPON_BY_CHANNEL.items():
        mask = channel == ch
        coupon[mask] = rng.choice(choices, size=int(mask.sum()), p=p)
    family = np.where(channel == STORE, 0, np.where(channel == MARKET, 2, 1))
    seq = np.zeros(m, dtype=np.int64)
    for f in range(3):
        mask = family == f
        seq[mask] = np.arange(int(mask.sum())) + 1
    zeros = np.zeros(m, dtype=np.int64)
    orders = purchasing.Orders(
        person, ts, channel, store, np.where(channel == MARKET, people.platform[person], -1),
        rng.choice(3, size=m, p=STATUS_MIX), coupon, zeros, zeros, zeros, ts, seq)
    return orders, day


def draw_lines(
    rng: np.random.Generator, people: People, orders: purchasing.Orders, day: np.ndarray,
    cat: Catalogue, cal: Calendar, lines_target: int,
) -> tuple[purchasing.Orders, purchasing.Lines]:
    """About 2.7 lines an order (exactly ``lines_target`` in all), SKUs as the demo picks them."""
    n_lines = 1 + rng.poisson(LINES_PER_ORDER - 1, orders.n)
    gap = lines_target - int(n_lines.sum())
    if gap > 0:
        n_lines[rng.choice(orders.n, size=gap, replace=False)] += 1
    elif gap < 0:
        n_lines[rng.choice(np.flatnonzero(n_lines > 1), size=-gap, replace=False)] -= 1
    order = np.repeat(np.arange(orders.n), n_lines)
    person = orders.person[order]
    sku = purchasing.pick_skus(rng, people, person,
                               rng.gamma(SPEND_P, 1 / people.spend_nu[person]), cat)
    care = cat.style_cat[cat.sku_style[sku]] == CAT_CARE
    qty = np.where(rng.random(len(sku)) < 0.35 * care + 0.03, 2, 1)
    unit = cat.style_price[cat.sku_style[sku]]
    d = day[order]
    marked = rng.random(len(sku)) < cal.sale_share[d]
    disc = np.where(marked, np.round(unit * qty * cal.markdown[d] / 1000) * 1000, 0)
    lines = purchasing.Lines(order, sku, qty, unit, disc.astype(np.int64))
    return purchasing._with_totals(rng, orders, lines), lines


def draw_records(rng: np.random.Generator, n: int, orders: purchasing.Orders) -> Records:
    """A record per kind of channel bought on; non-buyers get one; some add a browser."""
    used = np.zeros((n, 4), dtype=bool)
    used[orders.person, orders.channel] = True
    buyer = used.any(axis=1)
    kind = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])  # non-buyers: browser, account, POS
    browser = ~buyer & (kind == 0)
    account = used[:, WEB] | used[:, APP] | ~buyer & (kind == 1)
    pos_ = used[:, STORE] | ~buyer & (kind == 2)
    market = used[:, MARKET]
    held = pos_.astype(int) + account + market + browser
    browser |= (held < 3) & account & (rng.random(n) < 0.4)
    return Records(pos_, account, market, browser)


# ---------------------------------------------------------------- writing


def _dict(indices: np.ndarray, values: list[str] | pa.ChunkedArray) -> pa.DictionaryArray:
    """Strings as a dictionary array (DuckDB reads it as VARCHAR, no copies per row)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else pa.array(values)
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), values)


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.timestamp("s"))


def people_table(rng: np.random.Generator, people: People, recs: Records,
                 orders: purchasing.Orders, cal: Calendar) -> pa.Table:
    """One row per person: what the golden record and the ids are made of."""
    n = people.n
    ident = recs.identified
    start = cal.local_midnight_utc_s(np.array([cal.window_first_day]))[0]
    end = cal.local_midnight_utc_s(np.array([cal.days]))[0]
    first = rng.integers(start, end, n)  # a visit, for people without orders
    seen = first.copy()
    # Orders are sorted by time: a person's first and last are her first and last rows.
    buyers, at = np.unique(orders.person, return_index=True)
    first[buyers] = orders.ts[at]
    buyers, at = np.unique(orders.person[::-1], return_index=True)
    seen[buyers] = orders.ts[::-1][at]
    name = people.full_name
    app_user = np.zeros(n, dtype=bool)
    app_user[orders.person[orders.channel == APP]] = True
    return pa.table({
        "i": np.arange(n),
        "ident": ident, "has_pos": recs.pos, "has_acct": recs.account,
        "has_mkt": recs.market, "has_dev": recs.browser,
        "name": name,
        "name_folded": pc.utf8_lower(names.fold(name)),
        "gender": pa.array(np.where(people.female, "female", "male")),
        "gender_known": rng.random(n) < 0.8,
        "birth": pa.array(people.birth_day.astype(np.int32)).cast(pa.date32()),
        "birth_known": ident & (rng.random(n) >= 0.10),
        "province": _dict(people.province, list(geo.PROVINCE_NAMES)),
        "province_known": ident & (rng.random(n) >= 0.05),
        "home_store": _dict(people.home_store, [s[0] for s in geo.STORES]),
        "phone_e164": phones.e164(people.phone),
        "phone_national": phones.national(people.phone),
        "email": people.email,
        "zalo_id": people.zalo_id,
        "card": recs.pos & (rng.random(n) < 0.4),
        "card_no": codes.alphabet_codes(rng, n, 8),
        "account_no": 100_000_000 + rng.permutation(n),
        "device": codes.uuids(rng, n),
        "platform": _dict(people.platform, list(PLATFORMS)),
        "buyer_slug": names.ascii_slug(people.given),
        "first_seen": _ts(first), "last_seen": _ts(seen),
        "devices": np.where(recs.browser | recs.account, rng.integers(1, 3, n), 0),
        "web_push": (recs.account & (rng.random(n) < 0.2)).astype(np.int64),
        "app_push": (app_user & (rng.random(n) < 0.6)).astype(np.int64),
    })


def _order_id(family: str, seq: str) -> str:
    return (f"CASE {family} WHEN 0 THEN 'HD' || lpad({seq}::VARCHAR, 9, '0') "
            f"WHEN 1 THEN 'ON' || lpad({seq}::VARCHAR, 9, '0') "
            f"ELSE 'MP' || lpad({seq}::VARCHAR, 10, '0') END")


_IDS = """
CREATE TEMP TABLE tb_ids AS
SELECT *, 'KH' || lpad((i + 1)::VARCHAR, 7, '0') AS pos_id, 'U' || account_no AS acct_id,
       platform || ':' || buyer_slug || '_' || (i + 1) AS mkt_id
FROM tb_people
"""

_RECORDS = """
CREATE TEMP TABLE tb_records AS
SELECT i, list_filter([CASE WHEN has_pos THEN 'u:' || pos_id END,
                       CASE WHEN has_acct THEN 'u:' || acct_id END,
                       CASE WHEN has_mkt THEN 'a:' || mkt_id END,
                       CASE WHEN has_dev THEN 'a:' || device END],
                      lambda x: x IS NOT NULL) AS records
FROM tb_ids
"""

_PROFILES = """
INSERT INTO profiles
SELECT 'p_' || substr(md5(r.records[1]), 1, 16), r.records[1],
       CASE WHEN ident OR has_mkt THEN name END, CASE WHEN ident OR has_mkt THEN name_folded END,
       CASE WHEN ident AND gender_known THEN gender END,
       CASE WHEN birth_known THEN birth END, CASE WHEN province_known THEN province END, NULL,
       CASE WHEN has_pos THEN home_store END,
       CASE WHEN ident THEN phone_e164 END, CASE WHEN ident THEN email END,
       CASE WHEN ident THEN zalo_id END, CASE WHEN card THEN 'VM' || card_no END,
       ident, len(r.records),
       list_filter([CASE WHEN has_pos THEN pos_id END, CASE WHEN has_acct THEN acct_id END],
                   lambda x: x IS NOT NULL),
       list_filter([CASE WHEN has_pos THEN 'pos' END, CASE WHEN has_acct THEN 'web' END,
                    CASE WHEN has_mkt THEN 'marketplace' END,
                    CASE WHEN has_dev AND NOT has_acct THEN 'web' END], lambda x: x IS NOT NULL),
       first_seen, last_seen, CASE WHEN has_dev OR has_mkt THEN first_seen END,
       CASE WHEN ident THEN first_seen END, devices, devices, web_push, app_push
FROM tb_ids JOIN tb_records r USING (i)
ORDER BY 1
"""

_IDENTITY = """
INSERT INTO identity_profiles
SELECT unnest(records), 'p_' || substr(md5(records[1]), 1, 16),
       'c_' || substr(md5(records[1]), 1, 16)
FROM tb_records ORDER BY 1
"""

_ORDERS = f"""
INSERT INTO orders
SELECT {_order_id('o.family', 'o.seq')} AS oid, 'tb-' || oid, o.source, o.channel, o.store_code,
       CASE o.family WHEN 0 THEN p.pos_id WHEN 1 THEN p.acct_id END,
       CASE o.family WHEN 1 THEN p.device WHEN 2 THEN p.mkt_id END,
       CASE WHEN o.family = 0 THEN p.phone_national END, NULL, o.ordered_at, o.status, 'VND',
       o.subtotal, o.discount, o.shipping, o.total, NULLIF(o.coupon, ''), o.item_count
FROM tb_orders o JOIN tb_ids p ON p.i = o.person
ORDER BY o.k
"""

_ITEMS = f"""
INSERT INTO order_items
SELECT {_order_id('family', 'seq')}, line_no, product_id, sku, name, brand, category,
       NULLIF(size, ''), colour, quantity, price, discount, NULL
FROM tb_lines
"""

_EVENTS = """
INSERT INTO events (message_id, message_key, type, event, user_id, source, timestamp,
                    received_at, properties)
SELECT 'tb-msg-' || k, k + 1, 'track', event, CASE WHEN use_pos THEN p.pos_id ELSE p.acct_id END,
       'sen', ts, ts + INTERVAL 2 SECOND,
       json_object('channel', channel, 'campaign_id', 'cmp-' || lpad(campaign::VARCHAR, 3, '0'))
FROM tb_messages m JOIN tb_ids p ON p.i = m.person
ORDER BY k
"""


def orders_table(orders: purchasing.Orders, lines: purchasing.Lines) -> pa.Table:
    family = np.where(orders.channel == STORE, 0, np.where(orders.channel == MARKET, 2, 1))
    gross = np.bincount(lines.order, weights=lines.unit_price * lines.quantity,
                        minlength=orders.n).astype(np.int64)
    line_disc = np.bincount(lines.order, weights=lines.line_discount,
                            minlength=orders.n).astype(np.int64)
    return pa.table({
        "k": np.arange(orders.n), "person": orders.person, "family": family, "seq": orders.seq,
        "source": _dict(orders.channel, list(SOURCES)),
        "channel": _dict(orders.channel, list(CHANNELS)),
        "store_code": pa.DictionaryArray.from_arrays(
            pa.array(orders.store, pa.int32(), mask=orders.store < 0),
            pa.array([s[0] for s in geo.STORES])),
        "ordered_at": _ts(orders.ts),
        "status": _dict(orders.status, list(purchasing.STATUSES)),
        "subtotal": gross, "discount": line_disc + orders.order_discount,
        "shipping": orders.shipping, "total": orders.total,
        "coupon": _dict(orders.coupon, [c[0] for c in purchasing.COUPONS]),
        "item_count": np.bincount(lines.order, weights=lines.quantity,
                                  minlength=orders.n).astype(np.int32),
    })


def lines_table(orders: purchasing.Orders, lines: purchasing.Lines, cat: Catalogue) -> pa.Table:
    family = np.where(orders.channel == STORE, 0, np.where(orders.channel == MARKET, 2, 1))
    start = np.searchsorted(lines.order, np.arange(orders.n))
    products = cat.table()
    sku = lines.sku
    return pa.table({
        "family": family[lines.order], "seq": orders.seq[lines.order],
        "line_no": (np.arange(len(sku)) - start[lines.order] + 1).astype(np.int32),
        **{col: _dict(sku, products[col]) for col in
           ("product_id", "sku", "name", "brand", "category", "size", "colour")},
        "quantity": lines.quantity.astype(np.int32), "price": lines.unit_price,
        "discount": lines.line_discount,
    })


def messages_table(rng: np.random.Generator, people: People, recs: Records,
                   table: pa.Table, cal: Calendar) -> pa.Table:
    """Opens and clicks of identified customers over the last six months."""
    who = np.flatnonzero(recs.identified)
    m = round(MESSAGES_PER_CUSTOMER * people.n)
    person = rng.choice(who, size=m)
    reach = np.column_stack([
        np.ones(m, dtype=bool),
        pc.is_valid(people.zalo_id).to_numpy(zero_copy_only=False)[person],
        pc.is_valid(people.email).to_numpy(zero_copy_only=False)[person],
        (table["app_push"].to_numpy() + table["web_push"].to_numpy())[person] > 0,
    ])
    weight = reach * np.array([0.3, 0.35, 0.15, 0.2])
    channel = purchasing._draw_rows(rng, weight / weight.sum(axis=1, keepdims=True))
    end = cal.local_midnight_utc_s(np.array([cal.days]))[0]
    use_pos = recs.pos[person] & (~recs.account[person] | (rng.random(m) < 0.5))
    return pa.table({
        "k": np.arange(m), "person": person, "use_pos": use_pos,
        "event": _dict((rng.random(m) < 0.35).astype(np.int64),
                       ["Message Opened", "Message Clicked"]),
        "channel": _dict(channel, list(MESSAGE_CHANNELS)),
        "campaign": rng.integers(1, 61, m),
        "ts": _ts(np.sort(rng.integers(end - 182 * 86_400, end, m))),
    })


def build(path: Path, customers: int, lines_target: int, signature: str) -> dict[str, float]:
    """Draw the retailer and write the store to ``path``; seconds per step."""
    steps: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = round(now - t, 2)
        t = now

    cal = build_calendar(END, 2)
    cat = build_catalogue(rng_for(SEED, "catalogue"))
    people = build_people(rng_for(SEED, "people"), customers, cal)
    lap("people")
    orders, day = draw_orders(rng_for(SEED, "bench-traits-orders"), people, cal, lines_target)
    orders, lines = draw_lines(rng_for(SEED, "bench-traits-lines"), people, orders, day, cat,
                               cal, lines_target)
    recs = draw_records(rng_for(SEED, "bench-traits-records"), customers, orders)
    lap("orders")
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    engine = open_engine(tmp)
    try:
        ptable = people_table(rng_for(SEED, "bench-traits-people"), people, recs, orders, cal)
        engine.register("tb_people", ptable)
        engine.execute(_IDS)
        engine.execute(_RECORDS)
        engine.execute(_PROFILES)
        engine.execute(_IDENTITY)
        lap("profiles")
        engine.register("tb_orders", orders_table(orders, lines))
        engine.execute(_ORDERS)
        engine.register("tb_lines", lines_table(orders, lines, cat))
        engine.execute(_ITEMS)
        lap("orders written")
        engine.register("tb_messages", messages_table(rng_for(SEED, "bench-traits-messages"),
                                                      people, recs, ptable, cal))
        engine.execute(_EVENTS)
        write_reference(engine, cat)
        engine.execute("INSERT OR REPLACE INTO sen_meta VALUES ('bench_traits', ?)", [signature])
        engine.execute("CHECKPOINT")
        lap("events, reference, checkpoint")
    finally:
        engine.close()
    tmp.rename(path)
    return steps


def write_reference(engine: DuckDBEngine, cat: Catalogue) -> None:
    """The 41 stores and the SKU list, as the demo exports them."""
    engine.register("tb_stores", render.stores_table(pos.store_phones(rng_for(SEED, "hotlines"))))
    engine.execute(f"""
        INSERT INTO stores SELECT "Mã CH", "Tên cửa hàng", "Tỉnh/TP", "Miền", "Vĩ độ", "Kinh độ",
               strptime("Ngày khai trương", '{render.POS_DATE}')::DATE, TIMESTAMP '{AS_OF}'
        FROM tb_stores""")
    engine.register("tb_products", cat.table())
    engine.execute(f"""
        INSERT INTO products SELECT sku, product_id, name, brand, category, NULLIF(size, ''),
               colour, list_price, TIMESTAMP '{AS_OF}' FROM tb_products""")


# ---------------------------------------------------------------- checking and timing


# Each order's record in a subquery of its own: DuckDB 1.x/2.0 plans a join *on* the
# record expression as a cross product and a filter (minutes for 36k orders).
_ORDER_RECORDS = f"(SELECT {record_key()} AS record FROM orders)"


def shape(engine: DuckDBEngine) -> dict[str, float]:
    """Row counts and the shares the store was drawn to; fails if an order has no profile."""
    q = engine.scalar
    out = {
        "customers": q("SELECT count(*) FROM profiles"),
        "order_lines": q("SELECT count(*) FROM order_items"),
        "orders": q("SELECT count(*) FROM orders"),
        "records": q("SELECT count(*) FROM identity_profiles"),
        "message_events": q("SELECT count(*) FROM events"),
        "orphan_orders": q(f"SELECT count(*) FROM {_ORDER_RECORDS} ANTI JOIN identity_profiles "
                           "USING (record)"),
        "no_orders": q(f"""SELECT count(*) FROM profiles ANTI JOIN (
                            SELECT DISTINCT profile_id FROM {_ORDER_RECORDS}
                            JOIN identity_profiles USING (record)) USING (profile_id)"""),
        "max_records": q("SELECT max(records) FROM profiles"),
        "birth_missing": q("SELECT avg((birth_date IS NULL)::INT) FROM profiles WHERE identified"),
    }
    out["channels"] = dict(engine.execute(
        "SELECT channel, round(count(*) / sum(count(*)) OVER (), 3) "
        "FROM orders GROUP BY 1 ORDER BY 2 DESC").fetchall())
    out["statuses"] = dict(engine.execute(
        "SELECT status, round(count(*) / sum(count(*)) OVER (), 3) "
        "FROM orders GROUP BY 1 ORDER BY 2 DESC").fetchall())
    out["orders_per_buyer"] = dict(engine.execute(f"""
        WITH b AS (SELECT profile_id, count(*) AS n FROM {_ORDER_RECORDS}
                   JOIN identity_profiles USING (record) GROUP BY 1)
        SELECT CASE WHEN n <= 2 THEN '1-2' WHEN n < 20 THEN '3-19' ELSE '20+' END,
               round(count(*) / sum(count(*)) OVER (), 3) FROM b GROUP BY 1 ORDER BY min(n)
    """).fetchall())
    if out["orphan_orders"]:
        raise SystemExit(f"{out['orphan_orders']:,} orders map to no profile")
    return out


def prepare(path: Path, customers: int, lines: int, rebuild: bool) -> dict[str, float] | None:
    """Reuse the store at ``path`` when it was built for this shape; else build it."""
    signature = f"v{VERSION} seed={SEED} customers={customers} lines={lines}"
    if path.exists() and not rebuild:
        engine = open_engine(path)
        try:
            kept = engine.scalar("SELECT value FROM sen_meta WHERE key = 'bench_traits'")
        finally:
            engine.close()
        if kept == signature:
            return None
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
    return build(path, customers, lines, signature)


def clear_traits(path: Path) -> None:
    """Drop a previous run's output so the first timed run starts from the built store."""
    engine = open_engine(path)
    try:
        for table in ("profile_traits", "profile_trait_periods", "trait_runs"):
            engine.execute(f"DELETE FROM {table}")
        engine.execute("CHECKPOINT")
    finally:
        engine.close()


def time_refresh(path: Path, runs: int) -> list[tuple[Any, float, float]]:
    """Each run of :func:`sen.traits.runner.refresh` with its wall and CPU seconds (all
    threads), the store opened fresh for each; stops after a run over two minutes."""
    from sen.traits.runner import refresh

    out = []
    for _ in range(runs):
        engine = open_engine(path)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            run = refresh(engine, as_of=AS_OF)
            out.append((run, time.perf_counter() - t0, time.process_time() - c0))
        finally:
            engine.close()
        if out[-1][1] > 2 * 60:  # one slow run is enough to know
            break
    return out


def trait_sanity(path: Path) -> dict:
    engine = open_engine(path, read_only=True)
    try:
        q = engine.scalar
        return {
            "profiles_with_traits": q("SELECT count(*) FROM profile_traits"),
            "with_lifecycle": q("SELECT count(lifecycle_stage) FROM profile_traits"),
            "buyers_with_traits": q("SELECT count(*) FROM profile_traits WHERE orders > 0"),
            "rfm_group": dict(engine.execute(
                "SELECT coalesce(rfm_group, '(none)'), count(*) FROM profile_traits "
                "GROUP BY 1 ORDER BY 2 DESC").fetchall()),
            "lifecycle_stage": dict(engine.execute(
                "SELECT coalesce(lifecycle_stage, '(none)'), count(*) FROM profile_traits "
                "GROUP BY 1 ORDER BY 2 DESC").fetchall()),
        }
    finally:
        engine.close()


def _shares(counts: dict) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {v / total:.1%}" for k, v in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--store", type=Path, help="Where to keep the built store "
                        "(default /tmp/sen-bench-traits-<scale>.duckdb).")
    parser.add_argument("--rebuild", action="store_true", help="Build the store even if kept.")
    parser.add_argument("--runs", type=int, default=2, help="Timed runs; the best counts.")
    parser.add_argument("--build-only", action="store_true",
                        help="Build and check the store, time nothing.")
    args = parser.parse_args()
    customers, lines = SCALES[args.scale]
    path = args.store or Path(f"/tmp/sen-bench-traits-{args.scale}.duckdb")
    t0 = time.perf_counter()
    built = prepare(path, customers, lines, args.rebuild)
    build_s = time.perf_counter() - t0
    engine = open_engine(path, read_only=True)
    try:
        data = shape(engine)
    finally:
        engine.close()
    how = (f"built in {build_s:.1f} s: " + ", ".join(f"{k} {v}" for k, v in built.items())
           if built else "reused")
    rows = [
        ("store", f"{path} ({how})"),
        ("customers (profiles)", f"{data['customers']:,} ({data['records']:,} records, "
         f"at most {data['max_records']} a profile; {data['no_orders'] / data['customers']:.1%} "
         f"without orders; birth date missing for {data['birth_missing']:.1%} of the "
         "identified)"),
        ("orders / order lines", f"{data['orders']:,} / {data['order_lines']:,} "
         f"({data['order_lines'] / data['orders']:.2f} lines an order; every order maps "
         f"to a profile)"),
        ("orders per buyer", ", ".join(f"{k}: {v:.1%}"
                                       for k, v in data["orders_per_buyer"].items())),
        ("channels", ", ".join(f"{k} {v:.1%}" for k, v in data["channels"].items())),
        ("statuses", ", ".join(f"{k} {v:.1%}" for k, v in data["statuses"].items())),
        ("message events", f"{data['message_events']:,}"),
    ]
    figures: dict[str, float] = {"customers": data["customers"], "order_lines": data["order_lines"],
                                 "orders": data["orders"]}
    if not args.build_only:
        clear_traits(path)
        load = os.getloadavg()[0]
        runs = time_refresh(path, max(args.runs, 1))
        run, best, cpu = min(runs, key=lambda r: r[1])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        sanity = trait_sanity(path)
        figures = {"traits_s": round(best, 2), "traits_cpu_s": round(cpu, 1), **figures,
                   "profiles_with_traits": sanity["profiles_with_traits"]}
        rows += [
            ("traits s", f"{best:.2f} (best of {len(runs)}: "
             f"{', '.join(f'{w:.2f}' for _, w, _ in runs)}; target < {TARGET_S})"),
            ("machine", f"CPU s {', '.join(f'{c:.1f}' for _, _, c in runs)} on "
             f"{os.cpu_count()} cores; load average {load:.1f} before, "
             f"{os.getloadavg()[0]:.1f} after; peak RSS {rss:.1f} GiB"),
            *((f"steps s, run {i + 1}", ", ".join(f"{k} {v:.2f}" for k, v in r.steps.items()))
              for i, (r, _, _) in enumerate(runs)),
            ("profiles with traits", f"{sanity['profiles_with_traits']:,} (refresh says "
             f"{run.profiles:,}; {sanity['buyers_with_traits']:,} with orders, "
             f"{sanity['with_lifecycle']:,} with a lifecycle stage)"),
            ("rfm_group", _shares(sanity["rfm_group"])),
            ("lifecycle_stage", _shares(sanity["lifecycle_stage"])),
        ]
    width = max(len(k) for k, _ in rows)
    print(f"\nBuilt-in traits ({args.scale})")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(json.dumps({"benchmark": "traits", "scale": args.scale,
                      "machine": {"cores": os.cpu_count()}, "figures": figures,
                      "targets": {"traits_s": TARGET_S}}))


if __name__ == "__main__":
    main()
