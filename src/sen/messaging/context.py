"""The fields a template may use, and their values for many customers at once.

Values come from the analytical store: the golden record (``profiles``), the
computed traits (``profile_traits``), the stores' names (``stores``) and the
user-defined traits (``custom_trait_values``). Besides the raw values there
are the forms a message needs: ``first_name`` (a Vietnamese full name is
family name first, so the given name is the *last* word: Nguyễn Thị Lan →
Lan), ``xung_ho`` (``chị``, ``anh``, or ``bạn`` when the gender is unknown),
the phone as people write it (``0912 345 678``), money as ``1.250.000 ₫`` and
dates as ``23/11/2026`` in the retailer's time zone.

:func:`profile_context` is one query for any number of profiles, computing only
the fields asked for (each one a column expression, vectorised in the engine),
so capturing a million customers' contexts for a campaign takes seconds.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sen.errors import StoreError, ValidationError
from sen.traits.fields import FIELDS as TRAITS
from sen.traits.fields import custom_traits

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_ZONE = re.compile(r"^[A-Za-z0-9_/+-]{1,64}$")


@dataclass(frozen=True)
class Field:
    """A field as the template editor lists it; ``example`` fills previews and checks."""

    name: str
    type: str  # text, integer, number, money
    can_be_empty: bool
    label_vi: str
    label_en: str
    example: Any
    source: str = "profile"  # profile | trait | custom

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "can_be_empty": self.can_be_empty,
                "label": {"vi": self.label_vi, "en": self.label_en},
                "example": self.example, "source": self.source}


def _money(x: str) -> str:
    return f"replace(format('{{:,}}', ({x})::BIGINT), ',', '.') || ' ₫'"


def _date(x: str) -> str:
    return f"strftime(timezone('$tz', ({x}) AT TIME ZONE 'UTC'), '%d/%m/%Y')"


_PHONE = """CASE WHEN p.phone LIKE '+84%' AND length(p.phone) = 12
    THEN '0' || substr(p.phone, 4, 3) || ' ' || substr(p.phone, 7, 3) || ' ' || substr(p.phone, 10)
    WHEN p.phone LIKE '+84%' THEN '0' || substr(p.phone, 4) ELSE nullif(p.phone, '') END"""
_XUNG_HO = "CASE p.gender WHEN 'female' THEN 'chị' WHEN 'male' THEN 'anh' ELSE 'bạn' END"


def _t(name: str, suffix_vi: str = "", suffix_en: str = "") -> tuple[str, str]:
    """A trait's labels from the trait catalogue, so every page says the same words."""
    return TRAITS[name].label_vi + suffix_vi, TRAITS[name].label_en + suffix_en


