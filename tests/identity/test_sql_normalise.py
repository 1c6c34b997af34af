"""The SQL shortcuts give exactly what the Python normalisers give, or nothing."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sen.identity import IdentifierType, Normalised, normalise
from sen.identity.sql_normalise import fast_sql

T = IdentifierType


def _sql(pairs: list[tuple[str, str]]) -> list[str | None]:
    con = duckdb.connect()
    con.register("v", pa.table({"id_type": [t for t, _ in pairs], "raw": [r for _, r in pairs],
                                "i": list(range(len(pairs)))}))
    return [r[0] for r in con.execute(f"SELECT {fast_sql()} FROM v ORDER BY i").fetchall()]


def _check(pairs: list[tuple[str, str]]) -> list[str | None]:
    got = _sql(pairs)
    for (t, raw), fast in zip(pairs, got, strict=True):
        if fast is not None:
            slow = normalise(T(t), raw)
            assert isinstance(slow, Normalised) and slow.value == fast, (t, raw, fast, slow)
    return got


def test_common_shapes_take_the_shortcut_and_agree() -> None:
    pairs = [("phone", "0912345678"), ("phone", "84912345678"), ("phone", "+84912345678"),
             ("device_id", "0b3c2f5e-8d1a-4c7e-9f00-1a2b3c4d5e6f"),
             ("zalo_id", "1286105559894208022"), ("loyalty_card", "VM35716390")]
    assert _check(pairs) == ["+84912345678", "+84912345678", "+84912345678",
                             "0b3c2f5e-8d1a-4c7e-9f00-1a2b3c4d5e6f", "1286105559894208022",
                             "VM35716390"]


def test_anything_unusual_is_left_to_python() -> None:
    pairs = [("phone", "0000000000"), ("phone", "0123456789"), ("phone", "0951234567"),
             ("phone", "01684116370"), ("phone", "0912 345 678"), ("phone", "0999999999"),
             ("phone", "0987654321"), ("device_id", "00000000-0000-0000-0000-000000000000"),
             ("device_id", "0B3C2F5E-8D1A-4C7E-9F00-1A2B3C4D5E6F"), ("zalo_id", "6.92E+18"),
             ("zalo_id", "0000"), ("loyalty_card", "NULL"), ("loyalty_card", "AAAA"),
             ("loyalty_card", "vm 1331-1620"), ("email", "lan@gmail.com")]
    assert _check(pairs) == [None] * len(pairs)


PHONE_LIKE = st.text(alphabet="0123456789+ 8", min_size=8, max_size=13)
DIGITS = st.builds(lambda p, d: p + d, st.sampled_from(["0", "84", "+84", "00", ""]),
                   st.text(alphabet="0123456789", min_size=8, max_size=11))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("phone"), PHONE_LIKE), st.tuples(st.just("phone"), DIGITS),
    st.tuples(st.just("zalo_id"), st.text(alphabet="0123456789eE+.", min_size=1, max_size=20)),
    st.tuples(st.just("loyalty_card"), st.text(alphabet="AB01Nnul -", min_size=1, max_size=8)),
    st.tuples(st.just("device_id"), st.uuids().map(str)),
), min_size=1, max_size=40))
def test_the_shortcut_never_disagrees_with_python(pairs: list[tuple[str, str]]) -> None:
    _check(pairs)
