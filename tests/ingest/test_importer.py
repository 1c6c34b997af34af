"""File imports: every format, the row accounting, quarantine and idempotence."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from sen.errors import ImportError_
from sen.ingest.importer import ImportSummary, events_mapping, import_file
from sen.ingest.mapping import load_mapping, parse_mapping
from sen.store.analytics import DuckDBEngine
from sen.store.operational import connect, import_runs

ORDER_HEADER = ["Số HĐ", "Ngày giờ", "Mã KH", "SĐT", "Kênh", "Cửa hàng", "Trạng thái",
                "Mã hàng", "Tên hàng", "Size", "Màu", "SL", "Đơn giá", "Giảm giá dòng"]
ORDER_ROWS = [
    ["HD001", "15/03/2024 10:30", "KH01", "0912345678", "store", "Q1", "completed",
     "AT-01", "Áo thun trắng", "M", "Trắng", "2", "150.000", "0"],
    ["HD001", "15/03/2024 10:30", "KH01", "0912345678", "store", "Q1", "completed",
     "QJ-02", "Quần jean xanh", "30", "Xanh", "1", "450000", "50000"],
    ["HD002", "16/03/2024 19:05", "KH02", "", "web", "", "refunded",
     "AT-01", "Áo thun trắng", "L", "Trắng", "1", "150000", ""],
    ["HD003", "31/02/2024 09:00", "KH03", "", "store", "Q3", "completed",
     "AT-01", "Áo thun trắng", "S", "Trắng", "1", "150000", ""],
    ["HD004", "17/03/2024 08:00", "KH04", "", "tivi", "Q3", "completed",
     "AT-01", "Áo thun trắng", "S", "Trắng", "1", "150000", ""],
    ["HD005", "17/03/2024 08:00", "", "", "store", "Q1", "completed",
     "AT-01", "Áo thun trắng", "S", "Trắng", "0", "150000", ""],
    ["HD006", "17/03/2024 08:00", "", "", "store", "Q1", "completed",
     "AT-01", "Áo thun trắng", "S", "Trắng", "1", "-5000", ""],
]
ORDERS_MAPPING = """
kind: orders
source: pos
timezone: Asia/Ho_Chi_Minh
date_format: "%d/%m/%Y %H:%M"
columns:
  order_id: "Số HĐ"
  ordered_at: "Ngày giờ"
  customer_id: "Mã KH"
  phone: "SĐT"
  channel: "Kênh"
  store_code: "Cửa hàng"
  status: "Trạng thái"
  sku: "Mã hàng"
  product_name: "Tên hàng"
  size: "Size"
  colour: "Màu"
  quantity: "SL"
  unit_price: "Đơn giá"
  line_discount: "Giảm giá dòng"
defaults: {currency: VND}
"""
CUSTOMERS_MAPPING = """
kind: customers
source: pos
columns: {customer_id: "Mã KH", name: "Họ tên", phone: "Điện thoại", email: "Email",
          created_at: "Ngày tạo"}
