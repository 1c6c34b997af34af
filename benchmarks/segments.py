"""Segments: Sen's compiled queries against hand-written DuckDB SQL for the same segments.

    python benchmarks/segments.py --scale small|full

The store is the traits benchmark's (``benchmarks/traits.py``: the retailer's
stores and catalogue, 1M profiles and 10M order lines at ``full``), with its
traits computed, ``profile_events`` built from its log and orders, and
browsing, cart and message events added to reach 50M events at ``full``
(500k at ``small``): product views with a brand, pages, carts, checkouts,
messages sent, delivered and clicked per campaign, over the last year. It is
kept under /tmp and reused. The trait run also writes the orders and lines by
profile that order conditions read (3.7M orders and 10M lines at ``full``).

Each segment runs as Sen compiles it (the SQL ``sen segment sql`` shows,
executed on the store) and as a person would write it in DuckDB SQL; both
must find the same members. Times are the best of five runs after one warm
run. Ends with one line of JSON (figure names fixed in shared/benchmarks.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path

import ibis

from sen.segments import compiler, evaluate, events, rules
from sen.store.analytics import open_engine
from sen.traits import runner

HERE = Path(__file__).parent
SCALES = {"small": (10_000, 100_000, 500_000), "full": (1_000_000, 10_000_000, 50_000_000)}
AS_OF = datetime(2026, 10, 31, 17, 0)
TARGET_S, TARGET_RATIO = 1.0, 1.3
VERSION = "2"  # 2: orders by profile (an earlier store is brought up to date by a refresh)

# name: (rule, hand-written SQL returning profile ids)
SEGMENTS: dict[str, tuple[dict, str]] = {
    "lapsed90_vela_south_not_c7": (
        {"all": [{"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
                 {"trait": "favourite_brand", "op": "=", "value": "Vela Saigon"},
                 {"trait": "region", "op": "=", "value": "South"},
                 {"not": {"message": "received", "campaign": "C7"}}]},
        """SELECT t.profile_id FROM profile_traits t
           WHERE t.last_purchase_at < TIMESTAMP '{as_of}' - INTERVAL 90 DAY
             AND t.favourite_brand = 'Vela Saigon' AND t.region = 'South'
             AND t.profile_id NOT IN (SELECT profile_id FROM profile_events
                                      WHERE event = 'Message Sent' AND campaign_id = 'C7'
                                        AND timestamp <= TIMESTAMP '{as_of}')"""),
    "clicked7_not_bought7": (
        {"all": [{"message": "clicked", "within_days": 7},
                 {"not": {"event": "Order Completed", "within_days": 7}}]},
        """SELECT t.profile_id FROM profile_traits t
           WHERE t.profile_id IN (SELECT profile_id FROM profile_events
                                  WHERE event = 'Message Clicked'
                                    AND timestamp > TIMESTAMP '{as_of}' - INTERVAL 7 DAY
                                    AND timestamp <= TIMESTAMP '{as_of}')
             AND t.profile_id NOT IN (SELECT profile_id FROM profile_events
                                      WHERE event = 'Order Completed'
                                        AND timestamp > TIMESTAMP '{as_of}' - INTERVAL 7 DAY
                                        AND timestamp <= TIMESTAMP '{as_of}')"""),
    "viewed_mira_3x_30d": (
        {"event": "Product Viewed", "within_days": 30,
         "where": [{"property": "brand", "op": "=", "value": "Mira"}],
         "aggregate": {"fn": "count", "op": ">=", "value": 3}},
        """SELECT profile_id FROM profile_events
           WHERE event = 'Product Viewed' AND properties->>'brand' = 'Mira'
             AND timestamp > TIMESTAMP '{as_of}' - INTERVAL 30 DAY
             AND timestamp <= TIMESTAMP '{as_of}'
           GROUP BY profile_id HAVING count(*) >= 3"""),
    "cart_abandoned_3d": (
        {"all": [{"event": "Product Added", "within_days": 3},
                 {"not": {"event": "Order Completed", "within_days": 3}}]},
        """SELECT t.profile_id FROM profile_traits t
           WHERE t.profile_id IN (SELECT profile_id FROM profile_events
                                  WHERE event = 'Product Added'
                                    AND timestamp > TIMESTAMP '{as_of}' - INTERVAL 3 DAY
                                    AND timestamp <= TIMESTAMP '{as_of}')
             AND t.profile_id NOT IN (SELECT profile_id FROM profile_events
                                      WHERE event = 'Order Completed'
                                        AND timestamp > TIMESTAMP '{as_of}' - INTERVAL 3 DAY
                                        AND timestamp <= TIMESTAMP '{as_of}')"""),
    "high_clv_due": (
        {"all": [{"trait": "clv_12m", "op": ">", "value": 3_000_000},
                 {"trait": "lifecycle_stage", "op": "in", "value": ["due", "overdue"]}]},
        """SELECT profile_id FROM profile_traits
           WHERE clv_12m > 3000000 AND lifecycle_stage IN ('due', 'overdue')"""),
    "champions_omnichannel_or_vip_spend": (
        {"any": [{"all": [{"trait": "rfm_group", "op": "=", "value": "Champions"},
                          {"trait": "omnichannel", "op": "=", "value": True}]},
                 {"trait": "spend_in_period", "period": "2026", "op": ">=",
                  "value": 20_000_000}]},
        """SELECT profile_id FROM profile_traits
           WHERE (rfm_group = 'Champions' AND omnichannel)
              OR profile_id IN (SELECT profile_id FROM profile_trait_periods
                                WHERE period = '2026' AND spend >= 20000000)"""),
    "vela_in_store_180d_not_online": (
        {"all": [{"order": "completed", "within_days": 180,
                  "where": [{"field": "brand", "op": "=", "value": "Vela Saigon"},
                            {"field": "channel", "op": "=", "value": "store"}]},
                 {"not": {"order": "completed", "within_days": 180,
                          "where": [{"field": "channel", "op": "in", "value": ["web", "app"]}]}}]},
        """SELECT t.profile_id FROM profile_traits t
           WHERE t.profile_id IN (SELECT profile_id FROM profile_order_lines
                                  WHERE status = 'completed' AND brand = 'Vela Saigon'
                                    AND channel = 'store'
                                    AND ordered_at > TIMESTAMP '{as_of}' - INTERVAL 180 DAY
                                    AND ordered_at <= TIMESTAMP '{as_of}')
             AND t.profile_id NOT IN (SELECT profile_id FROM profile_orders
                                      WHERE status = 'completed' AND channel IN ('web', 'app')
                                        AND ordered_at > TIMESTAMP '{as_of}' - INTERVAL 180 DAY
                                        AND ordered_at <= TIMESTAMP '{as_of}')"""),
    "bags_in_2_orders_365d": (
        {"order": "completed", "within_days": 365,
         "where": [{"field": "category", "op": "=", "value": "Túi xách"}],
         "aggregate": {"fn": "count", "op": ">=", "value": 2}},
        """SELECT profile_id FROM profile_order_lines
           WHERE status = 'completed' AND category = 'Túi xách'
             AND ordered_at > TIMESTAMP '{as_of}' - INTERVAL 365 DAY
             AND ordered_at <= TIMESTAMP '{as_of}'
           GROUP BY profile_id HAVING count(DISTINCT order_id) >= 2"""),
    "lookalike_seed_top5pct_clv": (
        {"trait": "clv_12m", "op": "top_percent", "value": 5},
        """SELECT profile_id FROM (
               SELECT profile_id, cume_dist() OVER (ORDER BY clv_12m DESC) AS share
               FROM profile_traits WHERE clv_12m IS NOT NULL)
           WHERE share <= 0.05"""),
}

_BROWSING = """
    INSERT INTO profile_events
    WITH p AS (SELECT profile_id, record, row_number() OVER (ORDER BY profile_id) - 1 AS i
               FROM (SELECT profile_id, min(record) AS record FROM identity_profiles
                     GROUP BY profile_id)),
    n AS (SELECT count(*) AS n FROM p),
    r AS (
        SELECT range AS k, hash(range, 1) AS h1, hash(range, 2) AS h2, hash(range, 3) AS h3
        FROM range({count})
    ), e AS (
        SELECT k, (h1 % (SELECT n FROM n))::BIGINT AS i,
               CASE WHEN h2 % 1000 < 600 THEN 'Product Viewed'
                    WHEN h2 % 1000 < 800 THEN 'Page Viewed'
                    WHEN h2 % 1000 < 880 THEN 'Product Added'
                    WHEN h2 % 1000 < 910 THEN 'Checkout Started'
                    WHEN h2 % 1000 < 945 THEN 'Message Sent'
                    WHEN h2 % 1000 < 985 THEN 'Message Delivered'
                    ELSE 'Message Clicked' END AS event,
               TIMESTAMP '{as_of}' - to_seconds((h3 % (365 * 86400))::BIGINT) AS ts,
               h3 AS h
        FROM r
    )
    SELECT p.profile_id, e.event, e.ts, 'bench',
           CASE WHEN e.event LIKE 'Message%'
                THEN ['sms', 'zalo', 'email', 'push'][(1 + e.h % 4)::BIGINT] END,
           CASE WHEN e.event LIKE 'Message%' THEN 'C' || (e.h % 12)::VARCHAR END,
           NULL,
           CASE WHEN e.event = 'Product Viewed'
                THEN json_object('brand', CASE WHEN e.h % 2 = 0 THEN 'Mira'
                                          ELSE 'Vela Saigon' END)
                END,
           p.record, -1 - e.k
    FROM e JOIN p USING (i)
