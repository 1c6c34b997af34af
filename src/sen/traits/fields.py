"""The catalogue of traits: what the segment builder, exports and the 360 can show.

:data:`FIELDS` describes every column of ``profile_traits`` (bar its keys and
times): its type, its label in both UI languages (the glossary's words), what
it means and, for enumerations, the values it takes. :func:`field_list` adds
what the data holds (ranges, the commonest values, how many profiles have
one), the user-defined traits of ``trait_definitions`` and the parameterised
``spend_in_period``.

Types: ``integer``, ``number``, ``money`` (integer VND), ``probability`` (0-1,
shown as a percentage), ``text``, ``date`` (a moment, UTC), ``boolean`` and
``list`` (of text).

It also reads traits back: :func:`read_profile` for one profile, and
:func:`export_columns` / :func:`export_sql` for many. Those build SQL; the
caller runs it on its own cursor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sen.errors import SenError, ValidationError
from sen.traits import custom
from sen.traits.config import DEFAULT_GROUPS
from sen.traits.regions import PROVINCES, fold

TYPES = ("number", "integer", "money", "text", "date", "boolean", "list", "probability")
NUMERIC = frozenset({"number", "integer", "money", "probability"})
TOP_VALUES = 20

SALES_CHANNELS = ("store", "web", "app", "marketplace")
MESSAGING_CHANNELS = ("sms", "zalo", "email", "push")
AGE_BANDS = ("under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")
LIFECYCLE_STAGES = ("new", "active", "due", "overdue", "at risk", "lapsed", "won back",
                    "prospect")
RFM_GROUPS = ("Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
              "Need Attention", "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating",
              "Lost")
assert set(RFM_GROUPS) == {g.name for g in DEFAULT_GROUPS}

# value: (vi, en)
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "region": {"North": ("Miền Bắc", "North"), "Central": ("Miền Trung", "Central"),
               "South": ("Miền Nam", "South")},
    "channel": {"store": ("Cửa hàng", "Store"), "web": ("Website", "Web"),
                "app": ("Ứng dụng di động", "Mobile app"),
                "marketplace": ("Sàn TMĐT", "Marketplace")},
    "messaging": {"sms": ("SMS", "SMS"), "zalo": ("Zalo", "Zalo"), "email": ("Email", "Email"),
                  "push": ("Push", "Push")},
    "age_band": {"under 18": ("Dưới 18", "Under 18"), "65+": ("Từ 65", "65+")},
    "lifecycle_stage": {
        "new": ("Khách hàng mới", "New"), "active": ("Đang mua đều", "Active"),
        "due": ("Đến hạn mua lại", "Due"), "overdue": ("Quá hạn mua lại", "Overdue"),
        "at risk": ("Có nguy cơ rời bỏ", "At risk"),
        "lapsed": ("Lâu chưa quay lại mua", "Lapsed"),
        "won back": ("Đã quay lại mua", "Won back"),
        "prospect": ("Chưa mua hàng", "Prospect")},
    "rfm_group": {
        "Champions": ("Khách hàng tốt nhất", "Champions"),
        "Loyal": ("Khách hàng trung thành", "Loyal"),
        "Potential Loyalist": ("Có thể trung thành", "Potential Loyalist"),
        "New Customers": ("Khách hàng mới", "New Customers"),
        "Promising": ("Triển vọng", "Promising"),
        "Need Attention": ("Cần quan tâm", "Need Attention"),
        "About To Sleep": ("Sắp ngủ đông", "About To Sleep"),
        "At Risk": ("Có nguy cơ rời bỏ", "At Risk"),
        "Can't Lose Them": ("Không thể để mất", "Can't Lose Them"),
        "Hibernating": ("Ngủ đông", "Hibernating"), "Lost": ("Đã mất", "Lost")},
}


@dataclass(frozen=True)
class Field:
    """One trait as the builders see it."""

    name: str
    type: str
    label_vi: str
    label_en: str
    description: str
    values: tuple[Any, ...] | None = None
    labels_of: str | None = None  # key of VALUE_LABELS naming the values

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi

    def value_label(self, value: Any, lang: str) -> str:
        """A value as the UI shows it (``Miền Bắc`` for ``North`` in Vietnamese)."""
        pair = VALUE_LABELS.get(self.labels_of or "", {}).get(str(value))
        return (pair[1] if lang == "en" else pair[0]) if pair else str(value)

    def as_dict(self) -> dict[str, Any]:
        labels = VALUE_LABELS.get(self.labels_of or "")
        return {
            "name": self.name, "type": self.type, "source": "builtin",
            "label": {"vi": self.label_vi, "en": self.label_en},
            "description": self.description,
            "values": list(self.values) if self.values is not None else None,
            "value_labels": {v: {"vi": vi, "en": en} for v, (vi, en) in labels.items()}
            if labels else None,
        }


def _f(name: str, type_: str, vi: str, en: str, description: str,
       values: Iterable[Any] | None = None, labels_of: str | None = None) -> Field:
    assert type_ in TYPES, type_
    return Field(name, type_, vi, en, description,
                 tuple(values) if values is not None else None, labels_of)


_SCORES = (1, 2, 3, 4, 5)
_FIELDS = (
    _f("orders", "integer", "Số đơn hàng", "Orders", "Completed orders, all channels."),
    _f("spend", "money", "Tổng chi tiêu", "Spend", "Total of completed orders, VND."),
    _f("aov", "money", "Giá trị đơn trung bình (AOV)", "Average order value (AOV)",
       "Spend divided by orders, VND."),
    _f("orders_12m", "integer", "Số đơn 12 tháng qua", "Orders, last 12 months",
       "Completed orders in the last 12 months."),
    _f("spend_12m", "money", "Chi tiêu 12 tháng qua", "Spend, last 12 months",
       "Total of completed orders in the last 12 months, VND."),
    _f("items", "integer", "Số sản phẩm đã mua", "Items bought",
       "Units bought in completed orders."),
    _f("first_purchase_at", "date", "Ngày mua đầu tiên", "First purchase",
       "When the first completed order was placed."),
    _f("first_purchase_channel", "text", "Kênh mua đầu tiên", "First purchase channel",
       "Sales channel of the first purchase.", SALES_CHANNELS, "channel"),
    _f("first_purchase_store", "text", "Cửa hàng mua đầu tiên", "First purchase store",
       "Store code of the first purchase."),
    _f("last_purchase_at", "date", "Ngày mua gần nhất", "Last purchase",
       "When the latest completed order was placed."),
    _f("last_purchase_channel", "text", "Kênh mua gần nhất", "Last purchase channel",
       "Sales channel of the latest purchase.", SALES_CHANNELS, "channel"),
    _f("last_purchase_store", "text", "Cửa hàng mua gần nhất", "Last purchase store",
       "Store code of the latest purchase."),
    _f("days_since_last_purchase", "integer", "Số ngày từ lần mua gần nhất",
       "Days since last purchase", "Days from the latest purchase to the computation date."),
    _f("favourite_brand", "text", "Brand yêu thích", "Favourite brand",
       "The brand bought most (items)."),
    _f("favourite_store", "text", "Cửa hàng yêu thích", "Favourite store",
       "The store with the most orders."),
    _f("favourite_category", "text", "Ngành hàng yêu thích", "Favourite category",
       "The category bought most (items)."),
    _f("favourite_size", "text", "Size thường mua", "Favourite size",
       "The size bought most (items)."),
    _f("province", "text", "Tỉnh/thành", "Province",
       "Province the customer gave, else of her home or favourite store.",
       sorted(PROVINCES, key=fold)),
    _f("region", "text", "Vùng miền", "Region", "North, Central or South, from the province.",
       ("North", "Central", "South"), "region"),
    _f("age", "integer", "Tuổi", "Age", "Age in years from the birth date (10-100)."),
    _f("age_band", "text", "Nhóm tuổi", "Age band", "Age in bands.", AGE_BANDS, "age_band"),
    _f("channels", "list", "Kênh mua hàng", "Purchase channels",
       "Sales channels the customer bought in.", SALES_CHANNELS, "channel"),
    _f("omnichannel", "boolean", "Mua đa kênh", "Omnichannel",
       "Bought in a store and in at least one other channel."),
    _f("preferred_channel", "text", "Kênh nhận tin ưa thích", "Preferred messaging channel",
       "The messaging channel she clicks and opens most.", None, "messaging"),
    _f("reachable_channels", "list", "Kênh có thể gửi tin", "Reachable channels",
       "Messaging channels Sen has an address for.", MESSAGING_CHANNELS, "messaging"),
    _f("returned_orders", "integer", "Số đơn hoàn trả", "Returned orders", "Refunded orders."),
    _f("returns_rate", "probability", "Tỉ lệ hoàn trả", "Returns rate",
       "Returned orders over completed and returned orders."),
    _f("rfm_r", "integer", "Điểm R (gần đây)", "R score (recency)",
       "1-5, higher for a more recent purchase.", _SCORES),
    _f("rfm_f", "integer", "Điểm F (tần suất)", "F score (frequency)",
       "1-5, higher for more orders.", _SCORES),
    _f("rfm_m", "integer", "Điểm M (giá trị)", "M score (monetary)",
       "1-5, higher for more spend.", _SCORES),
    _f("rfm_score", "text", "Mã RFM", "RFM code", "The three scores, e.g. 545."),
    _f("rfm_group", "text", "Nhóm RFM", "RFM group", "The named RFM group.", RFM_GROUPS,
       "rfm_group"),
    _f("p_alive", "probability", "Xác suất còn mua (P(alive))",
       "Probability still a customer (P(alive))",
       "BG/NBD probability that she has not stopped buying."),
    _f("expected_purchases_12m", "number", "Số lần mua dự kiến 12 tháng tới",
       "Expected purchases, next 12 months", "BG/NBD expected purchases over the horizon."),
    _f("expected_order_value", "money", "Giá trị đơn dự kiến", "Expected order value",
       "Gamma-Gamma expected value of her next orders, VND."),
    _f("clv_12m", "money", "Giá trị vòng đời khách hàng 12 tháng (CLV)",
       "Customer lifetime value, 12 months (CLV)",
       "Expected purchases times expected order value, VND."),
    _f("purchase_cycle_days", "number", "Chu kỳ mua (ngày)", "Purchase cycle (days)",
       "Her typical days between purchases."),
    _f("next_purchase_at", "date", "Ngày mua tiếp theo dự kiến", "Next expected purchase",
       "Last purchase plus her purchase cycle."),
    _f("lifecycle_stage", "text", "Giai đoạn vòng đời", "Lifecycle stage",
       "Where she is in her own purchase cycle.", LIFECYCLE_STAGES, "lifecycle_stage"),
    _f("consented_channels", "list", "Kênh đã đồng ý nhận quảng cáo",
       "Channels she agreed to advertising on",
       "Channels whose latest advertising consent is a grant (decree 91/2020).",
       MESSAGING_CHANNELS, "messaging"),
)
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}

SPEND_IN_PERIOD = Field("spend_in_period", "money", "Chi tiêu trong kỳ", "Spend in period",
                        "Total of completed orders in one year (YYYY) or month (YYYY-MM), VND.")
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


# -- the field list, with what the data holds ----------------------------------------------
#
# Two statements, each reading every column once: the scalar aggregates (counts, ranges)
# in one SELECT, and the value counts of the text and list columns as one GROUP BY per
# column in a UNION ALL. DuckDB groups dictionary-compressed strings several times faster
# than it fills histogram() states, so this beats a single SELECT of histograms.

def _aggregates(f: Field) -> list[tuple[str, str]]:
    c = f.name
    if f.type == "list":
        return [(f"{c}__count", f"count(*) FILTER (WHERE len({c}) > 0)")]
    out = [(f"{c}__count", f"count({c})")]
    if f.type in NUMERIC or f.type == "date":
        out += [(f"{c}__min", f"min({c})"), (f"{c}__max", f"max({c})")]
    elif f.type == "boolean":
        out += [(f"{c}__true", f"count_if({c})")]
    return out


def stats_sql(fields: Iterable[Field] = _FIELDS) -> tuple[str, list[str]]:
    """One SELECT over ``profile_traits``: every field's count of values, and the
    minimum and maximum of numbers and dates. Also the aliases, in column order."""
    pairs = [p for f in fields for p in _aggregates(f)]
    sql = "SELECT " + ", ".join(f"{expr} AS {alias}" for alias, expr in pairs) + \
        " FROM profile_traits"
    return sql, [alias for alias, _ in pairs]


def top_values_sql(fields: Iterable[Field] = _FIELDS, table: str = "profile_traits") -> str:
    """The ``TOP_VALUES`` commonest values of each text and list field with their counts
    (a list counts once for each of its elements), commonest first, ties A-Z; and how many
    distinct values the field has. Rows: (field, value, count, distinct)."""
    arms = []
    for f in fields:
        if f.type == "text":
            arms.append(f"SELECT '{f.name}' AS f, {f.name}::VARCHAR AS v, count(*) AS n "
                        f"FROM {table} WHERE {f.name} IS NOT NULL GROUP BY ALL")
        elif f.type == "list":
            # Lists hold distinct values (the runner builds them so): no list_distinct,
            # which would cost more than the count itself.
            arms.append(f"SELECT '{f.name}' AS f, v, count(*) AS n FROM "
                        f"(SELECT unnest({f.name})::VARCHAR AS v FROM {table}) GROUP BY ALL")
    return f"""
        SELECT f, v, n, count(*) OVER (PARTITION BY f) AS distinct_values
        FROM ({' UNION ALL '.join(arms)})
        QUALIFY row_number() OVER (PARTITION BY f ORDER BY n DESC, v) <= {TOP_VALUES}
        ORDER BY f, n DESC, v
    """


def _top_values(cur: Any) -> dict[str, tuple[list[dict[str, Any]], int]]:
    out: dict[str, tuple[list[dict[str, Any]], int]] = {}
    for f, v, n, distinct in cur.execute(top_values_sql()).fetchall():
        top, _ = out.get(f, ([], 0))
        if v is None:  # a null inside a list
            continue
        top.append({"value": v, "count": n})
        out[f] = (top, distinct)
    return out


def _builtin_entries(cur: Any) -> list[dict[str, Any]]:
    sql, aliases = stats_sql()
    row = dict(zip(aliases, cur.execute(sql).fetchall()[0], strict=True))
    tops = _top_values(cur)
    entries = []
    for f in _FIELDS:
        entry = f.as_dict() | {"count": row[f"{f.name}__count"]}
        if f.type in NUMERIC or f.type == "date":
            entry |= {"min": row[f"{f.name}__min"], "max": row[f"{f.name}__max"]}
        elif f.type in ("text", "list"):
            top, distinct = tops.get(f.name, ([], 0))
            entry |= {"top": top, "distinct": distinct}
        elif f.type == "boolean":
            entry |= {"true": row[f"{f.name}__true"]}
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class CustomTrait:
    """A user-defined trait as its definition describes it."""

    name: str
    type: str  # "number" or "text"
    label_vi: str
    label_en: str
    description: str = ""
    definition: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_vi


def custom_trait(name: str, definition: str | Mapping[str, Any] | None) -> CustomTrait:
    """A definition's name, type and label (the name stands in for a missing label).

    The type is the definition's own ``result_type`` (``most_frequent``, and
    ``min``/``max`` of text or times, give text); for a definition that no
    longer parses, ``most_frequent`` alone means text.
    """
    data = json.loads(definition) if isinstance(definition, str) else dict(definition or {})
    data = data if isinstance(data, dict) else {}
    label = data.get("label") or name
    vi, en = (label.get("vi") or label.get("en") or name, label.get("en") or
              label.get("vi") or name) if isinstance(label, dict) else (str(label), str(label))
    try:
        kind = custom.parse(data).result_type
    except SenError:
        kind = "text" if data.get("aggregate") == "most_frequent" else "number"
    return CustomTrait(name, kind, vi, en, str(data.get("description") or ""), data)


def custom_traits(cur: Any) -> dict[str, CustomTrait]:
    """Every user-defined trait, by name."""
    rows = cur.execute("SELECT name, definition FROM trait_definitions ORDER BY name").fetchall()
    return {name: custom_trait(name, definition) for name, definition in rows}


CUSTOM_STATS = """
    SELECT trait, count(value_num), min(value_num), max(value_num), count(value_text)
    FROM custom_trait_values GROUP BY trait