traits: ["Hạng thẻ"]
"""


@pytest.fixture
def engine(tmp_path: Path):
    eng = DuckDBEngine(tmp_path / "sen.duckdb")
    yield eng
    eng.close()


def write_csv(path: Path, header: list[str], rows: list[list[str]], **kw) -> Path:
    with path.open("w", encoding=kw.get("encoding", "utf-8"), newline="") as f:
        w = csv.writer(f, delimiter=kw.get("delimiter", ","))
        w.writerow(header)
        w.writerows(rows)
    return path


def run(engine, tmp_path, path, mapping_text: str, **kw) -> ImportSummary:
    return import_file(engine, path, parse_mapping(__import__("yaml").safe_load(mapping_text)),
                       quarantine_dir=tmp_path / "q", **kw)


def table(engine, sql: str) -> list[tuple]:
    return engine.execute(sql).fetchall()


def assert_accounting(s: ImportSummary) -> None:
    assert s.rows_in == s.accepted + s.rejected
    assert s.accepted == s.inserted + s.duplicates


def test_orders_csv_become_events_orders_and_items(engine, tmp_path):
    path = write_csv(tmp_path / "don-hang.csv", ORDER_HEADER, ORDER_ROWS)
    s = run(engine, tmp_path, path, ORDERS_MAPPING)
    assert_accounting(s)
    assert (s.rows_in, s.accepted, s.inserted, s.rejected) == (7, 3, 3, 4)
    assert table(engine, "SELECT order_id, status, total, subtotal, discount, item_count, "
                 "channel, store_code, ordered_at::VARCHAR FROM orders ORDER BY order_id") == [
        ("HD001", "completed", 700000, 750000, 50000, 3, "store", "Q1", "2024-03-15 03:30:00"),
        ("HD002", "refunded", 150000, 150000, None, 1, "web", None, "2024-03-16 12:05:00"),
    ]
    assert table(engine, "SELECT order_id, line_no, sku, name, size, colour, quantity, price, "
                 "discount FROM order_items ORDER BY order_id, line_no") == [
        ("HD001", 1, "AT-01", "Áo thun trắng", "M", "Trắng", 2, 150000, 0),
        ("HD001", 2, "QJ-02", "Quần jean xanh", "30", "Xanh", 1, 450000, 50000),
        ("HD002", 1, "AT-01", "Áo thun trắng", "L", "Trắng", 1, 150000, None),
    ]
    assert table(engine, "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("Order Completed", 2), ("Order Refunded", 1)]


def test_rejected_rows_are_quarantined_with_row_field_and_rule(engine, tmp_path):
    path = write_csv(tmp_path / "don-hang.csv", ORDER_HEADER, ORDER_ROWS)
    s = run(engine, tmp_path, path, ORDERS_MAPPING, load_id="imp-test")
    assert s.quarantine_path == tmp_path / "q" / "imp-test-don-hang.csv"
    with s.quarantine_path.open(encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [r["_row"] for r in got] == ["5", "6", "7", "8"]
    assert [r["_field"] for r in got] == ["ordered_at", "channel", "quantity", "unit_price"]
    assert "row 5: ordered_at" in got[0]["_reason"] and "[unparseable_date]" in got[0]["_reason"]
    assert "[unknown_channel]" in got[1]["_reason"] and "tivi" in got[1]["_reason"]
    assert "[quantity_not_positive]" in got[2]["_reason"]
    assert "[money_negative]" in got[3]["_reason"]
    assert got[0]["Số HĐ"] == "HD003" and got[0]["Tên hàng"] == "Áo thun trắng"
    assert table(engine, "SELECT count(*) FROM quarantine WHERE load_id = 'imp-test'") == [(4,)]


def test_a_bad_line_rejects_its_whole_order(engine, tmp_path):
    rows = [ORDER_ROWS[0], [*ORDER_ROWS[1][:11], "abc", *ORDER_ROWS[1][12:]]]
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, rows)
    s = run(engine, tmp_path, path, ORDERS_MAPPING)
    assert (s.accepted, s.rejected) == (0, 2)
    assert table(engine, "SELECT count(*) FROM orders") == [(0,)]
    with s.quarantine_path.open(encoding="utf-8") as f:
        reasons = [r["_reason"] for r in csv.DictReader(f)]
    assert "order_has_rejected_line" in reasons[0] and "quantity_not_positive" in reasons[1]


def test_importing_the_same_file_twice_changes_nothing(engine, tmp_path):
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, ORDER_ROWS)
    first = run(engine, tmp_path, path, ORDERS_MAPPING)
    snapshot = [table(engine, f"SELECT * EXCLUDE (load_id, received_at) FROM {t} ORDER BY ALL")
                if t == "events" else table(engine, f"SELECT * FROM {t} ORDER BY ALL")
                for t in ("events", "orders", "order_items", "customers")]
    second = run(engine, tmp_path, path, ORDERS_MAPPING)
    assert (second.rows_in, second.accepted, second.inserted, second.duplicates) == \
        (first.rows_in, first.accepted, 0, first.accepted)
    assert_accounting(second)
    again = [table(engine, f"SELECT * EXCLUDE (load_id, received_at) FROM {t} ORDER BY ALL")
             if t == "events" else table(engine, f"SELECT * FROM {t} ORDER BY ALL")
             for t in ("events", "orders", "order_items", "customers")]
    assert again == snapshot


def test_customers_xlsx_become_identifies_and_customers(engine, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mã KH", "Họ tên", "Điện thoại", "Email", "Ngày tạo", "Hạng thẻ"])
    import datetime as dt
    ws.append(["KH01", "Nguyễn Thị Hoa", "0912345678", "hoa@example.vn",
               dt.datetime(2023, 1, 5, 9, 0), "Vàng"])
    ws.append(["KH02", "Trần Văn Bình", 912000111, "khong-phai-email", "2023-02-01", None])
    ws.append([None, "Không mã", None, None, None, None])
    ws.append(["KH01", "Nguyễn Thị Hoa", "0912345678", "hoa@example.vn",
               dt.datetime(2023, 1, 5, 9, 0), "Kim cương"])
    path = tmp_path / "khach-hang.xlsx"
    wb.save(path)
    s = run(engine, tmp_path, path, CUSTOMERS_MAPPING)
    assert_accounting(s)
    assert (s.rows_in, s.accepted, s.inserted, s.rejected) == (4, 3, 3, 1)
    got = table(engine, "SELECT user_id, name, phone, email, traits ->> 'Hạng thẻ', "
                "first_seen::VARCHAR FROM customers ORDER BY user_id")
    # The later row of KH01 wins; a bad email is kept; created_at (Vietnam time) is first_seen.
    assert got == [
        ("KH01", "Nguyễn Thị Hoa", "0912345678", "hoa@example.vn", "Kim cương",
         "2023-01-05 02:00:00"),
        ("KH02", "Trần Văn Bình", "912000111", "khong-phai-email", None, "2023-01-31 17:00:00"),
    ]
    with s.quarantine_path.open(encoding="utf-8") as f:
        bad = list(csv.DictReader(f))
    assert bad[0]["_row"] == "4" and bad[0]["_field"] == "customer_id"


def test_duplicate_rows_within_a_file_count_as_duplicates(engine, tmp_path):
    header = ["Mã KH", "Họ tên", "Điện thoại", "Email", "Ngày tạo", "Hạng thẻ"]
    row = ["KH09", "Lê Văn C", "0987654321", "", "", "Bạc"]
    path = write_csv(tmp_path / "kh.csv", header, [row, row, row])
    s = run(engine, tmp_path, path, CUSTOMERS_MAPPING)
    assert (s.rows_in, s.accepted, s.inserted, s.duplicates) == (3, 3, 1, 2)
    assert table(engine, "SELECT count(*) FROM events") == [(1,)]


def test_csv_with_semicolons_and_utf16(engine, tmp_path):
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, ORDER_ROWS[:3], delimiter=";",
                     encoding="utf-16")
    text = ORDERS_MAPPING + 'options: {delimiter: ";", encoding: "utf-16"}\n'
    s = run(engine, tmp_path, path, text)
    assert (s.accepted, s.rejected) == (3, 0)


def test_orders_ndjson_and_parquet_give_the_same_orders(engine, tmp_path):
    records = [dict(zip(ORDER_HEADER, r, strict=True)) for r in ORDER_ROWS[:3]]
    nd = tmp_path / "o.ndjson"
    nd.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                  encoding="utf-8")
    pqf = tmp_path / "o.parquet"
    pq.write_table(pa.Table.from_pylist(records), pqf)
    a = run(engine, tmp_path, nd, ORDERS_MAPPING)
    orders_a = table(engine, "SELECT * FROM orders ORDER BY order_id")
    b = run(engine, tmp_path, pqf, ORDERS_MAPPING)
    assert (a.inserted, b.inserted, b.duplicates) == (3, 0, 3)
    assert table(engine, "SELECT * FROM orders ORDER BY order_id") == orders_a


def test_products_and_stores_are_upserted(engine, tmp_path):
    mapping = """
