"""Three customers with orders, for the traits API and page tests.

* A bought ECCO shoes (800.000 ₫) and two pairs of Biti's (100.000 ₫ each)
  ten days ago, and ECCO (500.000 ₫) over a year ago.
* B bought ECCO (300.000 ₫) five days ago, and an ECCO order (999.000 ₫) three
  days ago that was refunded.
* C bought an Aldo bag (2.000.000 ₫) twenty days ago.

So ECCO revenue in the last 365 days is 800.000 ₫ for A and 300.000 ₫ for B.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ECCO = {"name": "ecco_revenue_365d", "label": "Doanh số ECCO 365 ngày",
        "source": "order_lines", "aggregate": "sum", "property": "amount",
        "filters": [{"property": "brand", "op": "=", "value": "ECCO"}], "window_days": 365}
PROFILES = ("p_a", "p_b", "p_c")
# order, profile, days ago, status, [(brand, quantity, price)]
ORDERS = [
    ("O1", "p_a", 10, "completed", [("ECCO", 1, 800_000), ("Biti's", 2, 100_000)]),
    ("O2", "p_a", 400, "completed", [("ECCO", 1, 500_000)]),
    ("O3", "p_b", 5, "completed", [("ECCO", 1, 300_000)]),
    ("O4", "p_b", 3, "refunded", [("ECCO", 1, 999_000)]),
    ("O5", "p_c", 20, "completed", [("Aldo", 1, 2_000_000)]),
]


def seed(engine: Any) -> None:
    """The three customers as profiles, records and orders in the store."""
    now = datetime.now(UTC).replace(tzinfo=None)
    for pid in PROFILES:
        engine.execute("INSERT INTO profiles (profile_id, record, identified, records) "
                       "VALUES (?, ?, true, 1)", [pid, f"u:{pid}"])
        engine.execute("INSERT INTO identity_profiles VALUES (?, ?, ?)", [f"u:{pid}", pid, pid])
    for oid, pid, days, status, lines in ORDERS:
        total = sum(q * p for _, q, p in lines)
        engine.execute("INSERT INTO orders (order_id, message_id, source, channel, user_id, "
                       "ordered_at, status, total) VALUES (?, ?, 'pos', 'store', ?, ?, ?, ?)",
                       [oid, oid, pid, now - timedelta(days=days), status, total])
        for n, (brand, quantity, price) in enumerate(lines):
            engine.execute("INSERT INTO order_items (order_id, line_no, brand, quantity, "
                           "price, discount) VALUES (?, ?, ?, ?, ?, 0)",
                           [oid, n, brand, quantity, price])
