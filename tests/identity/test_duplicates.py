"""Probable duplicates: Splink scores over small hand-built profile tables.

Each table is two thousand unrelated profiles plus the rows under test, so
that names, phones and birth dates have realistic frequencies: in a table of
five rows every name would be common.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pydantic import ValidationError

from sen.demo import generate
from sen.identity import fold_name, normalise_email, normalise_name, normalise_phone
from sen.identity.duplicates import PAIR_SCHEMA, DuplicateSettings, score_duplicates

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ"]
MIDDLES = ["Văn", "Thị", "Hữu", "Minh", "Thu", "Quốc", "Ngọc", "Thanh"]
GIVENS = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hiếu", "Hoa", "Hùng", "Khoa",
          "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm",
          "Thảo", "Trang", "Tuấn"]
PROVINCES = ["Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"]


def profile(pid: str, name: str | None, phone: str | None = None, *, email: str | None = None,
            birth: date | None = None, gender: str | None = None, province: str | None = None,
            address: str | None = None) -> dict:
    return {"profile_id": pid, "record": f"u:{pid}", "name": name,
            "name_folded": fold_name(name) if name else None, "phone": phone, "email": email,
            "birth_date": birth, "gender": gender, "province": province, "address": address}


def filler() -> list[dict]:
    """Two thousand strangers, each with a different name."""
    rows = []
    for i in range(2000):
        name = f"{SURNAMES[i % 10]} {MIDDLES[i // 10 % 8]} {GIVENS[i // 80]}"
        phone = f"+849{(i * 2654435761 + 12345) % 10**8:08d}"
        birth = date.fromordinal(date(1960, 1, 1).toordinal() + i * 7919 % 16000)
        rows.append(profile(f"f{i:04d}", name, phone, birth=birth, gender=["Nam", "Nữ"][i % 2],
                            province=PROVINCES[i % 5]))
    return rows


FILLER = filler()
COLUMNS = pa.schema([(c, pa.string()) for c in ("profile_id", "record", "name", "name_folded",
                                                 "phone", "email")]
                    + [("birth_date", pa.date32())]
                    + [(c, pa.string()) for c in ("gender", "province", "address")])


def arrow(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist(FILLER + list(rows), schema=COLUMNS)


def connect(*rows: dict, table: str = "profiles") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("data", arrow(*rows))
    con.sql(f"CREATE TABLE {table} AS SELECT *, 'x' AS store_code FROM data")
    con.unregister("data")
    return con


def pairs(result: pa.Table) -> dict[tuple[str, str], str]:
    return {(r["profile_a"], r["profile_b"]): r["evidence"] for r in result.to_pylist()}


XUAN = dict(birth=date(1987, 12, 2), gender="Nữ", province="Hà Nội")


def test_a_one_digit_phone_typo_with_the_same_name_and_birth_date_is_found() -> None:
    con = connect(profile("a1", "Lê Kim Xuân", "+84947053304", **XUAN),
                  profile("a2", "LE KIM XUAN", "+84947053314", **XUAN))
    found = pairs(score_duplicates(con))
    assert found[("a1", "a2")] == "same name, birth date; phone one digit off"


def test_a_name_in_western_order_is_found() -> None:
    born = date(1978, 12, 1)
    con = connect(profile("b1", "Trần Văn Dũng", "+84949772468", birth=born, gender="Nam"),
                  profile("b2", "Dũng Văn Trần", "+84949772468", birth=born, gender="Nam"))
    found = pairs(score_duplicates(con))
    assert found[("b1", "b2")] == "same phone, birth date; name in another order"


def test_a_family_sharing_a_phone_and_address_is_not_a_duplicate() -> None:
    home = dict(phone="+84912345670", address="12 Lê Lợi, Hà Nội", province="Hà Nội")
    con = connect(profile("c1", "Nguyễn Văn Nam", birth=date(1970, 3, 1), gender="Nam", **home),
                  profile("c2", "Nguyễn Thị Hoa", birth=date(1972, 5, 9), gender="Nữ", **home),
                  profile("c3", "Nguyễn Văn Lâm", birth=date(1998, 8, 20), gender="Nam", **home),
                  profile("c4", "Nguyễn Văn Nhân", gender="Nam", **home))
    result = score_duplicates(con, settings=DuplicateSettings(review_threshold=0.0))
    family = [r for r in result.to_pylist() if r["profile_a"].startswith("c")]
    assert len(family) == 6
    assert max(r["probability"] for r in family) < 0.1


def test_different_valid_emails_keep_an_otherwise_likely_pair_apart() -> None:
    con = connect(profile("d1", "Lê Kim Xuân", "+84947053304", email="xuan.le@gmail.com", **XUAN),
                  profile("d2", "Lê Kim Xuân", "+84947053314", email="kimxuan87@yahoo.com", **XUAN))
    result = score_duplicates(con, settings=DuplicateSettings(review_threshold=0.0))
    (pair,) = [r for r in result.to_pylist() if r["profile_a"] == "d1"]
    assert pair["probability"] < 0.8
    assert pair["evidence"].endswith("phone one digit off; different emails")
    assert ("d1", "d2") not in pairs(score_duplicates(con))


def test_pairs_are_unique_ordered_and_sorted() -> None:
    born = date(1990, 1, 15)
    con = connect(profile("z9", "Bùi Hồng Tâm", "+84822333302", birth=born, gender="Nữ"),
                  profile("e1", "Bùi Hồng Tâm", "+84822333302", birth=born, gender="Nữ"),
                  profile("m5", "Bùi Hồng Tâm", "+84822333322", birth=born, gender="Nữ"),
                  profile("e2", "Phạm Thị Ngân", "+84342394169", birth=date(1988, 9, 11)),
                  profile("e3", "Phạm Thị Ngân", "+84342394179"))
    result = score_duplicates(con, settings=DuplicateSettings(review_threshold=0.0))
    assert result.schema == PAIR_SCHEMA
    rows = result.to_pylist()
    keys = [(r["profile_a"], r["profile_b"]) for r in rows]
    assert all(a < b for a, b in keys)
    assert len(set(keys)) == len(keys)
    order = [(-r["probability"], r["profile_a"], r["profile_b"]) for r in rows]
    assert order == sorted(order)
    assert all(r["record_a"] == "u:" + r["profile_a"] and r["record_b"] == "u:" + r["profile_b"]
               for r in rows)
    assert {("e1", "z9"), ("e1", "m5"), ("m5", "z9")} <= set(pairs(score_duplicates(con)))


def test_an_empty_table_gives_an_empty_result_with_the_schema() -> None:
    con = connect()
    con.sql("DELETE FROM profiles")
    result = score_duplicates(con)
    assert result.num_rows == 0
    assert result.schema == PAIR_SCHEMA


def test_the_review_threshold_is_honoured() -> None:
    born = date(1982, 7, 7)
    con = connect(profile("g1", "Bùi Hữu Minh", "+84977107910", birth=born, gender="Nam"),
                  profile("g2", "Bùi Hữu Minh", "+84339812959", birth=born, gender="Nam"),
                  profile("g3", "Lê Kim Xuân", "+84947053304", **XUAN),
                  profile("g4", "Lê Kim Xuân", "+84947053314", **XUAN))
    everything = score_duplicates(con, settings=DuplicateSettings(review_threshold=0.0))
    probabilities = dict(zip(pairs(everything), everything.column("probability").to_pylist(),
                             strict=True))
    cut = (probabilities[("g1", "g2")] + probabilities[("g3", "g4")]) / 2
    above = score_duplicates(con, settings=DuplicateSettings(review_threshold=cut))
    assert set(pairs(above)) == {k for k, p in probabilities.items() if p >= cut}
    assert ("g3", "g4") in pairs(above)
    assert ("g1", "g2") not in pairs(above)


def test_splink_leaves_no_tables_behind_and_reads_a_named_table(tmp_path) -> None:
    path = str(tmp_path / "store.duckdb")
    con = connect(profile("h1", "Lê Kim Xuân", "+84947053304", **XUAN),
                  profile("h2", "Lê Kim Xuân", "+84947053314", **XUAN), table="golden")
    con.sql(f"ATTACH '{path}' AS store")
    con.sql("CREATE TABLE store.profiles AS SELECT * FROM golden LIMIT 0")
    con.sql("CREATE TABLE events AS SELECT 1 AS id")
    tables = "SELECT database_name, schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
    before = con.sql(tables).fetchall()
    assert ("h1", "h2") in pairs(score_duplicates(con, table="golden"))
    after = con.sql(tables).fetchall()
    assert after == before
    assert con.sql("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall() == [(0,)]


def test_a_read_only_database_can_be_scored(tmp_path) -> None:
    path = str(tmp_path / "ro.duckdb")
    with duckdb.connect(path) as con:
        con.register("data", arrow(profile("k1", "Lê Kim Xuân", "+84947053304", **XUAN),
                                   profile("k2", "Lê Kim Xuân", "+84947053314", **XUAN)))
        con.sql("CREATE TABLE profiles AS FROM data")
    with duckdb.connect(path, read_only=True) as con:
        assert ("k1", "k2") in pairs(score_duplicates(con))


@pytest.mark.parametrize(
    "values",
    [
        {"review_threshold": 1.5},
        {"review_threshold": -0.1},
        {"auto_merge_threshold": 1.01},
        {"review_threshold": 0.9, "auto_merge_threshold": 0.8},
        {"duplicate_share": 0.0},
        {"max_block_size": 1},
        {"threshold": 0.5},
    ],
)
def test_invalid_settings_are_refused(values: dict) -> None:
    with pytest.raises(ValidationError):
        DuplicateSettings(**values)


def test_settings_are_frozen_and_auto_merge_is_opt_in() -> None:
    settings = DuplicateSettings()
    with pytest.raises(ValidationError):
        settings.review_threshold = 0.5  # type: ignore[misc]
    assert not settings.is_auto_merge(1.0)
    chosen = DuplicateSettings(review_threshold=0.8, auto_merge_threshold=0.99)
    assert chosen.is_auto_merge(0.995)
    assert not chosen.is_auto_merge(0.95)


def test_the_demo_retailers_planted_duplicates_are_found_and_families_are_not(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One profile per POS customer row of a 10,000-person retailer (a second
    to generate without events), scored against the generator's ground truth."""
    out = tmp_path_factory.mktemp("duplicates_retailer")
    generate(out, customers=10_000, with_events=False)
    con = duckdb.connect()
    con.register("pos", pa.Table.from_pylist(
        [pos_profile(row) for row in _csv(out / "pos_customers.csv")], schema=COLUMNS))
    con.sql("CREATE TABLE profiles AS FROM pos")
    truth = out / "ground_truth"
    con.sql(f"CREATE TABLE person AS SELECT value AS id, person_id FROM '{truth}/records.parquet' "
            "WHERE file = 'pos_customers.csv' AND kind = 'customer_id'")
    con.sql(f"CREATE TABLE planted AS SELECT least(customer_id_a, customer_id_b) AS a, "
            f"greatest(customer_id_a, customer_id_b) AS b, kind FROM '{truth}/duplicates.parquet'")
    con.register("found", score_duplicates(con))
    ((precision,),) = con.sql(
        "SELECT avg((pa.person_id = pb.person_id)::INT) FROM found "
        "JOIN person pa ON pa.id = profile_a JOIN person pb ON pb.id = profile_b").fetchall()
    recall = dict(con.sql(
        "SELECT kind, avg((profile_a IS NOT NULL)::INT) FROM planted "
        "LEFT JOIN found ON (profile_a, profile_b) = (a, b) GROUP BY kind").fetchall())
    assert precision >= 0.99
    assert recall["phone_typo"] >= 0.95
    assert recall["second_phone"] >= 0.5
    assert recall["swapped_order"] >= 0.8


def pos_profile(row: dict[str, str]) -> dict:
    """A POS customer row ("Mã KH", "Họ tên", …) as a profile, normalised."""
    name = normalise_name(row["Họ tên"])
    email = normalise_email(row["Email"])
    day, month, year = row["Ngày sinh"].split("/") if row["Ngày sinh"] else (None,) * 3
    return profile(
        row["Mã KH"], name, normalise_phone(row["Điện thoại"]).e164,
        email=email.email if email.is_key_usable else None,
        birth=date(int(year), int(month), int(day)) if year else None,
        gender=row["Giới tính"] or None, province=row["Tỉnh/TP"] or None,
        address=row["Địa chỉ"] or None)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))
