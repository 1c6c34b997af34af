"""The synthetic retailer: determinism, shapes, ground truth, dirt and behaviour."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import numpy as np
import orjson
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from openpyxl import load_workbook

import sen.demo
from sen.demo import Manifest, generate
from sen.demo.phones import ALL_PREFIXES, LEGACY_PREFIX

from .conftest import CUSTOMERS

DATA_FILES = (
    "stores.csv",
    "products.xlsx",
    "pos_customers.csv",
    "pos_invoices.csv",
    "marketplace_orders.csv",
    "zalo_followers.csv",
    "web_events.ndjson",
    "app_events.ndjson",
)
SEN_FIELDS = {
    "customers": {
        "customer_id",
        "name",
        "phone",
        "email",
        "gender",
        "birth_date",
        "province",
        "address",
        "zalo_id",
        "loyalty_card",
        "store_code",
        "created_at",
        "consent_advertising",
        "consent_sms",
        "consent_zalo",
        "consent_email",
    },
    "orders": {
        "order_id",
        "ordered_at",
        "customer_id",
        "phone",
        "email",
        "customer_name",
        "channel",
        "store_code",
        "marketplace",
        "buyer_id",
        "status",
        "currency",
        "shipping",
        "order_discount",
        "order_coupon",
        "total",
        "sku",
        "product_id",
        "product_name",
        "brand",
        "category",
        "size",
        "colour",
        "quantity",
        "unit_price",
        "line_discount",
        "line_coupon",
    },
    "products": {"sku", "product_id", "name", "brand", "category", "size", "colour", "list_price"},
    "stores": {"store_code", "name", "province", "region", "latitude", "longitude", "opened_on"},
    "events": set(),
}


def csv(out: Path, name: str):
    return pacsv.read_csv(
        out / name,
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False,
            column_types={
                "Mã KH": "string",
                "SĐT": "string",
                "Điện thoại": "string",
                "Số điện thoại": "string",
                "Zalo User ID": "string",
                "Size": "string",
            },
        ),
    ).to_pandas()


def events(out: Path) -> list[dict]:
    lines = []
    for name in ("web_events.ndjson", "app_events.ndjson"):
        lines += [orjson.loads(line) for line in (out / name).read_bytes().splitlines()]
    return lines


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_public_api_is_generate_and_manifest() -> None:
    assert set(sen.demo.__all__) == {"generate", "Manifest", "FileEntry"}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", customers=1_500, seed=5)
    generate(tmp_path / "b", customers=1_500, seed=5)
    generate(tmp_path / "c", customers=1_500, seed=6)
    da, db, dc = (digest(tmp_path / x) for x in "abc")
    assert da == db
    assert len(da) == len(a.files)
    changed = {k for k in da if da[k] != dc[k]}
    assert {"pos_customers.csv", "pos_invoices.csv", "web_events.ndjson"} <= changed


def test_events_do_not_shift_the_other_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", customers=1_500, seed=5)
    generate(tmp_path / "b", customers=1_500, seed=5, with_events=False)
    da, db = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert not (tmp_path / "b" / "web_events.ndjson").exists()
    for name in ("pos_customers.csv", "pos_invoices.csv", "marketplace_orders.csv"):
        assert da[name] == db[name]


def test_manifest_lists_every_file_with_its_mapping(retailer) -> None:
    out, m = retailer
    saved = orjson.loads((out / "manifest.json").read_bytes())
    assert saved["customers"] == CUSTOMERS and saved["counts"] == m.counts
    for name in DATA_FILES:
        entry = m.file(name)
        assert (out / name).stat().st_size == entry.bytes > 0
        assert entry.mapping == name.rsplit(".", 1)[0] + ".mapping.yaml"
        assert (out / entry.mapping).exists()
    assert m.counts["people"] == CUSTOMERS
    assert 1_500 < m.counts["skus"] < 2_600


def test_mappings_name_real_columns_and_known_fields(retailer) -> None:
    out, m = retailer
    for name in DATA_FILES:
        mapping = yaml.safe_load((out / m.file(name).mapping).read_text(encoding="utf-8"))
        assert mapping["kind"] in SEN_FIELDS and mapping["source"]
        assert set(mapping["columns"]) <= SEN_FIELDS[mapping["kind"]]
        if name.endswith(".csv"):
            header = set(csv(out, name).columns)
        elif name.endswith(".xlsx"):
            ws = load_workbook(out / name, read_only=True)[mapping["options"]["sheet"]]
            header = {c.value for c in next(ws.iter_rows(max_row=1))}
        else:
            continue
        assert set(mapping["columns"].values()) <= header
        assert set(mapping.get("traits", [])) <= header


def test_stores_and_products(retailer) -> None:
    out, _ = retailer
    stores = csv(out, "stores.csv")
    assert len(stores) == 41 and stores["Mã CH"].is_unique
    assert set(stores["Miền"]) == {"North", "Central", "South"}
    assert stores["Vĩ độ"].between(8.5, 23.5).all() and stores["Kinh độ"].between(102, 110).all()
    ws = load_workbook(out / "products.xlsx", read_only=True)["Sản phẩm"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert all(isinstance(r[7], int) for r in rows)
    prices = np.array([r[7] for r in rows])
    assert prices.min() >= 500_000 and prices.max() <= 6_000_000
    assert len({r[3] for r in rows}) == 2
    shoe_sizes = {int(r[5]) for r in rows if r[4] in ("Giày nam", "Giày nữ")}
    assert min(shoe_sizes) == 35 and max(shoe_sizes) == 46


def test_names_have_diacritics_and_phones_real_prefixes(retailer) -> None:
    out, _ = retailer
    cust = csv(out, "pos_customers.csv")
    assert (
        cust["Họ tên"]
        .str.contains("[ạảãàáâầấậẩẫăằắặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữ]", regex=True)
        .mean()
        > 0.8
    )
    phones = cust["Điện thoại"]
    plain = phones[phones.str.fullmatch(r"0\d{9}")]
    assert plain.str[1:3].astype(int).isin(ALL_PREFIXES + (89,)).mean() > 0.99
    legacy = phones[phones.str.fullmatch(r"01\d{9}")]
    assert legacy.str[1:4].astype(int).isin(list(LEGACY_PREFIX.values())).all()
    assert 0.03 < len(legacy) / len(phones) < 0.07
    styled = phones.str.contains(r"^\+84|^84|^0084|\s|\.", regex=True).mean()
    assert 0.04 < styled < 0.12
    assert (phones == "0000000000").sum() > 0 and (phones == "").mean() > 0.01


def test_junk_and_messy_emails(retailer) -> None:
    out, _ = retailer
    email = csv(out, "pos_customers.csv")["Email"]
    assert (email == "test@test.com").sum() > 0
    assert email.str.startswith("noemail@").sum() > 0
    assert (email.str.endswith(" ") & email.str.contains("[A-Z]", regex=True)).sum() > 10
    assert (
        0.25 < (email.str.contains("@") & ~email.str.startswith(("test@", "noemail@"))).mean() < 0.5
    )
    cust = csv(out, "pos_customers.csv")
    assert 0.1 < (cust["Ngày sinh"] == "").mean() < 0.2
    assert 0.05 < (cust["Tỉnh/TP"] == "").mean() < 0.12


def test_every_identifier_in_the_files_is_in_ground_truth(retailer) -> None:
    out, _ = retailer
    rec = pq.read_table(out / "ground_truth" / "records.parquet").to_pandas()
    known = {(k, v) for k, v in zip(rec["kind"], rec["value"], strict=True)}
    codes = set(csv(out, "pos_customers.csv")["Mã KH"])
    assert codes == {v for k, v in known if k == "customer_id"}
    inv = csv(out, "pos_invoices.csv")
    assert set(inv["Mã KH"]) - {""} <= codes
    buyers = set(csv(out, "marketplace_orders.csv")["Người mua"])
    assert buyers == {v for k, v in known if k == "buyer_id"}
    zalo = set(csv(out, "zalo_followers.csv")["Zalo User ID"])
    assert zalo == {v for k, v in known if k == "zalo_id"}
    ev = events(out)
    assert {e["anonymousId"] for e in ev} <= {v for k, v in known if k == "anonymous_id"}
    assert {e["userId"] for e in ev if "userId" in e} == {v for k, v in known if k == "user_id"}
    assert rec.loc[rec["kind"] == "customer_id", "person_id"].notna().all()


def test_duplicates_are_the_same_person_and_about_three_percent(retailer) -> None:
    out, _ = retailer
    dup = pq.read_table(out / "ground_truth" / "duplicates.parquet").to_pandas()
    rec = pq.read_table(out / "ground_truth" / "records.parquet").to_pandas()
    owner = dict(
        zip(
            rec.loc[rec["kind"] == "customer_id", "value"],
            rec.loc[rec["kind"] == "customer_id", "person_id"],
            strict=True,
        )
    )
    assert (dup["customer_id_a"].map(owner) == dup["person_id"]).all()
    assert (dup["customer_id_b"].map(owner) == dup["person_id"]).all()
    originals = len(owner) - len(dup)
    assert 0.02 < len(dup) / originals < 0.04
    assert set(dup["kind"]) == {
        "no_diacritics",
        "swapped_order",
        "all_caps",
        "phone_typo",
        "second_phone",
    }
    cust = csv(out, "pos_customers.csv").set_index("Mã KH")
    caps = dup[dup["kind"] == "all_caps"]
    assert (
        cust.loc[caps["customer_id_b"], "Họ tên"].str.upper()
        == cust.loc[caps["customer_id_b"], "Họ tên"]
    ).all()
    folded = dup[dup["kind"] == "no_diacritics"]
    assert cust.loc[folded["customer_id_b"], "Họ tên"].map(str.isascii).all()


def test_shared_phones_belong_to_several_people(retailer) -> None:
    out, _ = retailer
    shared = pq.read_table(out / "ground_truth" / "shared_phones.parquet").to_pandas()
    store = shared[shared["kind"] == "store"]
    assert store.groupby("phone")["person_id"].nunique().max() > 3
    stores = csv(out, "stores.csv")
    assert set(store["phone"]) <= set(stores["Hotline"].astype(str).str.zfill(10))
    family = shared[shared["kind"] == "family"]
    assert len(family) > 0 and (family.groupby("phone")["person_id"].nunique() >= 2).all()


def test_money_is_integer_and_totals_add_up(retailer) -> None:
    out, _ = retailer
    inv = csv(out, "pos_invoices.csv")
    for col in ("SL", "Đơn giá", "Giảm giá", "Giảm giá HĐ", "Tổng tiền HĐ"):
        assert inv[col].dtype.kind == "i"
    inv["net"] = inv["SL"] * inv["Đơn giá"] - inv["Giảm giá"]
    by = inv.groupby("Số HĐ").agg(
        net=("net", "sum"), disc=("Giảm giá HĐ", "first"), total=("Tổng tiền HĐ", "first")
    )
    assert (by["net"] - by["disc"] == by["total"]).all()
    assert inv["Ngày giờ"].str.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d").all()
    assert set(inv["Trạng thái"]) == {"completed", "refunded"}
    assert 0.01 < (by.index.isin(inv.loc[inv["Trạng thái"] == "refunded", "Số HĐ"])).mean() < 0.05


def test_channel_mix_and_marketplaces(retailer) -> None:
    out, _ = retailer
    orders = pq.read_table(out / "ground_truth" / "orders.parquet").to_pandas()
    mix = orders["channel"].value_counts(normalize=True)
    for channel, share in {"store": 0.65, "web": 0.15, "app": 0.08, "marketplace": 0.12}.items():
        assert abs(mix[channel] - share) < 0.04, (channel, mix[channel])
    mk = csv(out, "marketplace_orders.csv")
    assert set(mk["Sàn"]) == {"shopee", "lazada", "tiktok"}
    assert mk["SĐT người nhận"].str.fullmatch(r"(\*{6}\d{4})|(0\d\*{6}\d\d)").all()
    ordered = orders["ordered_at"]
    assert ordered.min().date() >= date(2024, 11, 1) and ordered.max().date() <= date(2026, 10, 31)


def test_bgnbd_structure_faster_buyers_buy_more(retailer) -> None:
    out, _ = retailer
    people = pq.read_table(out / "ground_truth" / "people.parquet").to_pandas()
    q = people["lambda_per_year"].quantile([0.25, 0.75])
    slow = people[people["lambda_per_year"] < q[0.25]]["purchases_all_time"].mean()
    fast = people[people["lambda_per_year"] > q[0.75]]["purchases_all_time"].mean()
    assert fast > 1.8 * slow
    p = people["dropout_p"].quantile([0.25, 0.75])
    assert (
        people[people["dropout_p"] < p[0.25]]["alive_at_end"].mean()
        > people[people["dropout_p"] > p[0.75]]["alive_at_end"].mean()
    )
    assert people["lambda_per_year"].mean() == pytest.approx(0.75 / 0.6, rel=0.1)


def test_seasonality_peaks_before_tet(retailer) -> None:
    out, _ = retailer
    orders = pq.read_table(out / "ground_truth" / "orders.parquet").to_pandas()
    day = orders["ordered_at"].dt.tz_convert("Asia/Ho_Chi_Minh").dt.date
    before_tet = ((day >= date(2026, 2, 3)) & (day <= date(2026, 2, 16))).sum() / 14
    ordinary = ((day >= date(2026, 4, 1)) & (day <= date(2026, 4, 30))).sum() / 30
    assert before_tet > 1.5 * ordinary


def test_events_have_segment_shape(retailer) -> None:
    out, _ = retailer
    ev = events(out)
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
    for e in ev:
        assert e["type"] in {"identify", "track", "page", "screen", "alias"}
        assert e["messageId"] and (e.get("userId") or e.get("anonymousId"))
        assert iso.fullmatch(e["timestamp"]) and iso.fullmatch(e["sentAt"])
        assert e["context"]["device"]["type"] in {"web", "ios", "android"}
        if e["type"] == "track":
            assert e["event"]
        if e["type"] == "alias":
            assert e["previousId"] and e["userId"]
    kinds = {e.get("event") or e["type"] for e in ev}
    assert {
        "Product Viewed",
        "Product Added",
        "Checkout Started",
        "Order Completed",
        "identify",
        "page",
        "screen",
    } <= kinds


def test_orders_in_events_match_ground_truth(retailer) -> None:
    out, _ = retailer
    orders = pq.read_table(out / "ground_truth" / "orders.parquet").to_pandas()
    online = orders[orders["channel"].isin(["web", "app"])].set_index("order_id")
    done = {
        e["properties"]["order_id"]: e for e in events(out) if e.get("event") == "Order Completed"
    }
    assert set(done) == set(online.index)
    for oid, e in list(done.items())[:300]:
        props = e["properties"]
        assert props["currency"] == "VND" and props["total"] == online.loc[oid, "total"]
        assert props["channel"] == online.loc[oid, "channel"] and props["products"]
        assert isinstance(props["total"], int)


def test_planted_event_dirt(retailer) -> None:
    out, _ = retailer
    ev = events(out)
    ids = [e["messageId"] for e in ev]
    assert 0.002 < (len(ids) - len(set(ids))) / len(ids) < 0.01
    ts = np.array([np.datetime64(e["timestamp"][:-1]) for e in ev[:20_000]])
    assert (np.diff(ts) < np.timedelta64(-10, "m")).sum() > 0  # out of order
    skew = [
        abs(np.datetime64(e["sentAt"][:-1]) - np.datetime64(e["receivedAt"][:-1]))
        > np.timedelta64(5, "m")
        for e in ev
    ]
    assert 0.005 < np.mean(skew) < 0.15
    anonymous_only = {e["anonymousId"] for e in ev} - {
        e["anonymousId"] for e in ev if "userId" in e
    }
    assert len(anonymous_only) > 0.5 * len({e["anonymousId"] for e in ev})


def test_anonymous_devices_later_identify(retailer) -> None:
    out, _ = retailer
    by_device: dict[str, list[bool]] = {}
    for e in sorted(events(out), key=lambda e: e["receivedAt"]):
        by_device.setdefault(e["anonymousId"], []).append("userId" in e)
    stitched = [seq for seq in by_device.values() if any(seq) and not seq[0]]
    assert len(stitched) > 100


def test_manifest_type() -> None:
    assert Manifest.__dataclass_fields__.keys() >= {"files", "counts", "seed", "customers"}


def test_ground_truth_phones_are_e164(tmp_path):
    import pyarrow.parquet as pq

    from sen.demo import generate

    generate(tmp_path / "r", customers=2_000, seed=3, with_events=False)
    phones = pq.read_table(tmp_path / "r" / "ground_truth" / "people.parquet",
                           columns=["phone_e164"]).column(0).to_pylist()
    assert phones and all(p.startswith("+84") and len(p) == 12 and p[3] != "0" for p in phones)