"""
CUSTOM_TOP = f"""
    SELECT trait, value_text, count(*) AS n FROM custom_trait_values
    WHERE value_text IS NOT NULL GROUP BY trait, value_text
    QUALIFY row_number() OVER (PARTITION BY trait ORDER BY n DESC, value_text) <= {TOP_VALUES}
    ORDER BY trait, n DESC, value_text
"""


def _custom_entries(cur: Any) -> list[dict[str, Any]]:
    traits = custom_traits(cur)
    stats = {r[0]: r[1:] for r in cur.execute(CUSTOM_STATS).fetchall()}
    tops: dict[str, list[dict[str, Any]]] = {}
    for trait, value, n in cur.execute(CUSTOM_TOP).fetchall():
        tops.setdefault(trait, []).append({"value": value, "count": n})
    entries = []
    for name, t in traits.items():
        n_num, low, high, n_text = stats.get(name, (0, None, None, 0))
        top = tops.get(name, [])
        entry: dict[str, Any] = {
            "name": name, "type": t.type, "source": "custom",
            "label": {"vi": t.label_vi, "en": t.label_en}, "description": t.description,
            "values": None, "value_labels": None}
        if t.type == "text":
            entry |= {"count": n_text, "top": top}
        else:
            entry |= {"count": n_num, "min": low, "max": high}
        entries.append(entry)
    return entries


PERIOD_STATS = """
    SELECT period, count(*), min(spend), max(spend)
    FROM profile_trait_periods GROUP BY period ORDER BY period DESC
