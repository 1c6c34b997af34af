"""A hand-built shop: profiles, their records, orders, lines, stores and events.

Rows go straight into the store's tables (what identity and the projections
would have written), so each test states exactly the history it scores.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sen.store.analytics import DuckDBEngine

Line = tuple[str | None, str | None, str | None, int, int]  # brand, category, size, qty, price

STORES = (("HN01", "Hoàn Kiếm", "Hà Nội", "North"), ("HN02", "Cầu Giấy", "Hà Nội", "North"),
          ("HCM01", "Quận 1", "TP. Hồ Chí Minh", "South"),
          ("DN01", "Hải Châu", "Đà Nẵng", "Central"))


class Shop:
    def __init__(self, path: Path) -> None:
        self.engine = DuckDBEngine(path)
        self.engine.migrate()
        self.cur = self.engine.cursor()
        self._ids = itertools.count(1)
        for code, name, province, region in STORES:
            self.cur.execute("INSERT INTO stores (store_code, name, province, region) "
                             "VALUES (?, ?, ?, ?)", [code, name, province, region])

    def customer(self, profile_id: str, *records: str, birth_date: date | None = None,
                 province: str | None = None, store_code: str | None = None,
                 phone: str | None = None, email: str | None = None,
                 zalo_id: str | None = None, push_tokens: int = 0) -> str:
        for record in records:
            self.cur.execute("INSERT INTO identity_profiles VALUES (?, ?, ?)",
                             [record, profile_id, profile_id])
        self.cur.execute("""
            INSERT INTO profiles (profile_id, record, birth_date, province, store_code, phone,
                                  email, zalo_id, identified, records, web_push_tokens)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, true, ?, ?)
        """, [profile_id, records[0], birth_date, province, store_code, phone, email,
              zalo_id, len(records), push_tokens])
        return profile_id

    def order(self, record: str, at: datetime, total: int, *, channel: str = "store",
              store: str | None = None, status: str = "completed",
              lines: tuple[Line, ...] = (), order_id: str | None = None) -> str:
        order_id = order_id or f"O{next(self._ids):05d}"
        kind, _, rest = record.partition(":")
        user_id, anonymous_id = (rest, None) if kind == "u" else (None, rest)
        self.cur.execute("""
            INSERT INTO orders (order_id, message_id, source, channel, store_code, user_id,
                                anonymous_id, ordered_at, status, total, item_count)
            VALUES (?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?)
        """, [order_id, f"m-{order_id}", channel, store, user_id, anonymous_id, at, status,
              total, len(lines)])
        for n, (brand, category, size, qty, price) in enumerate(lines, 1):
            self.cur.execute("""
                INSERT INTO order_items (order_id, line_no, brand, category, size, quantity,
                                         price, discount)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0)
            """, [order_id, n, brand, category, size, qty, price])
        self.event(record, "Order Completed", at, {"order_id": order_id})
        return order_id

    def event(self, record: str, name: str, at: datetime, properties: dict[str, Any]) -> None:
        import json

        kind, _, rest = record.partition(":")
        user_id, anonymous_id = (rest, None) if kind == "u" else (None, rest)
        n = next(self._ids)
        self.cur.execute("""
            INSERT INTO events (message_id, message_key, type, event, user_id, anonymous_id,
                                source, timestamp, received_at, properties)
            VALUES (?, ?, 'track', ?, ?, ?, 'test', ?, ?, ?)
        """, [f"e{n}", n, name, user_id, anonymous_id, at, at, json.dumps(properties)])

    def identity_caught_up(self) -> None:
        """What an identity run leaves behind: its watermark past every event."""
        end = self.cur.execute("SELECT coalesce(max(rowid) + 1, 0) FROM events").fetchall()[0][0]
        self.cur.execute("INSERT OR REPLACE INTO sen_meta VALUES ('identity_rowid', ?)",
                         [str(end)])

    def traits(self, profile_id: str) -> dict[str, Any]:
        cur = self.engine.cursor()
        rows = cur.execute("SELECT * FROM profile_traits WHERE profile_id = ?",
                           [profile_id]).fetchall()
        assert len(rows) == 1, f"{profile_id} has {len(rows)} trait rows"
        names = [d[0] for d in cur.description]
        return dict(zip(names, rows[0], strict=True))

    def periods(self, profile_id: str) -> dict[str, tuple[int, int]]:
        rows = self.engine.cursor().execute(
            "SELECT period, orders, spend FROM profile_trait_periods WHERE profile_id = ?",
            [profile_id]).fetchall()
        return {p: (o, s) for p, o, s in rows}