kind: products
source: erp
columns: {sku: "Mã", name: "Tên", list_price: "Giá niêm yết", colour: "Màu"}
"""
    path = write_csv(tmp_path / "sp.csv", ["Mã", "Tên", "Giá niêm yết", "Màu"],
                     [["AT-01", "Áo thun", "150000", "Trắng"], ["QJ-02", "Quần jean", "x", ""]])
    s = run(engine, tmp_path, path, mapping)
    assert (s.inserted, s.rejected) == (1, 1)
    path2 = write_csv(tmp_path / "sp2.csv", ["Mã", "Tên", "Giá niêm yết", "Màu"],
                      [["AT-01", "Áo thun", "150000", "Trắng"], ["AT-01", "Áo thun", "169000",
                                                                 "Trắng"]])
    s2 = run(engine, tmp_path, path2, mapping)
    assert (s2.rows_in, s2.inserted, s2.duplicates) == (2, 1, 1)
    assert table(engine, "SELECT sku, name, list_price, colour FROM products") == [
        ("AT-01", "Áo thun", 169000, "Trắng")]
    stores = """
kind: stores
source: erp
columns: {store_code: "Mã CH", name: "Tên", latitude: "Vĩ độ", longitude: "Kinh độ",
          opened_on: "Khai trương"}