"""


def _period_entry(cur: Any) -> dict[str, Any]:
    rows = cur.execute(PERIOD_STATS).fetchall()
    entry = SPEND_IN_PERIOD.as_dict() | {"source": "period"}
    return entry | {
        "params": {"period": {"type": "text", "values": [p for p, *_ in rows],
                              "format": "YYYY or YYYY-MM"}},
        "count": max((n for _, n, _, _ in rows), default=0),
        "min": min((lo for *_, lo, _ in rows), default=None),
        "max": max((hi for *_, hi in rows), default=None),
        "periods": [{"period": p, "count": n, "min": lo, "max": hi} for p, n, lo, hi in rows],
    }


def field_list(engine: Any) -> list[dict[str, Any]]:
    """Every field with what the data holds, in one read snapshot.

    Built-in fields come first (their statistics in one pass over
    ``profile_traits``), then ``spend_in_period`` with the periods there are,
    then the user-defined traits. Numbers and dates get ``min`` and ``max``,
    text and lists the ``top`` values with counts, booleans how many are
    ``true``; ``count`` is how many profiles have a value.
    """
    cur = engine.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        return [*_builtin_entries(cur), _period_entry(cur), *_custom_entries(cur)]
    finally:
        cur.execute("ROLLBACK")


# -- one profile's traits -----------------------------------------------------------------

@dataclass
class ProfileTraits:
    """A profile's traits as stored: built-in values (None before the first
    computation), spend per year and month, user-defined values."""

    profile_id: str
    as_of: datetime | None = None
    computed_at: datetime | None = None
    values: dict[str, Any] | None = None
    years: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)
    custom: list[dict[str, Any]] = field(default_factory=list)

    @property
    def computed(self) -> bool:
        return self.values is not None

    @staticmethod
    def field(name: str) -> Field:
        """The catalogue entry of a built-in trait (its type and labels)."""
        return FIELDS[name]


def read_profile(cur: Any, profile_id: str) -> ProfileTraits:
    """The traits of one (current) profile id; empty when none are computed yet."""
    columns = ["as_of", "computed_at", *FIELDS]
    rows = cur.execute(f"SELECT {', '.join(columns)} FROM profile_traits WHERE profile_id = ? "
                       "ORDER BY computed_at DESC LIMIT 1", [profile_id]).fetchall()
    out = ProfileTraits(profile_id)
    if rows:
        data = dict(zip(columns, rows[0], strict=True))
        out.as_of, out.computed_at = data.pop("as_of"), data.pop("computed_at")
        out.values = data
    periods = cur.execute("SELECT period, orders, spend FROM profile_trait_periods "
                          "WHERE profile_id = ? ORDER BY period", [profile_id]).fetchall()
    for period, orders, spend in periods:
        (out.years if len(period) == 4 else out.months).append(
            {"period": period, "orders": orders, "spend": spend})
    custom = cur.execute("""
        SELECT d.name, d.definition, v.value_num, v.value_text
        FROM trait_definitions d
        LEFT JOIN custom_trait_values v ON v.trait = d.name AND v.profile_id = ?
        ORDER BY d.name""", [profile_id]).fetchall()
    for name, definition, num, text in custom:
        t = custom_trait(name, definition)
        out.custom.append({"name": name, "type": t.type, "label_vi": t.label_vi,
                           "label_en": t.label_en, "value": text if t.type == "text" else num})
    return out


# -- exports ------------------------------------------------------------------------------

CONTACT_COLUMNS = ("profile_id", "name", "phone", "email")


@dataclass(frozen=True)
class ExportColumn:
    """A column of an export: a built-in field, a user-defined trait or a period's spend."""

    name: str
    kind: str  # "builtin" | "custom" | "period"
    type: str
    arg: str | None = None  # the trait's name or the period