"""

_ORDERS = """
    INSERT INTO profile_events
    WITH o AS MATERIALIZED (
        SELECT *, CASE WHEN user_id IS NOT NULL THEN 'u:' || user_id
                       ELSE 'a:' || anonymous_id END AS record
        FROM orders WHERE status = 'completed'
    )
    SELECT ip.profile_id, 'Order Completed', o.ordered_at, o.source, NULL, NULL, NULL,
           json_object('order_id', o.order_id, 'total', o.total), o.record, -1
    FROM o JOIN identity_profiles ip USING (record)
"""


def _traits_bench():  # noqa: ANN202 - the sibling benchmark module
    spec = importlib.util.spec_from_file_location("bench_traits", HERE / "traits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(scale: str, rebuild: bool) -> tuple[Path, dict[str, float]]:
    """The segments store: traits' store + traits + profile_events (built once, kept)."""
    customers, lines, target_events = SCALES[scale]
    path = Path(f"/tmp/sen-bench-segments-{scale}.duckdb")
    marker = path.with_suffix(".ready")
    if not rebuild and path.exists() and marker.exists() and marker.read_text() == VERSION:
        return path, {}
    if not rebuild and path.exists() and marker.exists() and marker.read_text() == "1":
        return path, _orders_by_profile(path, marker)
    traits_bench = _traits_bench()
    base = Path(f"/tmp/sen-bench-traits-{scale}.duckdb")
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    traits_bench.prepare(base, customers, lines, False)
    steps["base_s"] = time.perf_counter() - t0
    marker.unlink(missing_ok=True)
    shutil.copyfile(base, path)
    engine = open_engine(path)
    try:
        engine.migrate()
        t0 = time.perf_counter()
        runner.refresh(engine, as_of=AS_OF)
        steps["traits_s"] = time.perf_counter() - t0
        cur = engine.cursor()
        end = cur.execute("SELECT coalesce(max(rowid) + 1, 0) FROM events").fetchall()[0][0]
        cur.execute("INSERT OR REPLACE INTO sen_meta VALUES ('identity_rowid', ?)", [str(end)])
        t0 = time.perf_counter()
        events.rebuild(engine)
        cur.execute(_ORDERS)
        have = cur.execute("SELECT count(*) FROM profile_events").fetchall()[0][0]
        cur.execute(_BROWSING.format(count=max(target_events - have, 0), as_of=AS_OF))
        cur.execute(f"CREATE OR REPLACE TABLE _sorted AS SELECT * FROM profile_events "
                    f"ORDER BY {', '.join(events.SORT)}")
        cur.execute("DELETE FROM profile_events")
        cur.execute("INSERT INTO profile_events SELECT * FROM _sorted")
        cur.execute("DROP TABLE _sorted")
        cur.execute("CHECKPOINT")
        steps["events_s"] = time.perf_counter() - t0
    finally:
        engine.close()
    marker.write_text(VERSION)
    return path, steps


