"""The overview's numbers: events, new customers, orders and revenue per source and day,
and the identity KPIs (identified and anonymous profiles, conversions, devices, push).

The queries are Ibis expressions over *unbound* tables, compiled to the
engine's SQL dialect and run through the engine, so building them needs no
connection and the same definitions serve DuckDB and Spark. Days are the
retailer's local days: rows are counted per UTC hour in the store, and the
hours are folded into local days here, which is exact in every zone whose
offset is a whole number of hours, including zones with daylight saving.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis

from sen.store.analytics import Engine

DEFAULT_DAYS = 30
# Orders in these states did not bring money in, so revenue leaves them out.
NOT_REVENUE = ("cancelled", "refunded")

_EVENTS = ibis.table({"source": "string", "timestamp": "timestamp"}, name="events")
_CUSTOMERS = ibis.table({"source": "string", "first_seen": "timestamp"}, name="customers")
_ORDERS = ibis.table({"source": "string", "ordered_at": "timestamp", "status": "string",
                      "total": "int64"}, name="orders")
_PROFILES = ibis.table({"identified": "boolean", "anonymous_since": "timestamp",
                        "identified_at": "timestamp", "devices": "int32", "browsers": "int32",
                        "web_push_tokens": "int32", "app_push_tokens": "int32"},
                       name="profiles")


@dataclass
class Counts:
    """The four numbers shown for a source, a day or the whole period."""

    events: int = 0
    customers: int = 0
    orders: int = 0
    revenue: int = 0

    def add(self, metric: str, value: int) -> None:
        setattr(self, metric, getattr(self, metric) + int(value))


@dataclass
class IdentityCounts:
    """Profiles now (identified, anonymous, devices, push tokens) and, per local day of
    the period, anonymous profiles that became identified (``converted_by_day``)."""

    identified: int = 0
    anonymous: int = 0
    avg_devices: float = 0.0
    avg_browsers: float = 0.0
    web_push_tokens: int = 0
    app_push_tokens: int = 0
    converted_by_day: dict[date, int] = field(default_factory=dict)

    @property
    def converted(self) -> int:
        """Conversions in the whole period."""
        return sum(self.converted_by_day.values())


@dataclass
class Overview:
    """The overview of one period: ``days`` are local dates, oldest first."""

    start: date
    end: date
    timezone: str
    totals: Counts = field(default_factory=Counts)
    by_source: dict[str, Counts] = field(default_factory=dict)
    by_day: dict[date, Counts] = field(default_factory=dict)
    identity: IdentityCounts = field(default_factory=IdentityCounts)

    @property
    def days(self) -> list[date]:
        return list(self.by_day)

    @property
    def sources(self) -> list[str]:
        return sorted(self.by_source)


def period(today: date, tz: ZoneInfo, days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:
    """The UTC bounds (naive, as stored) of the ``days`` local days ending with ``today``."""
    first = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tz)
    after = datetime.combine(today + timedelta(days=1), datetime.min.time(), tz)
    return (first.astimezone(UTC).replace(tzinfo=None),
            after.astimezone(UTC).replace(tzinfo=None))


def hourly_queries(start: datetime, end: datetime) -> dict[str, ibis.Table]:
    """One expression per metric: rows ``(source, hour, value)`` with UTC hours."""
    lo, hi = ibis.literal(start), ibis.literal(end)
    ev = _EVENTS.filter(_EVENTS.timestamp >= lo, _EVENTS.timestamp < hi)
    cu = _CUSTOMERS.filter(_CUSTOMERS.first_seen >= lo, _CUSTOMERS.first_seen < hi)
    od = _ORDERS.filter(_ORDERS.ordered_at >= lo, _ORDERS.ordered_at < hi)
    paid = od.filter(~od.status.isin(NOT_REVENUE))

    def per_hour(t: ibis.Table, column: str, value: Any) -> ibis.Table:
        return (t.group_by(source=t.source.fill_null(""), hour=t[column].truncate("h"))
                .aggregate(value=value).order_by("source", "hour"))

    return {
        "events": per_hour(ev, "timestamp", ev.count()),
        "customers": per_hour(cu, "first_seen", cu.count()),
        "orders": per_hour(od, "ordered_at", od.count()),
        "revenue": per_hour(paid, "ordered_at", paid.total.sum().fill_null(0)),
    }


def identity_queries(start: datetime, end: datetime) -> dict[str, ibis.Table]:
    """The profiles' totals (one row), and conversions per UTC hour ``(hour, value)``:
    profiles whose ``identified_at`` is in the period and later than ``anonymous_since``."""
    p = _PROFILES
    known = p.identified
    totals = p.aggregate(
        identified=p.count(where=known), anonymous=p.count(where=~known),
        avg_devices=p.devices.mean(where=known).fill_null(0),
        avg_browsers=p.browsers.mean(where=known).fill_null(0),
        web_push_tokens=p.web_push_tokens.sum().fill_null(0),
        app_push_tokens=p.app_push_tokens.sum().fill_null(0))
    conv = p.filter(p.identified_at >= ibis.literal(start), p.identified_at < ibis.literal(end),
                    p.anonymous_since < p.identified_at)
    hourly = (conv.group_by(hour=conv.identified_at.truncate("h"))
              .aggregate(value=conv.count()).order_by("hour"))
    return {"totals": totals, "converted": hourly}


def fold_identity(totals: dict[str, Any], converted: list[tuple[datetime, int]], start: date,
                  end: date, tz: ZoneInfo) -> IdentityCounts:
    """The totals row and hourly UTC conversions → :class:`IdentityCounts` (pure)."""
    out = IdentityCounts(
        identified=int(totals["identified"]), anonymous=int(totals["anonymous"]),
        avg_devices=float(totals["avg_devices"]), avg_browsers=float(totals["avg_browsers"]),
        web_push_tokens=int(totals["web_push_tokens"]),
        app_push_tokens=int(totals["app_push_tokens"]),
        converted_by_day={start + timedelta(days=i): 0 for i in range((end - start).days + 1)})
    for hour, value in converted:
        local_day = hour.replace(tzinfo=UTC).astimezone(tz).date()
        if local_day in out.converted_by_day:
            out.converted_by_day[local_day] += int(value)
    return out


def fold(rows: dict[str, list[tuple[str, datetime, int]]], start: date, end: date,
         tz: ZoneInfo) -> Overview:
    """Hourly UTC rows per metric → an :class:`Overview` of local days (pure)."""
    out = Overview(start=start, end=end, timezone=str(tz))
    day = start
    while day <= end:
        out.by_day[day] = Counts()
        day += timedelta(days=1)
    by_source: dict[str, Counts] = defaultdict(Counts)
    for metric, metric_rows in rows.items():
        for source, hour, value in metric_rows:
            local_day = hour.replace(tzinfo=UTC).astimezone(tz).date()
            if local_day not in out.by_day:
                continue
            out.by_day[local_day].add(metric, value)
            by_source[source].add(metric, value)
            out.totals.add(metric, value)
    out.by_source = dict(sorted(by_source.items()))
    return out


def compute_overview(engine: Engine, tz: ZoneInfo, *, today: date | None = None,
                     days: int = DEFAULT_DAYS) -> Overview:
    """The overview of the ``days`` local days up to ``today`` (default: today in ``tz``)."""
    today = today or datetime.now(tz).date()
    start, end = period(today, tz, days)
    first = today - timedelta(days=days - 1)

    def run(expr: ibis.Table) -> Any:
        return engine.execute(ibis.to_sql(expr, dialect=engine.name))

    rows = {metric: [(s, h, int(v)) for s, h, v in run(expr).fetchall()]
            for metric, expr in hourly_queries(start, end).items()}
    out = fold(rows, first, today, tz)
    queries = identity_queries(start, end)
    result = run(queries["totals"])
    names = [d[0] for d in result.description]
    totals = dict(zip(names, result.fetchone(), strict=True))
    out.identity = fold_identity(totals, run(queries["converted"]).fetchall(), first, today, tz)
    return out