def export_columns(names: Iterable[str], custom: Mapping[str, CustomTrait]
                   ) -> list[ExportColumn]:
    """Check the asked fields against the catalogue, in the order asked.

    ``spend_in_period:2025`` or ``spend_in_period:2025-03`` asks for one
    period's spend. Unknown names fail together in one :class:`ValidationError`.
    """
    columns, unknown, seen = [], [], set()
    for raw in names:
        name = raw.strip()
        if not name or name in seen or name in CONTACT_COLUMNS:
            continue
        seen.add(name)
        base, _, period = name.partition(":")
        if name in FIELDS:
            columns.append(ExportColumn(name, "builtin", FIELDS[name].type))
        elif base == SPEND_IN_PERIOD.name and PERIOD.match(period):
            columns.append(ExportColumn(name, "period", "money", period))
        elif name in custom:
            columns.append(ExportColumn(name, "custom", custom[name].type, name))
        else:
            unknown.append(name)
    if unknown:
        raise ValidationError(
            f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            "GET /api/traits/fields lists them; a period's spend is spend_in_period:YYYY "
            "or spend_in_period:YYYY-MM.", field="fields", rule="unknown_field")
    return columns


def export_sql(columns: list[ExportColumn], segment: str | None = None,
               snapshot: datetime | None = None) -> tuple[str, list[Any]]:
    """Every profile (or a saved segment's members, now or at the run ``snapshot``)
    with its contact columns and the asked traits (as they are now), by profile id.

    Columns are named ``c0``, ``c1``... in :func:`export_header`'s order."""
    select = [f"p.{c}" for c in CONTACT_COLUMNS]
    joins, params = [], []
    for i, col in enumerate(columns):
        if col.kind == "builtin":
            select.append(f"t.{col.name}")
        elif col.kind == "period":
            select.append(f"coalesce(x{i}.spend, 0)")
            joins.append(f"LEFT JOIN profile_trait_periods x{i} "
                         f"ON x{i}.profile_id = p.profile_id AND x{i}.period = ?")
            params.append(col.arg)
        else:
            select.append(f"x{i}.{'value_text' if col.type == 'text' else 'value_num'}")
            joins.append(f"LEFT JOIN custom_trait_values x{i} "
                         f"ON x{i}.profile_id = p.profile_id AND x{i}.trait = ?")
            params.append(col.arg)
    where = ""
    if segment is not None and snapshot is not None:
        where = ("WHERE p.profile_id IN (SELECT profile_id FROM segment_snapshots "
                 "WHERE segment = ? AND run_at = ?) ")
        params.extend([segment, snapshot])
    elif segment is not None:
        where = ("WHERE p.profile_id IN "
                 "(SELECT profile_id FROM segment_members WHERE segment = ?) ")
        params.append(segment)
    sql = (f"SELECT {', '.join(f'{e} AS c{i}' for i, e in enumerate(select))} FROM profiles p "
           "LEFT JOIN profile_traits t ON t.profile_id = p.profile_id "
           f"{' '.join(joins)} {where}ORDER BY p.profile_id")
    return sql, params


