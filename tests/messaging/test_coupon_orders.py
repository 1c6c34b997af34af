"""Coupons redeemed by orders on every ingest path: a POS order file, a bulk events file
and ``POST /v1/track``. Each ends in the ``orders`` projection; ``redeem_from_orders``
turns Sen's coupons there into one ``Coupon Redeemed`` each, in the log after the relay."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from fastapi import FastAPI

from sen.ingest.http import router as segment_router
from sen.ingest.importer import events_mapping, import_file
from sen.ingest.mapping import parse_mapping
from sen.ingest.sources import WriteKeys, create_source
from sen.messaging.coupons import (
    COUPON_REDEMPTION_REFUSED,
    create_pool,
    import_codes,
    issue,
    redeem_from_orders,
)
from sen.messaging.model import COUPON_REDEEMED
from sen.store.settings import read_meta
from tests.messaging.stores import MessagingStore

HEADER = ["Số HĐ", "Ngày giờ", "Mã KH", "Kênh", "Cửa hàng", "Mã hàng", "SL", "Đơn giá",
          "Mã giảm giá", "Mã giảm dòng"]
MAPPING = """
kind: orders
source: pos
timezone: Asia/Ho_Chi_Minh
date_format: "%d/%m/%Y %H:%M"
columns:
  order_id: "Số HĐ"
  ordered_at: "Ngày giờ"
  customer_id: "Mã KH"
  channel: "Kênh"
  store_code: "Cửa hàng"
  sku: "Mã hàng"
  quantity: "SL"
  unit_price: "Đơn giá"
  order_coupon: "Mã giảm giá"
  line_coupon: "Mã giảm dòng"
