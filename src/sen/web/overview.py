"""The overview's numbers: events, new customers, orders and revenue per source and day.

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
class Overview:
    """The overview of one period: ``days`` are local dates, oldest first."""

    start: date
    end: date
    timezone: str
    totals: Counts = field(default_factory=Counts)
    by_source: dict[str, Counts] = field(default_factory=dict)
    by_day: dict[date, Counts] = field(default_factory=dict)

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
    rows = {metric: [(s, h, int(v)) for s, h, v in
                     engine.execute(ibis.to_sql(expr, dialect=engine.name)).fetchall()]
            for metric, expr in hourly_queries(start, end).items()}
    return fold(rows, today - timedelta(days=days - 1), today, tz)
