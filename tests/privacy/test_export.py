"""Exporting a customer's data: every section holds hers, and nobody else's."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import orjson
import pytest

from sen import privacy
from sen.errors import NotFoundError
from sen.identity import profiles

NOW = datetime(2026, 12, 1, 8, 0)
SECTIONS = ("profile", "records", "identifiers", "fields", "devices", "merges", "traits",
            "trait_periods", "custom_traits", "segments", "orders", "order_lines", "events",
            "consents", "messages", "coupons", "clicks", "push_subscriptions", "campaigns")


def _text(rows: list[dict]) -> str:
    return orjson.dumps(rows, default=str).decode().casefold()


def test_every_section_holds_her_data_and_nobody_elses(store, ops, people) -> None:
    her, other = people
    result = privacy.export(store, ops, her.profile_id, actor="agent", now=NOW)
    s = result.sections
    assert tuple(s) == SECTIONS
    assert all(s[name] for name in SECTIONS), [n for n in SECTIONS if not s[n]]
    assert s["profile"][0]["phone"] == her.phone and s["profile"][0]["name"] == her.name
    assert {r["record"] for r in s["records"]} == {*her.records, f"a:push:{her.endpoint}"}
    assert her.phone in {i["value"] for i in s["identifiers"]}
    assert her.email in {i["value"] for i in s["identifiers"]}
    assert {"first_seen", "last_seen", "source", "raw"} <= set(s["identifiers"][0])
    assert any(f["field"] == "name" for f in s["fields"])
    assert s["traits"][0]["profile_id"] == her.profile_id
    assert s["custom_traits"] == [{"trait": "favourite_colour", "value_num": None,
                                   "value_text": "Xám"}]
    assert "vip" in {r["segment"] for r in s["segments"]}
    cur = store.cursor()
    assert {o["order_id"] for o in s["orders"]} == {
        o["order_id"] for o in profiles.orders(cur, her.profile_id, limit=1000)}
    assert {line["order_id"] for line in s["order_lines"]} <= {o["order_id"]
                                                               for o in s["orders"]}
    # Every event of her records, with its properties, traits and context as objects;
    # and her browser's push consent, which identity keeps apart (it names only the browser).
    timeline = profiles.events(cur, her.profile_id, limit=100_000)
    extra = [e for e in s["events"] if e["anonymous_id"] == f"push:{her.endpoint}"]
    assert len(s["events"]) == len(timeline) + 1
    assert [e["event"] for e in extra] == ["Consent Granted"]
    identifies = [e for e in s["events"] if e["type"] == "identify"]
    assert identifies and all(isinstance(e["traits"], dict) for e in identifies)
    assert {c["address"] for c in s["consents"]} == {her.phone, her.email, her.endpoint}
    proof = next(c["proof"] for c in s["consents"] if c["channel"] == "sms")
    assert proof["ip"] == "113.161.5.9" and proof["entered_for"] == her.name
    assert {m["address"] for m in s["messages"]} == {her.phone, her.email}
    assert any(her.name in m["body"] for m in s["messages"])
    assert [c["code"] for c in s["coupons"]] == ["TET-HER"]
    assert s["clicks"][0]["ip"] == "14.161.20.3"
    assert [p["endpoint"] for p in s["push_subscriptions"]] == [her.endpoint]
    assert s["campaigns"] == [{"owner": "campaign:tet", "grp": "treatment",
                               "assigned_at": s["campaigns"][0]["assigned_at"]}]
    # Nobody else's data in any section.
    everything = _text([r for rows in s.values() for r in rows])
    for needle in other.needles:
        assert needle.casefold() not in everything, needle


def test_the_json_is_one_document_and_the_zip_opens_in_excel(store, ops, people) -> None:
    her, _ = people
    result = privacy.export(store, ops, her.profile_id, actor="agent", now=NOW)
    doc = orjson.loads(result.to_json())
    assert doc["format"] == "sen.personal-data/1" and doc["profile_id"] == her.profile_id
    assert doc["exported_at"] == "2026-12-01T08:00:00+00:00"
    assert {k: len(v) for k, v in doc["sections"].items()} == result.counts()
    with zipfile.ZipFile(io.BytesIO(result.to_zip())) as z:
        names = z.namelist()
        assert names == ["personal-data.json", *(f"{n}.csv" for n in SECTIONS)]
        assert orjson.loads(z.read("personal-data.json")) == doc
        for name in SECTIONS:
            raw = z.read(f"{name}.csv")
            assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads Vietnamese
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            assert len(rows) == len(result.sections[name]), name
        profile = next(csv.DictReader(io.StringIO(z.read("profile.csv").decode("utf-8-sig"))))
        assert profile["name"] == her.name and profile["phone"] == her.phone


def test_the_export_is_recorded_without_her_data(store, ops, people) -> None:
    her, _ = people
    privacy.export(store, ops, her.profile_id, actor="agent", now=NOW)
    (row,) = privacy.requests(ops)
    assert (row["kind"], row["profile_id"], row["requested_by"], row["done_at"]) == \
        ("export", her.profile_id, "agent", NOW)
    assert row["summary"]["sections"]["events"] > 10
    text = orjson.dumps(row, default=str).decode().casefold()
    assert [n for n in her.needles if n.casefold() in text] == []


def test_a_merged_away_id_exports_the_profile_it_lives_in(store, ops, people) -> None:
    her, _ = people
    old = store.execute("""SELECT list_filter(other_profiles, lambda x: x <> profile_id)[1]
                           FROM identity_merge_log WHERE profile_id = ? AND action = 'merged'
                           LIMIT 1""", [her.profile_id]).fetchone()[0]
    result = privacy.export(store, ops, old, actor="agent", now=NOW)
    assert (result.requested, result.profile_id) == (old, her.profile_id)


def test_nobody_to_export(store, ops, people) -> None:
    her, _ = people
    with pytest.raises(NotFoundError):
        privacy.export(store, ops, "p_0000000000000000")
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    with pytest.raises(NotFoundError, match="erased on 2026-12-01"):
        privacy.export(store, ops, her.profile_id)
    assert [r["kind"] for r in privacy.requests(ops)] == ["erase"]