_TEXT = (" (dạng 1.250.000 ₫)", ", as text (1.250.000 ₫)")
_DAY = (" (ngày/tháng/năm)", " (dd/mm/yyyy)")
# name, type, can be empty, (vi, en), example, SQL over p/t/hs/fs, joins it needs
_BUILTIN: tuple[tuple[str, str, bool, tuple[str, str], Any, str, str], ...] = (
    ("name", "text", True, ("Họ và tên", "Full name"), "Nguyễn Thị Lan",
     r"nullif(regexp_replace(trim(p.name), '\s+', ' ', 'g'), '')", ""),
    ("first_name", "text", True, ("Tên gọi (chữ cuối của họ tên)",
                                  "Given name (last word of the full name)"), "Lan",
     r"nullif(regexp_extract(trim(p.name), '(\S+)$', 1), '')", ""),
    ("xung_ho", "text", False, ("Xưng hô (anh/chị/bạn)", "Form of address (anh/chị/bạn)"),
     "chị", _XUNG_HO, ""),
    ("gender", "text", True, ("Giới tính (female/male)", "Gender (female/male)"), "female",
     "p.gender", ""),
    ("phone", "text", True, ("Số điện thoại", "Phone"), "0912 345 678", _PHONE, ""),
    ("email", "text", True, ("Email", "Email"), "lan@example.vn", "nullif(p.email, '')", ""),
    ("birthday", "text", True, ("Sinh nhật (ngày/tháng)", "Birthday (dd/mm)"), "23/11",
     "strftime(p.birth_date, '%d/%m')", ""),
    ("province", "text", True, ("Tỉnh/thành", "Province"), "Hà Nội",
     "coalesce(t.province, nullif(trim(p.province), ''))", "t"),
    ("home_store", "text", True, ("Mã cửa hàng của khách", "Home store code"), "HN01",
     "nullif(p.store_code, '')", ""),
    ("home_store_name", "text", True, ("Cửa hàng của khách", "Home store"),
     "Vela Hoàn Kiếm", "hs.name", "hs"),
    ("orders", "integer", False, _t("orders"), 4, "coalesce(t.orders, 0)", "t"),
    ("spend", "money", False, _t("spend"), 1_250_000, "coalesce(t.spend, 0)", "t"),
    ("spend_text", "text", False, _t("spend", *_TEXT), "1.250.000 ₫",
     _money("coalesce(t.spend, 0)"), "t"),
    ("spend_12m", "money", False, _t("spend_12m"), 800_000, "coalesce(t.spend_12m, 0)", "t"),
    ("spend_12m_text", "text", False, _t("spend_12m", *_TEXT), "800.000 ₫",
     _money("coalesce(t.spend_12m, 0)"), "t"),
    ("aov", "money", True, _t("aov"), 312_500, "t.aov", "t"),
    ("aov_text", "text", True, _t("aov", *_TEXT), "312.500 ₫", _money("t.aov"), "t"),
    ("days_since_last_purchase", "integer", True, _t("days_since_last_purchase"), 45,
     "t.days_since_last_purchase", "t"),
    ("last_purchase_date", "text", True, _t("last_purchase_at", *_DAY), "12/10/2026",
     _date("t.last_purchase_at"), "t"),
    ("favourite_brand", "text", True, _t("favourite_brand"), "Vela", "t.favourite_brand", "t"),
    ("favourite_category", "text", True, _t("favourite_category"), "Giày nữ",
     "t.favourite_category", "t"),
    ("favourite_size", "text", True, _t("favourite_size"), "36", "t.favourite_size", "t"),
    ("favourite_store", "text", True, _t("favourite_store", " (mã)", " (code)"), "HN01",
     "t.favourite_store", "t"),
    ("favourite_store_name", "text", True, _t("favourite_store"), "Vela Hoàn Kiếm",
     "fs.name", "t fs"),
    ("lifecycle_stage", "text", True, _t("lifecycle_stage"), "due", "t.lifecycle_stage", "t"),
    ("rfm_group", "text", True, _t("rfm_group"), "Loyal", "t.rfm_group", "t"),
    ("age", "integer", True, _t("age"), 34, "t.age", "t"),
    ("clv_12m", "money", True, _t("clv_12m"), 3_500_000, "t.clv_12m", "t"),
    ("clv_12m_text", "text", True, _t("clv_12m", *_TEXT), "3.500.000 ₫",
     _money("t.clv_12m"), "t"),
    ("next_purchase_date", "text", True, _t("next_purchase_at", *_DAY), "20/12/2026",
     _date("t.next_purchase_at"), "t"),
)
BUILTIN: dict[str, Field] = {
    name: Field(name, type_, empty, vi, en, example, "trait" if "t" in joins.split() else
                "profile")
    for name, type_, empty, (vi, en), example, _, joins in _BUILTIN}
_SQL = {name: (sql, frozenset(joins.split())) for name, *_, sql, joins in _BUILTIN}
_JOINS = {  # in this order: fs reads t
    "t": "LEFT JOIN profile_traits t ON t.profile_id = p.profile_id",
    "hs": "LEFT JOIN stores hs ON hs.store_code = p.store_code",
    "fs": "LEFT JOIN stores fs ON fs.store_code = t.favourite_store",
}


def fields(engine: Any = None) -> list[Field]:
    """The built-in fields, then (with a store) the user-defined traits; a user-defined
    trait named like a built-in field is left out, the built-in one wins."""
    out = list(BUILTIN.values())
    if engine is not None:
        for name, trait in custom_traits(engine.cursor()).items():
            if name not in BUILTIN:
                example = "…" if trait.type == "text" else 3
                out.append(Field(name, trait.type, True, trait.label_vi, trait.label_en,
                                 example, "custom"))
    return out