# A spreadsheet runs a cell starting with =, @, a tab or a return, or with + or - when
# what follows is not a number, as a formula. Phones such as +84912345678 are numbers.
_FORMULA = r"^[=@\t\r]|^[+-]"
_SIGNED_NUMBER = r"^[+-][0-9 ]*[0-9][0-9 ]*$"


def _formula_safe(text: str) -> str:
    """SQL: the text with a leading apostrophe when a spreadsheet would run it."""
    return (f"CASE WHEN regexp_matches({text}, '{_FORMULA}') "
            f"AND NOT regexp_matches({text}, '{_SIGNED_NUMBER}') "
            f"THEN chr(39) || {text} ELSE {text} END")


def csv_sql(columns: list[ExportColumn], segment: str | None = None,
            snapshot: datetime | None = None) -> tuple[str, list[Any]]:
    """:func:`export_sql` with each value as a CSV cell shows it: lists joined with
    commas, moments as ``2026-01-05 02:05:00`` (UTC), text safe from spreadsheets."""
    types = ["text"] * len(CONTACT_COLUMNS) + [c.type for c in columns]
    cells = []
    for i, type_ in enumerate(types):
        if type_ == "list":
            cells.append(_formula_safe(f"array_to_string(c{i}, ', ')"))
        elif type_ == "date":
            cells.append(f"strftime(c{i}, '%Y-%m-%d %H:%M:%S')")
        elif type_ == "text":
            cells.append(_formula_safe(f"c{i}"))
        else:
            cells.append(f"c{i}")
    sql, params = export_sql(columns, segment, snapshot)
    cells_sql = ", ".join(f"{c} AS c{i}" for i, c in enumerate(cells))
    return f"SELECT {cells_sql} FROM ({sql}) ORDER BY c0", params


def export_header(columns: list[ExportColumn]) -> list[str]:
    return [*CONTACT_COLUMNS, *(c.name for c in columns)]