def _orders_by_profile(path: Path, marker: Path) -> dict[str, float]:
    """A version-1 store lacks orders by profile: one trait refresh writes them."""
    engine = open_engine(path)
    try:
        t0 = time.perf_counter()
        runner.refresh(engine, as_of=AS_OF)
        engine.execute("CHECKPOINT")
        seconds = time.perf_counter() - t0
    finally:
        engine.close()
    marker.write_text(VERSION)
    return {"traits_s": seconds}


def _best(cur, sql: str, runs: int = 5) -> tuple[float, list[str]]:  # noqa: ANN001
    cur.execute(sql).fetchall()  # warm
    best, rows = float("inf"), []
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = cur.execute(sql).fetchall()
        best = min(best, time.perf_counter() - t0)
    return best, sorted(r[0] for r in rows)


def measure(path: Path) -> tuple[list[tuple], dict[str, float]]:
    engine = open_engine(path, read_only=True)
    figures: dict[str, float] = {}
    table = []
    try:
        cur = engine.cursor()
        ctx = evaluate.context(engine.ibis(), cur, AS_OF)
        for name, (rule, hand) in SEGMENTS.items():
            t0 = time.perf_counter()
            expr = compiler.members(rules.parse(rule), ctx)
            sen_sql = ibis.to_sql(expr, dialect="duckdb")
            compile_ms = (time.perf_counter() - t0) * 1000
            sen_s, sen_ids = _best(cur, sen_sql)
            hand_s, hand_ids = _best(cur, hand.format(as_of=AS_OF))
            if sen_ids != hand_ids:
                raise SystemExit(f"{name}: Sen found {len(sen_ids):,} members, the hand-written "
                                 f"SQL {len(hand_ids):,}: the benchmark's SQL or the compiler "
                                 "is wrong")
            figures[f"seg.{name}.sen_s"] = round(sen_s, 4)
            figures[f"seg.{name}.handwritten_s"] = round(hand_s, 4)
            figures[f"seg.{name}.members"] = len(sen_ids)
            table.append((name, len(sen_ids), sen_s, hand_s, sen_s / hand_s, compile_ms))
        figures["events"] = cur.execute("SELECT count(*) FROM profile_events").fetchall()[0][0]
        figures["customers"] = cur.execute("SELECT count(*) FROM profile_traits").fetchall()[0][0]
    finally:
        engine.close()
    figures["max_sen_s"] = round(max(r[2] for r in table), 4)
    figures["max_ratio_to_handwritten"] = round(max(r[4] for r in table), 3)
    return table, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--rebuild", action="store_true", help="Build the store even if kept.")
    args = parser.parse_args()
    path, steps = prepare(args.scale, args.rebuild)
    table, figures = measure(path)
    print(f"\nSegments ({args.scale}): {figures['customers']:,} profiles, "
          f"{figures['events']:,} events by profile; store {path}"
          + (" (built: " + ", ".join(f"{k} {v:.0f}" for k, v in steps.items()) + ")"
             if steps else " (reused)"))
    print(f"{'segment':38} {'members':>10} {'sen s':>8} {'hand s':>8} {'ratio':>6} "
          f"{'compile ms':>10}")
    for name, members, sen_s, hand_s, ratio, compile_ms in table:
        print(f"{name:38} {members:>10,} {sen_s:>8.3f} {hand_s:>8.3f} {ratio:>6.2f} "
              f"{compile_ms:>10.1f}")
    print(f"targets: each under {TARGET_S} s, ratio at most {TARGET_RATIO}; "
          f"{os.cpu_count()} cores")
    print(json.dumps({"benchmark": "segments", "scale": args.scale,
                      "machine": {"cores": os.cpu_count()}, "figures": figures,
                      "targets": {"max_sen_s": TARGET_S,
                                  "max_ratio_to_handwritten": TARGET_RATIO}}))


if __name__ == "__main__":
    main()