def _select(names: list[str], custom: dict[str, Field], timezone: str
            ) -> tuple[str, list[Any]]:
    """One SELECT of the asked fields over the registered ids (``$ids``)."""
    columns, joins, extra, params = ["i.profile_id"], set(), [], []
    for i, name in enumerate(names):
        if name in BUILTIN:
            sql, needs = _SQL[name]
            columns.append(f'{sql.replace("$tz", timezone)} AS "{name}"')
            joins |= needs
        else:
            value = "value_text" if custom[name].type == "text" else "value_num"
            columns.append(f'x{i}.{value} AS "{name}"')
            extra.append(f"LEFT JOIN custom_trait_values x{i} "
                         f"ON x{i}.profile_id = p.profile_id AND x{i}.trait = ?")
            params.append(name)
    if "fs" in joins:
        joins.add("t")
    froms = [_JOINS[j] for j in _JOINS if j in joins] + extra
    sql = (f"SELECT {', '.join(columns)} FROM $ids i "
           f"JOIN profiles p ON p.profile_id = i.profile_id {' '.join(froms)}")
    return sql, params


def _whole_numbers(table: pa.Table) -> pa.Table:
    """User-defined numbers are stored as doubles: a column of whole numbers is shown
    as ``3``, not ``3.0``."""
    for i, col in enumerate(table.columns):
        if pa.types.is_floating(col.type) and col.null_count < len(col):
            valid = pc.drop_null(col)
            if pc.all(pc.equal(valid, pc.floor(valid))).as_py() and \
                    pc.max(pc.abs(valid)).as_py() < 2 ** 53:
                table = table.set_column(i, table.field(i).name, pc.cast(col, pa.int64()))
    return table


def profile_context(engine: Any, profile_ids: Iterable[str], names: Iterable[str], *,
                    timezone: str = DEFAULT_TIMEZONE) -> dict[str, dict[str, Any]]:
    """Each found profile's values of the named fields (``None`` when empty), by
    profile id; ids that are not current profiles are left out."""
    wanted = list(dict.fromkeys(names))
    if not _ZONE.match(timezone):
        raise ValidationError(f"Unknown time zone {timezone!r}; set e.g. Asia/Ho_Chi_Minh.",
                              field="timezone", rule="time_zone")
    ZoneInfo(timezone)
    custom = {f.name: f for f in fields(engine) if f.source == "custom"} \
        if any(n not in BUILTIN for n in wanted) else {}
    unknown = [n for n in wanted if n not in BUILTIN and n not in custom]
    if unknown:
        raise ValidationError(f"Unknown field{'s' if len(unknown) > 1 else ''}: "
                              f"{', '.join(unknown)}; the template editor lists the fields.",
                              field="names", rule="unknown_field")
    ids = pa.table({"profile_id": pa.array(list(profile_ids), pa.string())})
    view = f"_sen_ctx_{uuid.uuid4().hex[:12]}"
    sql, params = _select(wanted, custom, timezone)
    sql = sql.replace("$ids", view)
    cur = engine.cursor()
    cur.register(view, ids)
    try:  # a relation hands its rows to Arrow without the copy a DB-API result makes
        table = cur.sql(sql, params=params).to_arrow_table()
    except duckdb.Error as exc:
        raise StoreError(f"Reading the customers' fields failed: {exc}", sql=sql) from exc
    finally:
        cur.unregister(view)
    table = _whole_numbers(table) if custom else table
    keys = table.column(0).to_pylist()
    if table.num_columns == 1:
        return {pid: {} for pid in keys}
    columns = [table.column(i).to_pylist() for i in range(1, table.num_columns)]
    return dict(zip(keys, map(_row_maker(tuple(wanted)), *columns), strict=True))


@lru_cache(maxsize=256)
def _row_maker(names: tuple[str, ...]) -> Any:
    """A function building one profile's dict from its values in order. A dict display
    is the cheapest way to build a million small dicts (a third faster than
    ``dict(zip(...))``); the names enter the code only as string literals."""
    args = ", ".join(f"v{i}" for i in range(len(names)))
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    return eval(f"lambda {args}: {{{items}}}", {"__builtins__": {}})  # noqa: S307
