"""The demo retailer's own dirty phones normalise to the numbers people really have.

The generator plants spaced, dotted, ``+84``/``84``/``0084`` and pre-2018
11-digit numbers, and placeholders; its ground truth says whose each record is.
Records that are *meant* to carry another number (a store's hotline typed for a
walk-in customer, a planted typo, a second phone on a duplicate record) are
left out: they are tests for later merge passes, not for normalisation.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sen.demo import generate
from sen.demo.dirt import JUNK_PHONES
from sen.identity import normalise_phone

CUSTOMERS = 10_000
SECONDS = 15


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("identity_retailer")
    started = time.perf_counter()
    generate(out, customers=CUSTOMERS, with_events=False)
    assert time.perf_counter() - started < SECONDS
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _truth(retailer: Path) -> tuple[dict[int, str | None], list[dict]]:
    """Each person's true number in E.164, and every identifier record.

    ``people.parquet`` writes ``phone_e164`` as ``+84`` + the national form
    (``+840912…``, the trunk-0 slip); reading it through the normaliser gives the
    true number whether or not the generator writes it that way.
    """
    gt = retailer / "ground_truth"
    people = pq.read_table(gt / "people.parquet", columns=["person_id", "phone_e164"]).to_pylist()
    records = pq.read_table(gt / "records.parquet").to_pylist()
    return {p["person_id"]: normalise_phone(p["phone_e164"]).e164 for p in people}, records


def _planted_pos_phones(retailer: Path, records: list[dict]) -> list[tuple[str, int]]:
    """(typed phone, person) for POS customer records that carry the person's own number."""
    person_of = {
        r["value"]: r["person_id"]
        for r in records
        if (r["file"], r["kind"]) == ("pos_customers.csv", "customer_id")
    }
    dups = pq.read_table(retailer / "ground_truth" / "duplicates.parquet").to_pylist()
    other_number = {d["customer_id_b"] for d in dups if d["kind"] in ("phone_typo", "second_phone")}
    hotlines = {s["Hotline"] for s in _csv(retailer / "stores.csv")}
    return [
        (row["Điện thoại"], person_of[row["Mã KH"]])
        for row in _csv(retailer / "pos_customers.csv")
        if row["Mã KH"] not in other_number and row["Điện thoại"] not in hotlines
    ]


def _planted_other_phones(records: list[dict]) -> list[tuple[str, int]]:
    """Zalo followers' shared numbers (``84…``) and numbers typed on walk-in invoices."""
    files = ("zalo_followers.csv", "pos_invoices.csv")
    return [
        (r["value"], r["person_id"]) for r in records if r["kind"] == "phone" and r["file"] in files
    ]


def test_planted_phones_normalise_to_the_true_number(retailer: Path) -> None:
    truth, records = _truth(retailer)
    planted = _planted_pos_phones(retailer, records) + _planted_other_phones(records)
    valid = [(raw, person) for raw, person in planted if raw and raw not in JUNK_PHONES]
    results = [(normalise_phone(raw), truth[person]) for raw, person in valid]
    wrong = [(r.raw, r.e164 or r.reason, want) for r, want in results if r.e164 != want]
    assert len(valid) > 5_000
    assert None not in {want for _, want in results}
    assert sum(r.migrated for r, _ in results) > 200  # the legacy forms were exercised
    assert len({r.raw[:3] for r, _ in results}) > 20  # and many typing styles
    assert len(wrong) <= 0.01 * len(valid), wrong[:20]


def test_planted_junk_phones_are_all_rejected(retailer: Path) -> None:
    _, records = _truth(retailer)
    junk = [raw for raw, _ in _planted_pos_phones(retailer, records) if raw in JUNK_PHONES]
    reasons = Counter(str(normalise_phone(raw).reason) for raw in junk)
    assert len(junk) > 20
    assert "None" not in reasons, reasons


def test_store_hotlines_in_the_demo_are_mobile_numbers(retailer: Path) -> None:
    results = [normalise_phone(s["Hotline"]) for s in _csv(retailer / "stores.csv")]
    assert all(r.kind == "mobile" and r.carrier for r in results)


def test_the_sql_shortcut_agrees_on_every_demo_phone(retailer: Path) -> None:
    """The resolver normalises common shapes in SQL; on the demo's phones it must
    give what the Python gives, and take the shortcut for most of them."""
    import duckdb

    from sen.identity.sql_normalise import fast_sql

    rows = _csv(retailer / "pos_customers.csv")
    raws = sorted({r["Điện thoại"].strip() for r in rows if r["Điện thoại"].strip()})
    con = duckdb.connect()
    fast = dict(con.execute(
        f"SELECT raw, {fast_sql(id_type=repr('phone'), raw='raw')} FROM unnest(?) AS t(raw)",
        [raws]).fetchall())
    taken = {raw: value for raw, value in fast.items() if value is not None}
    assert len(taken) > 0.7 * len(raws)
    for raw, value in taken.items():
        assert normalise_phone(raw).e164 == value, raw
