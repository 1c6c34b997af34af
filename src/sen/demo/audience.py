"""A large synthetic audience for load tests of messaging: profiles with phones and
emails and one saved segment holding them, written straight into the analytical
store in a few statements (a million profiles in seconds).

The full retailer (:mod:`sen.demo.generate`) is realistic but takes minutes to
build at that size and goes through identity; messaging's throughput and crash
tests need only who is in a segment and at which addresses, deterministically.
"""

from __future__ import annotations

from typing import Any

NAMES = ("Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thu Hà", "Phạm Quốc Bảo", "Hoàng Mai Anh",
         "Vũ Đức Thắng", "Đặng Ngọc Điệp", "Bùi Thanh Tâm")


def phone(i: int) -> str:
    """A distinct, valid Viettel-range mobile number for index ``i`` (E.164)."""
    return f"+8496{i:07d}"


def build(engine: Any, n: int, *, segment: str = "load-test", emails: bool = True) -> None:
    """Write ``n`` profiles (``p0000000``…) and make them the members of ``segment``."""
    names = "[" + ", ".join(f"'{x}'" for x in NAMES) + "]"
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    cur.execute(f"""
        INSERT INTO profiles (profile_id, record, name, phone, email, province, identified,
                              records)
        SELECT printf('p%07d', i), printf('u:cust%07d', i),
               list_extract({names}, (i % {len(NAMES)}) + 1),
               '+8496' || lpad(CAST(i AS VARCHAR), 7, '0'),
               CASE WHEN ? THEN printf('khach%07d@example.vn', i) END,
               'Hà Nội', true, 1
        FROM range(?) t(i)
    """, [emails, n])
    cur.execute("""
        INSERT INTO identity_profiles (record, profile_id, cluster_id)
        SELECT printf('u:cust%07d', i), printf('p%07d', i), printf('p%07d', i)
        FROM range(?) t(i)
    """, [n])
    cur.execute("DELETE FROM segment_members WHERE segment = ?", [segment])
    cur.execute("INSERT INTO segment_members SELECT ?, printf('p%07d', i) FROM range(?) t(i)",
                [segment, n])
    cur.execute("COMMIT")
