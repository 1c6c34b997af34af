"""Consent stated in customer files and identify events, read from the real import path."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from sen.ingest.importer import import_file
from sen.ingest.mapping import parse_mapping
from sen.messaging import consent, consent_events
from sen.messaging.consent_events import stated, truth
from sen.messaging.model import CONSENT_GRANTED, CONSENT_REVOKED, Channel, ConsentStatus
from sen.store.analytics import DuckDBEngine
from tests.messaging.conftest import pending

NOW = datetime(2026, 12, 1, 5, 0)
MAPPING = """
kind: customers
source: pos
columns: {customer_id: "Mã KH", phone: "Điện thoại", email: "Email",
          consent_advertising: "Đồng ý nhận khuyến mãi"}
"""


@pytest.fixture
def engine(tmp_path: Path):
    eng = DuckDBEngine(tmp_path / "sen.duckdb")
    eng.migrate()
    yield eng
    eng.close()


def import_customers(engine: DuckDBEngine, tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / f"kh-{len(list(tmp_path.glob('kh-*')))}.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Mã KH", "Điện thoại", "Email", "Đồng ý nhận khuyến mãi"])
        w.writerows(rows)
    import_file(engine, path, parse_mapping(yaml.safe_load(MAPPING)),
                quarantine_dir=tmp_path / "q")


def statuses(ops: sa.Engine, *pairs: tuple[str, str]) -> dict:
    with ops.connect() as con:
        return consent.statuses(con, pairs, "advertising")


@pytest.mark.parametrize(("value", "answer"), [
    ("Y", True), ("có", True), ("Đồng ý", True), ("x", True), (1, True), (True, True),
    ("N", False), ("Không", False), ("0", False), (False, False),
    ("", None), ("maybe", None), (None, None),
])
def test_yes_and_no_as_people_write_them(value: object, answer: bool | None) -> None:
    assert truth(value) == answer


def test_narrow_keys_win_over_broad_ones() -> None:
    said = stated({"consent_advertising": "Y", "consent_email": "N"}, {})
    assert said == {Channel.SMS: True, Channel.ZALO: True, Channel.EMAIL: False}
    segment = stated({}, {"consent": {"categoryPreferences": {"Advertising": False}}})
    assert set(segment.values()) == {False}
    nested = stated({"consent": {"sms": True, "email": False}}, {})
    assert nested == {Channel.SMS: True, Channel.EMAIL: False}


def test_a_pos_column_grants_consent_once_and_no_is_not_an_opt_out(
        engine: DuckDBEngine, ops: sa.Engine, tmp_path: Path) -> None:
    import_customers(engine, tmp_path, [
        ["K1", "0912 345 678", "Lan@Example.com ", "Có"],
        ["K2", "0987654321", "", "Không"],
    ])
    assert consent_events.extract(engine, ops, now=NOW) == 2
    got = statuses(ops, ("sms", "+84912345678"), ("email", "lan@example.com"),
                   ("sms", "+84987654321"))
    assert got == {("sms", "+84912345678"): ConsentStatus.GRANTED,
                   ("email", "lan@example.com"): ConsentStatus.GRANTED}
    granted = pending(ops, CONSENT_GRANTED)
    assert len(granted) == 3  # sms, zalo and email of K1
    assert {json.loads(g.properties)["source"] for g in granted} == {"import"}
    assert consent_events.extract(engine, ops, now=NOW) == 0  # its place in the log is kept


def test_a_later_no_withdraws_what_was_granted(engine: DuckDBEngine, ops: sa.Engine,
                                               tmp_path: Path) -> None:
    import_customers(engine, tmp_path, [["K1", "0912345678", "", "Y"]])
    consent_events.extract(engine, ops, now=NOW)
    import_customers(engine, tmp_path, [["K1", "0912345678", "", "N"]])
    consent_events.extract(engine, ops, now=NOW)
    assert statuses(ops, ("sms", "+84912345678")) == {
        ("sms", "+84912345678"): ConsentStatus.REVOKED}
    assert len(pending(ops, CONSENT_REVOKED)) == 2  # sms and zalo


def test_a_sign_up_and_its_withdrawal_read_in_one_batch_both_count(
        engine: DuckDBEngine, ops: sa.Engine, tmp_path: Path) -> None:
    """Web identifies as an events file: the sign-up's boxes, then the account page's."""
    def identify(mid: str, at: str, said: dict, page: str) -> dict:
        return {"messageId": mid, "type": "identify", "userId": "U1", "timestamp": at,
                "traits": {"phone": "0912345678", "email": "lan@example.com",
                           "consent": said},
                "context": {"ip": "14.1.2.3", "userAgent": "Mozilla/5.0",
                            "page": {"url": f"https://shop.vn{page}"}}}
    lines = [identify("m1", "2026-03-01T02:00:00Z", {"sms": True, "email": True}, "/dang-ky"),
             identify("m2", "2026-05-01T02:00:00Z", {"sms": False, "email": True},
                      "/tai-khoan")]
    path = tmp_path / "web.ndjson"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    import_file(engine, path, parse_mapping({"kind": "events", "source": "web",
                                             "format": "ndjson"}),
                quarantine_dir=tmp_path / "q")
    assert consent_events.extract(engine, ops, now=NOW) == 2
    got = statuses(ops, ("sms", "+84912345678"), ("email", "lan@example.com"))
    assert got == {("sms", "+84912345678"): ConsentStatus.REVOKED,
                   ("email", "lan@example.com"): ConsentStatus.GRANTED}
    granted = {json.loads(g.properties)["address"] for g in pending(ops, CONSENT_GRANTED)}
    [revoked] = pending(ops, CONSENT_REVOKED)
    assert granted == {"+84912345678", "lan@example.com"}
    proof = json.loads(revoked.properties)["proof"]
    assert (proof["page"], proof["ip"], proof["event"]) == (
        "https://shop.vn/tai-khoan", "14.1.2.3", "m2")
