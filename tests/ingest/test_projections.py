"""Projections: orders, items and customers follow the event log."""

from __future__ import annotations

from datetime import datetime

import pytest

from sen.ingest.projections import rebuild
from sen.ingest.spec import validate_event
from sen.ingest.writer import EventWriter
from sen.store.analytics import DuckDBEngine

NOW = datetime(2024, 5, 1, 10)


def order(mid: str, order_id: str, **props) -> dict:
    return {"type": "track", "event": "Order Completed", "messageId": mid, "userId": "KH01",
            "timestamp": "2024-05-01T09:00:00+07:00",
            "properties": {"order_id": order_id, **props}}


@pytest.fixture
def engine():
    eng = DuckDBEngine(":memory:")
    yield eng
    eng.close()


def commit(engine: DuckDBEngine, events: list[dict], received_at: datetime = NOW) -> None:
    """Store a batch the way the HTTP path does: the event writer, which applies it
    to the projections in the same transaction."""
    rows = [validate_event(e, source="web", received_at=received_at) for e in events]
    EventWriter(engine).write_sync(rows)


def snapshot(engine: DuckDBEngine) -> list[list[tuple]]:
    return [engine.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("orders", "order_items", "customers")]


def test_items_land_with_integer_money(engine):
    commit(engine, [order("m1", "HD1", total="349000", shipping=30000.0, currency="VND",
                          discount=1e4, channel="web", products=[
                              {"sku": "AT-01", "price": 159500, "quantity": 2, "size": "M",
                               "colour": "Đen"},
                              {"sku": "NON", "price": "20000", "quantity": "1",
                               "discount": 5000, "coupon": "TET"}])])
    assert engine.execute("SELECT total, shipping, discount, subtotal, item_count, ordered_at "
                          "FROM orders").fetchall() == [
        (349000, 30000, 10000, 339000, 3, datetime(2024, 5, 1, 2))]
    assert engine.execute("SELECT line_no, sku, price, quantity, discount, coupon, colour "
                          "FROM order_items ORDER BY line_no").fetchall() == [
        (1, "AT-01", 159500, 2, None, None, "Đen"), (2, "NON", 20000, 1, 5000, "TET", None)]
    assert engine.execute("SELECT typeof(total) FROM orders").fetchone() == ("BIGINT",)


def test_refund_and_cancel_change_status(engine):
    commit(engine, [order("m1", "HD1", total=1), order("m2", "HD2", total=2)])
    commit(engine, [{"type": "track", "event": "Order Refunded", "messageId": "r1",
                     "userId": "KH01", "properties": {"order_id": "HD1"}},
                    {"type": "track", "event": "Order Cancelled", "messageId": "c2",
                     "userId": "KH01", "properties": {"order_id": "HD2"}}])
    assert engine.execute("SELECT order_id, status FROM orders ORDER BY 1").fetchall() == [
        ("HD1", "refunded"), ("HD2", "cancelled")]


def test_an_order_sent_again_under_another_message_id_is_not_a_second_order(engine):
    commit(engine, [order("m1", "HD1", total=100, products=[{"sku": "A", "quantity": 1}])])
    commit(engine, [order("m9", "HD1", total=999, products=[{"sku": "B", "quantity": 5}])],
           received_at=datetime(2024, 5, 2))
    commit(engine, [order("m7", "HD2", total=5), order("m8", "HD2", total=6)])
    assert engine.execute("SELECT order_id, message_id, total FROM orders ORDER BY 1").fetchall() \
        == [("HD1", "m1", 100), ("HD2", "m7", 5)]
    assert engine.execute("SELECT sku FROM order_items WHERE order_id = 'HD1'").fetchall() == [
        ("A",)]


def test_identify_merges_traits_latest_wins(engine):
    commit(engine, [{"type": "identify", "messageId": "i1", "userId": "KH01",
                     "timestamp": "2024-01-01T00:00:00Z",
                     "traits": {"name": "Lan", "phone": "0901", "tier": "bạc"}}])
    commit(engine, [{"type": "identify", "messageId": "i2", "userId": "KH01",
                     "timestamp": "2024-03-01T00:00:00Z",
                     "traits": {"tier": "vàng", "email": "lan@x.vn", "phone": None}}])
    row = engine.execute("SELECT name, phone, email, traits ->> 'tier', first_seen, last_seen "
                         "FROM customers").fetchall()
    assert row == [("Lan", None, "lan@x.vn", "vàng", datetime(2024, 1, 1), datetime(2024, 3, 1))]


def test_a_batch_without_orders_or_identifies_changes_nothing(engine):
    commit(engine, [{"type": "page", "messageId": "p1", "anonymousId": "a"}])
    assert snapshot(engine) == [[], [], []]


def test_rebuild_equals_the_increments(engine):
    commit(engine, [order("m1", "HD1", total=100, products=[{"sku": "A", "quantity": 1,
                                                                "price": 100}]),
                    {"type": "identify", "messageId": "i1", "userId": "KH01",
                     "timestamp": "2024-01-01T00:00:00Z", "traits": {"name": "Lan"}}])
    commit(engine, [order("m2", "HD1", total=7), order("m3", "HD3", total=300),
                    {"type": "track", "event": "Order Refunded", "messageId": "r1",
                     "userId": "KH01", "properties": {"order_id": "HD1"}},
                    {"type": "identify", "messageId": "i2", "userId": "KH01",
                     "timestamp": "2024-02-01T00:00:00Z", "traits": {"tier": "vàng"}}],
           received_at=datetime(2024, 5, 2))
    incremental = snapshot(engine)
    rebuild(engine)
    assert snapshot(engine) == incremental
    assert len(incremental[0]) == 2
