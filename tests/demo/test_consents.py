"""Consent in the synthetic retailer: what the files state, what the ground truth says
they state, and what Sen records after importing them and reading the events."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
import yaml

from sen.demo import consents, generate
from sen.demo.load import load
from sen.identity.emails import normalise_email
from sen.identity.phones import normalise_phone
from sen.messaging import consent_events
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.store.operational import consents as consents_table

NOW = datetime(2026, 11, 2, 3, 0)
LOAD_ORDER = ("pos_customers.csv", "web_events.ndjson", "app_events.ndjson")


def truth_rows(out: Path) -> list[dict]:
    return pq.read_table(out / "ground_truth" / "consents.parquet").to_pylist()


def people(out: Path) -> dict[str, np.ndarray]:
    t = pq.read_table(out / "ground_truth" / "people.parquet",
                      columns=["person_id", "promotions_willingness"])
    return {k: t[k].to_numpy() for k in t.column_names}


def pos_file(out: Path) -> list[dict]:
    with (out / "pos_customers.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def consent_lines(out: Path) -> Iterator[tuple[str, int, dict]]:
    """(file, line number, event) of every event that carries consent boxes."""
    for name in LOAD_ORDER[1:]:
        with (out / name).open("rb") as f:
            for i, line in enumerate(f):
                if b'"consent":{' in line:
                    yield name, i, orjson.loads(line)


def test_consents_are_the_same_for_a_seed_and_differ_for_another(tmp_path: Path) -> None:
    for folder, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / folder, customers=800, seed=seed)
    a, b, c = (pq.read_table(tmp_path / x / "ground_truth" / "consents.parquet") for x in "abc")
    assert a.equals(b) and not a.equals(c)
    assert [r[consents.POS_HEADER] for r in pos_file(tmp_path / "a")] == \
        [r[consents.POS_HEADER] for r in pos_file(tmp_path / "b")]


def test_the_pos_column_is_mapped_and_its_shares_are_realistic(retailer) -> None:
    out, m = retailer
    mapping = yaml.safe_load((out / "pos_customers.mapping.yaml").read_text(encoding="utf-8"))
    assert mapping["columns"]["consent_advertising"] == consents.POS_HEADER == \
        "Đồng ý nhận khuyến mãi"
    rows = pos_file(out)
    values = [r[consents.POS_HEADER] for r in rows]
    assert set(values) == {"Có", "Không", ""}
    member = np.array([bool(r["Số thẻ thành viên"]) for r in rows])
    yes, blank = np.array([v == "Có" for v in values]), np.array([v == "" for v in values])
    assert 0.02 < blank.mean() < 0.07
    share = yes[~blank].mean()
    assert 0.50 < share < 0.65, share
    assert yes[member & ~blank].mean() > yes[~member & ~blank].mean() + 0.10
    assert m.counts["pos_promotions_yes"] == int(yes.sum())


def test_web_sign_ups_tick_boxes_and_some_people_withdraw_later(retailer) -> None:
    out, m = retailer
    rows = [r for r in truth_rows(out) if r["form"] != "pos_column"]
    sign_ups = {r["record"] for r in rows if r["form"] == "sign_up"}
    assert len(sign_ups) == m.counts["sign_ups"] > 0.2 * m.counts["people"]
    for channel, low, high in (("sms", 0.35, 0.6), ("email", 0.45, 0.7), ("push", 0.45, 0.65)):
        said = [r["granted"] for r in rows if r["form"] == "sign_up" and r["channel"] == channel]
        assert low < np.mean(said) < high, (channel, np.mean(said))
    withdrew = {r["record"] for r in rows if r["form"] == "settings" and not r["granted"]}
    assert 0.01 < len(withdrew) / m.counts["people"] < 0.05
    first = {(r["record"], r["channel"]): r for r in rows if r["form"] == "sign_up"}
    for r in rows:
        if r["form"] == "settings":
            signed = first[(r["record"], r["channel"])]
            assert r["at"] > signed["at"] and r["source"] == signed["source"]
            assert not r["granted"] or signed["granted"]  # only what was granted is withdrawn
    # people who agree at the till tend to agree on the web too (one willingness)
    willing = people(out)["promotions_willingness"]
    said_yes = [willing[r["person_id"]] for r in rows if r["channel"] == "sms" and r["granted"]]
    said_no = [willing[r["person_id"]] for r in rows if r["channel"] == "sms" and not r["granted"]]
    assert np.mean(said_yes) > np.mean(said_no) + 0.1


def test_ground_truth_says_what_the_files_say(retailer) -> None:
    out, _ = retailer
    rows = truth_rows(out)
    pos = [r for r in rows if r["source"] == "pos_customers.csv"]
    file_rows = pos_file(out)
    assert len(pos) == len(file_rows)
    for r, f in zip(pos, file_rows, strict=True):
        assert (r["record"], r["phone"], r["email"]) == (f["Mã KH"], f["Điện thoại"], f["Email"])
        expected = {"Có": True, "Không": False, "": None}[f[consents.POS_HEADER]]
        assert r["granted"] is expected
    by_line = {(r["source"], r["position"], r["channel"]): r for r in rows if r["message_id"]}
    seen: set[str] = set()
    for name, line, e in consent_lines(out):
        if e["messageId"] in seen:
            continue  # a second delivery of the same messageId
        seen.add(e["messageId"])
        said = e["traits"]["consent"]
        stated = [by_line[(name, line, channel)] for channel in said]
        for r, (channel, value) in zip(stated, said.items(), strict=True):
            assert (r["message_id"], r["record"], r["granted"]) == (
                e["messageId"], e["userId"], value), channel
            assert (r["phone"], r["email"]) == (e["traits"]["phone"], e["traits"].get("email"))
            at = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
            assert abs((at - r["at"]).total_seconds()) < 3 * 3600  # device clocks skew
        form, ctx = stated[0]["form"], e["context"]
        assert ctx["ip"]
        if name == "web_events.ndjson":
            page = consents.SIGNUP_PAGE if form == "sign_up" else consents.SETTINGS_PAGE
            assert ctx["page"] == page and ctx["userAgent"]
        else:
            assert "page" not in ctx and ("push" in said) == (form == "sign_up")
    assert seen == {r["message_id"] for r in rows if r["message_id"]}


def expected_consents(rows: list[dict]) -> dict[tuple[str, str], str]:
    """The consents table the statements should leave, by the documented rules: a yes
    grants; a no withdraws only what was granted; an older statement never overrides
    a newer one. Customer rows are stamped when imported, after every event."""
    state: dict[tuple[str, str], tuple[str, tuple]] = {}
    rows = sorted(rows, key=lambda r: (LOAD_ORDER.index(r["source"]), r["position"]))
    for r in rows:
        if r["granted"] is None or r["channel"] == "push":
            continue
        phone = normalise_phone(r["phone"] or "").e164
        email = normalise_email(r["email"] or "").email if r["email"] else None
        when = (1, r["position"]) if r["at"] is None else (0, r["at"])
        channels = ("sms", "zalo", "email") if r["channel"] == "advertising" else (r["channel"],)
        for channel in channels:
            address = email if channel == "email" else phone
            if not address:
                continue
            now = state.get((channel, address))
            if now is not None and now[1] > when:
                continue
            if r["granted"]:
                state[(channel, address)] = ("granted", when)
            elif now is not None and now[0] == "granted":
                state[(channel, address)] = ("revoked", when)
    return {k: v[0] for k, v in state.items()}


@pytest.fixture(scope="module")
def loaded(retailer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBEngine]:
    """The retailer imported through Sen's own import path."""
    out, _ = retailer
    tmp = tmp_path_factory.mktemp("loaded")
    engine = DuckDBEngine(tmp / "sen.duckdb")
    engine.migrate()
    ops = operational.connect(f"sqlite:///{tmp / 'ops.sqlite'}")
    load(out, engine, ops, quarantine_dir=tmp / "q", timezone="Asia/Ho_Chi_Minh")
    ops.dispose()
    yield engine
    engine.close()


def test_the_store_records_what_the_files_and_events_stated(retailer, loaded,
                                                             ops: sa.Engine) -> None:
    out, _ = retailer
    while consent_events.extract(loaded, ops, now=NOW, limit=5_000):
        pass  # small batches: sign-ups and withdrawals land in different ones too
    with ops.connect() as con:
        got = {(r.channel, r.address): r.status for r in con.execute(sa.select(consents_table))}
        sources = set(con.execute(sa.select(consents_table.c.source).distinct()).scalars())
        proofs = [orjson.loads(p) for p in con.execute(
            sa.select(consents_table.c.proof).where(consents_table.c.channel == "email"))
            .scalars()]
    want = expected_consents(truth_rows(out))
    assert got == want
    statuses = list(got.values())
    assert statuses.count("revoked") > 20 and statuses.count("granted") > 2_000
    assert sources == {"import"}
    assert any(p.get("page") == consents.SIGNUP_PAGE["url"] and p.get("ip") for p in proofs)
    assert consent_events.extract(loaded, ops, now=NOW) == 0
