"""Events files: checked in DuckDB with the same rules as the HTTP path."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sen.errors import StoreError
from sen.ingest.bulk_events import lines_at
from sen.ingest.importer import events_mapping, import_file
from sen.ingest.spec import Rejection, message_key, validate_event
from sen.store.analytics import DuckDBEngine

GOOD = [
    {"type": "track", "event": "Product Viewed", "messageId": "e1", "anonymousId": "a1",
     "timestamp": "2024-05-01T10:00:00+07:00", "properties": {"sku": "AT-01", "price": 150000}},
    {"type": "identify", "messageId": "e2", "userId": "KH01",
     "traits": {"name": "Phạm Thu", "phone": "0912345678"}},
    {"type": "page", "messageId": "e3", "userId": 42, "name": "Trang chủ",
     "timestamp": "2024-05-01T03:00:00Z", "sentAt": "2024-05-01T03:00:10Z",
     "receivedAt": "2024-05-01T03:00:05Z", "context": {"ip": "1.2.3.4"}},
    {"type": "alias", "messageId": "e4", "previousId": "a1", "userId": "KH01"},
    {"type": "group", "messageId": "e5", "userId": "KH01", "groupId": "cty-1"},
    {"type": "track", "event": "Order Completed", "messageId": "e6", "userId": "KH01",
     "properties": {"order_id": "W1", "total": 300000,
                    "products": [{"sku": "AT-01", "price": 150000, "quantity": 2}]}},
]
BAD = [
    {"type": "tracking", "messageId": "b1", "userId": "u"},
    {"type": "track", "messageId": "b2", "userId": "u"},
    {"type": "track", "messageId": "b3", "event": "X"},
    {"type": "alias", "messageId": "b4", "userId": "u"},
    {"type": "group", "messageId": "b5", "userId": "u"},
    {"type": "track", "messageId": "b6", "event": "X", "userId": "u", "timestamp": "hôm qua"},
    {"type": "track", "messageId": "b7", "event": "X", "userId": "u", "properties": [1, 2]},
    {"type": "track", "messageId": "b8", "event": "X", "userId": "u",
     "properties": {"blob": "x" * 40_000}},
    {"type": "track", "messageId": "", "event": "X", "userId": "u"},
]


@pytest.fixture
def engine(tmp_path: Path):
    eng = DuckDBEngine(tmp_path / "sen.duckdb")
    yield eng
    eng.close()


def write_ndjson(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_message_key_equals_duckdb_md5_number_upper():
    ids = ["e1", "m-000000001", "Đơn hàng #1", "x" * 255]
    got = duckdb.sql("SELECT md5_number_upper(unnest(?))", params=[ids]).fetchall()
    assert [r[0] for r in got] == [message_key(i) for i in ids]
    assert message_key("e1") == int.from_bytes(hashlib.md5(b"e1").digest()[:8], "little")


def test_good_and_bad_events_are_decided_as_the_http_path_decides(engine, tmp_path):
    lines = [json.dumps(e, ensure_ascii=False) for e in GOOD + BAD]
    s = import_file(engine, write_ndjson(tmp_path / "ev.ndjson", lines), events_mapping("web"),
                    quarantine_dir=tmp_path / "q")
    now = datetime(2024, 6, 1)
    expected_bad = [e["messageId"] for e in GOOD + BAD
                    if isinstance(validate_event(e, source="web", received_at=now), Rejection)]
    assert sorted(expected_bad) == sorted(e["messageId"] for e in BAD)
    assert (s.rows_in, s.accepted, s.inserted, s.rejected) == (15, 6, 6, 9)
    stored = {r[0] for r in engine.execute("SELECT message_id FROM events").fetchall()}
    assert stored == {e["messageId"] for e in GOOD}
    rules = dict(engine.execute(
        "SELECT json_extract_string(payload, '$.messageId'), reason FROM quarantine").fetchall())
    for e in BAD:
        http = validate_event(e, source="web", received_at=now)
        assert f"[{http.rule}]" in rules[e["messageId"]], (e["messageId"], rules[e["messageId"]])


def test_times_are_utc_and_skew_corrected(engine, tmp_path):
    lines = [json.dumps(e) for e in GOOD[:3]]
    import_file(engine, write_ndjson(tmp_path / "ev.ndjson", lines), events_mapping("web"),
                quarantine_dir=tmp_path / "q")
    got = dict(engine.execute("SELECT message_id, timestamp::VARCHAR FROM events").fetchall())
    assert got["e1"] == "2024-05-01 03:00:00"
    # received 03:00:05, sent 03:00:10 by a clock 10 s after the event: 02:59:55.
    assert got["e3"] == "2024-05-01 02:59:55"
    assert engine.scalar("SELECT user_id FROM events WHERE message_id = 'e3'") == "42"


def test_malformed_lines_are_quarantined_not_fatal(engine, tmp_path):
    lines = [json.dumps(GOOD[0]), '{"type": "track", "event": ', "", "[1, 2]", "{}",
             json.dumps(GOOD[1])]
    s = import_file(engine, write_ndjson(tmp_path / "ev.ndjson", lines), events_mapping("app"),
                    quarantine_dir=tmp_path / "q", load_id="imp-x")
    assert (s.rows_in, s.accepted, s.rejected) == (5, 2, 3)
    q = (tmp_path / "q" / "imp-x-ev.csv").read_text(encoding="utf-8")
    assert "invalid_json" in q and "object_required" in q and '"{""type"": ""track""' in q
    rows = duckdb.read_csv(str(tmp_path / "q" / "imp-x-ev.csv")).fetchall()
    assert [r[0] for r in rows] == [2, 3, 4]


def test_duplicates_within_the_file_and_across_imports(engine, tmp_path):
    lines = [json.dumps(GOOD[0]), json.dumps({**GOOD[0], "event": "Changed"}),
             json.dumps(GOOD[1])]
    path = write_ndjson(tmp_path / "ev.ndjson", lines)
    s = import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert (s.rows_in, s.inserted, s.duplicates) == (3, 2, 1)
    assert engine.scalar("SELECT event FROM events WHERE message_id = 'e1'") == "Product Viewed"
    again = import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert (again.inserted, again.duplicates) == (0, 3)
    assert engine.scalar("SELECT count(*) FROM events") == 2


def test_events_without_message_id_get_a_stable_one(engine, tmp_path):
    e = {k: v for k, v in GOOD[0].items() if k != "messageId"}
    path = write_ndjson(tmp_path / "ev.ndjson", [json.dumps(e)])
    import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert engine.scalar("SELECT count(*) FROM events") == 1


def test_parquet_events_and_projections(engine, tmp_path):
    rows = [{**{k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in e.items()}}
            for e in GOOD]
    for r in rows:
        if "userId" in r:
            r["userId"] = str(r["userId"])
    keys = sorted({k for r in rows for k in r})
    path = tmp_path / "ev.parquet"
    pq.write_table(pa.table({k: [r.get(k) for r in rows] for k in keys}), path)
    s = import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert (s.accepted, s.rejected) == (6, 0)
    assert engine.scalar("SELECT total FROM orders WHERE order_id = 'W1'") == 300000
    assert engine.scalar("SELECT name FROM customers WHERE user_id = 'KH01'") == "Phạm Thu"


def test_big_file_keeps_line_order_across_threads(engine, tmp_path):
    """1.2M records (~90 MB) are read by several threads: record numbers of broken
    lines, and which copy of a repeated messageId wins, still follow the file."""
    n = 1_200_000
    out = []
    for i in range(n):
        if i % 99_991 == 7:
            out.append("   ")
        if i % 50_000 == 11:
            out.append(f'{{"type": "track", "messageId": "broken-{i}", ')
        else:
            mid = i - 1 if i % 100_000 == 5 else i
            out.append(f'{{"type":"track","messageId":"m{mid}","event":"E{i}","anonymousId":"a"}}')
    path = write_ndjson(tmp_path / "big.ndjson", out)
    s = import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q",
                    load_id="imp-big")
    broken = [i for i in range(n) if i % 50_000 == 11]
    repeats = [i for i in range(n) if i % 100_000 == 5]
    assert (s.rows_in, s.rejected, s.duplicates) == (n, len(broken), len(repeats))
    q = duckdb.read_csv(str(tmp_path / "q" / "imp-big-big.csv")).fetchall()
    assert [(r[0], r[-1]) for r in q] == [
        (i + 1, f'{{"type": "track", "messageId": "broken-{i}", ') for i in broken]
    firsts = dict(engine.execute(
        "SELECT message_id, event FROM events WHERE message_id IN "
        f"({', '.join(repr(f'm{i - 1}') for i in repeats)})").fetchall())
    assert firsts == {f"m{i - 1}": f"E{i - 1}" for i in repeats}


def test_a_stage_that_would_lose_the_file_order_is_refused(engine, tmp_path):
    engine.execute("SET preserve_insertion_order = false")
    path = write_ndjson(tmp_path / "ev.ndjson", [json.dumps(GOOD[0])])
    with pytest.raises(StoreError, match="order"):
        import_file(engine, path, events_mapping("web"), quarantine_dir=tmp_path / "q")
    assert engine.scalar("SELECT count(*) FROM events") == 0


@pytest.mark.parametrize(("text", "wanted", "expected"), [
    ("a\nb\nc\n", [1, 3], {1: "a", 3: "c"}),
    ("a\n\n  \t\nb\r\nc", [2, 3], {2: "b", 3: "c"}),
    ("\n\nx\n", [1, 2], {1: "x"}),
    ("  y \n", [1], {1: "  y "}),
])
def test_lines_at_counts_records_as_read_json_does(tmp_path, text, wanted, expected):
    path = tmp_path / "l.ndjson"
    path.write_bytes(text.encode())
    assert lines_at(path, wanted) == expected