"""
ISSUED_AT = datetime(2025, 1, 20, 3, 0)


@pytest.fixture
def store(tmp_path, ops):
    with MessagingStore(tmp_path, ops) as s:
        yield s


def coupon_for(store: MessagingStore, record: str = "u:KH01", pool: str = "tet") -> tuple:
    """A message to ``record`` holding a new code of ``pool``: (message id, code)."""
    mid = store.message(record=record, campaign="tet", channel="zalo")
    with store.ops.begin() as con:
        got = issue(con, pool, message_id=mid, profile_id="p-1", record=record,
                    campaign="tet", now=ISSUED_AT)
    return mid, got.code


def import_orders(store: MessagingStore, rows: list[list[str]], name: str = "don-hang.csv"):
    path = store.tmp / name
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    mapping = parse_mapping(yaml.safe_load(MAPPING))
    return store.on_writer(lambda: import_file(store.engine, path, mapping,
                                               quarantine_dir=store.tmp / "q"))


def run_job(store: MessagingStore) -> int:
    return store.on_writer(lambda: redeem_from_orders(store.engine, store.ops))


def test_a_pos_file_redeems_once_and_refuses_a_second_order(store):
    create_pool(store.ops, "tet", "Tết", valid_days=30)
    create_pool(store.ops, "hara", "Haravan", "imported")
    import_codes(store.ops, "hara", ["HARA-0001"])
    mid, code = coupon_for(store)
    mid_hara, hara = coupon_for(store, "u:KH05", pool="hara")
    typed = f"{code[:4].lower()} {code[4:]}"
    summary = import_orders(store, [
        ["HD001", "22/01/2025 10:30", "KH01", "store", "Q1", "AT-01", "1", "300000", typed, ""],
        ["HD002", "23/01/2025 18:00", "KH02", "store", "Q3", "AT-01", "1", "300000", code, ""],
        ["HD003", "23/01/2025 19:00", "KH03", "web", "", "AT-01", "1", "300000",
         "FREESHIP", ""],
        ["HD004", "24/01/2025 09:00", "KH05", "store", "Q1", "AT-01", "1", "300000", "",
         "hara-0001"],
        ["HD004", "24/01/2025 09:00", "KH05", "store", "Q1", "QJ-02", "1", "450000", "", ""],
    ])
    assert summary.rejected == 0

    assert run_job(store) == 2  # HD001 and the line coupon of HD004
    assert run_job(store) == 0
    assert store.relay() == 3 + 2  # 2 issued, 2 redeemed, 1 refused
    redeemed = store.log(COUPON_REDEEMED)
    assert [(e["message_id"], e["user_id"]) for e in redeemed] == [
        (f"coupon-redeemed:{code}", "KH01"), (f"coupon-redeemed:{hara}", "KH05")]
    assert redeemed[0]["timestamp"] == datetime(2025, 1, 22, 3, 30)  # 10:30 in Hồ Chí Minh
    assert redeemed[0]["properties"] == {
        "coupon": code, "pool": "tet", "message_id": mid, "campaign_id": "tet",
        "journey_id": None, "channel": "zalo", "order_id": "HD001", "store": "Q1",
        "source": "pos", "redeemed_channel": "store"}
    assert redeemed[1]["properties"]["message_id"] == mid_hara
    (refused,) = store.log(COUPON_REDEMPTION_REFUSED)
    assert refused["user_id"] == "KH02"
    assert refused["properties"] | {"first_redeemed_at": None} == {
        "coupon": code, "pool": "tet", "message_id": mid, "campaign_id": "tet",
        "journey_id": None, "order_id": "HD002", "store": "Q3", "source": "pos",
        "redeemed_channel": "store", "reason": "already_redeemed", "first_order_id": "HD001",
        "first_store": "Q1", "first_channel": "store", "first_source": "pos",
        "first_redeemed_at": None}
    assert refused["properties"]["first_redeemed_at"] == "2025-01-22T03:30:00Z"

    # The same file again, and one more order with the spent code: one more refusal only.
    import_orders(store, [
        ["HD001", "22/01/2025 10:30", "KH01", "store", "Q1", "AT-01", "1", "300000", typed, ""],
        ["HD009", "25/01/2025 08:00", "KH09", "store", "Q2", "AT-01", "1", "300000", code, ""],
    ], "don-hang-2.csv")
    assert run_job(store) == 0
    store.relay()
    assert len(store.log(COUPON_REDEEMED)) == 2
    assert [e["properties"]["order_id"] for e in store.log(COUPON_REDEMPTION_REFUSED)] == [
        "HD002", "HD009"]


def test_an_expired_coupon_on_an_order_is_refused_not_raised(store):
    create_pool(store.ops, "flash", "Flash sale", valid_days=1)
    _, code = coupon_for(store, pool="flash")
    import_orders(store, [
        ["HD010", "28/01/2025 10:00", "KH01", "store", "Q1", "AT-01", "1", "300000", code, ""]])
    assert run_job(store) == 0
    store.relay()
    (refused,) = store.log(COUPON_REDEMPTION_REFUSED)
    assert refused["properties"]["reason"] == "expired"
    assert refused["properties"]["expires_at"] == "2025-01-21T03:00:00Z"
    assert store.log(COUPON_REDEEMED) == []


def order_event(message_id: str, order_id: str, coupon: str | None, line_coupon: str | None,
                user_id: str = "KH01") -> dict:
    return {"type": "track", "event": "Order Completed", "messageId": message_id,
            "userId": user_id, "timestamp": "2025-01-22T04:00:00Z",
            "properties": {"order_id": order_id, "total": 300000, "coupon": coupon,
                           "products": [{"sku": "AT-01", "price": 300000, "quantity": 1,
                                         "coupon": line_coupon}]}}


def test_a_bulk_events_file_redeems_line_coupons(store):
    create_pool(store.ops, "tet", "Tết")
    mid, code = coupon_for(store)
    path = store.tmp / "events.ndjson"
    path.write_text("\n".join(orjson.dumps(e).decode() for e in [
        order_event("w-1", "W1", None, code.lower()),
        order_event("w-2", "W2", "SOMEONE-ELSES", None, user_id="KH02"),
    ]) + "\n", encoding="utf-8")
    store.on_writer(lambda: import_file(store.engine, path, events_mapping("app"),
                                        quarantine_dir=store.tmp / "q"))
    assert run_job(store) == 1
    store.relay()
    (event,) = store.log(COUPON_REDEEMED)
    assert event["properties"]["order_id"] == "W1"
    assert event["properties"]["message_id"] == mid and event["properties"]["source"] == "app"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_order_sent_to_v1_redeems_its_coupon(store, anyio_backend):
    create_pool(store.ops, "tet", "Tết")
    mid, code = coupon_for(store)
    web = create_source(store.ops, "web-shop", "web")
    app = FastAPI()
    app.include_router(segment_router)
    app.state.write_keys, app.state.writer = WriteKeys(store.ops), store.writer
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://sen.test", auth=(web.write_key, "")) as c:
        r = await c.post("/v1/track", json=order_event("v1-1", "WEB-77", code, None))
    assert r.status_code == 200, r.text
    assert run_job(store) == 1
    store.relay()
    (event,) = store.log(COUPON_REDEEMED)
    assert (event["properties"]["order_id"], event["properties"]["source"]) == (
        "WEB-77", "web-shop")


def test_the_watermark_survives_orders_being_renumbered(store):
    """DuckDB renumbers rowids when a checkpoint rewrites a table with deleted rows (as
    after a projection rebuild that drops an order; the writer checkpoints whenever
    traffic pauses): a new order may then sit at or below the watermark's rowid. The
    order id kept with the watermark notices."""
    create_pool(store.ops, "tet", "Tết")
    _, first = coupon_for(store)
    _, second = coupon_for(store, "u:KH02")
    import_orders(store, [
        ["HD001", "22/01/2025 10:30", "KH01", "store", "Q1", "AT-01", "1", "300000", first, ""],
        ["HD002", "22/01/2025 11:30", "KH03", "store", "Q1", "AT-01", "1", "300000", "", ""]])
    assert run_job(store) == 1
    mark = orjson.loads(read_meta(store.engine.cursor(), "coupons_orders_mark"))

    def checkpoint() -> None:
        store.engine.execute("CHECKPOINT")

    store.on_writer(lambda: store.engine.execute("DELETE FROM orders WHERE order_id = 'HD001'"))
    store.on_writer(checkpoint)
    import_orders(store, [
        ["HD003", "23/01/2025 10:30", "KH02", "store", "Q1", "AT-01", "1", "300000", second,
         ""]], "don-hang-3.csv")
    store.on_writer(checkpoint)
    rowid = store.engine.scalar("SELECT rowid FROM orders WHERE order_id = 'HD003'")
    assert rowid <= mark["rowid"], "the store did not renumber; this test checks nothing"
    assert run_job(store) == 1
    store.relay()
    assert {e["properties"]["order_id"] for e in store.log(COUPON_REDEEMED)} == {
        "HD001", "HD003"}


def test_nothing_to_do_without_orders(store):
    assert run_job(store) == 0
    assert Path(store.tmp).exists()