date_format: "%d/%m/%Y"
"""
    path3 = write_csv(tmp_path / "ch.csv", ["Mã CH", "Tên", "Vĩ độ", "Kinh độ", "Khai trương"],
                      [["Q1", "Sen Quận 1", "10.7769", "106.7009", "01/06/2019"]])
    s3 = run(engine, tmp_path, path3, stores)
    assert s3.inserted == 1
    assert table(engine, "SELECT store_code, latitude, opened_on::VARCHAR FROM stores") == [
        ("Q1", 10.7769, "2019-06-01")]
    assert run(engine, tmp_path, path3, stores).duplicates == 1


def test_mapping_naming_a_missing_column_says_which(engine, tmp_path):
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, ORDER_ROWS[:1])
    with pytest.raises(ImportError_, match=r"columns.sku names the column 'Mã SP'.*Mã hàng"):
        run(engine, tmp_path, path, ORDERS_MAPPING.replace('"Mã hàng"', '"Mã SP"'))


def test_import_runs_are_recorded(engine, tmp_path):
    ops = connect(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, ORDER_ROWS)
    s = run(engine, tmp_path, path, ORDERS_MAPPING, ops=ops)
    with ops.connect() as con:
        row = con.execute(sa.select(import_runs)).mappings().one()
    assert row["id"] == s.load_id and row["status"] == "done"
    assert (row["rows_in"], row["accepted"], row["rejected"]) == (7, 3, 4)
    assert len(row["file_sha256"]) == 64


def test_a_failed_import_leaves_the_store_as_it_was(engine, tmp_path):
    path = write_csv(tmp_path / "o.csv", ORDER_HEADER, ORDER_ROWS[:2])
    run(engine, tmp_path, path, ORDERS_MAPPING)
    before = table(engine, "SELECT count(*) FROM events")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(ImportError_):
        import_file(engine, broken, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert table(engine, "SELECT count(*) FROM events") == before
    assert engine.scalar("SELECT count(*) FROM duckdb_tables() WHERE temporary") == 0


def test_mapping_file_on_disk(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text(ORDERS_MAPPING, encoding="utf-8")
    assert load_mapping(p).columns["order_id"] == "Số HĐ"
