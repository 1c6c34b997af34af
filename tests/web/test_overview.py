"""The overview's numbers, from a small hand-built analytical store with known counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sen.store.analytics import DuckDBEngine
from sen.web.charts import bar_chart, nice_ceiling
from sen.web.overview import compute_overview, period

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2026, 11, 23)


def utc(day: date, hour: int, minute: int = 0, tz: ZoneInfo = HCM) -> datetime:
    """A local wall-clock time as the naive UTC the store holds."""
    local = datetime.combine(day, time(hour, minute), tz)
    return local.astimezone(UTC).replace(tzinfo=None)


def add_event(engine: DuckDBEngine, n: int, source: str, at: datetime) -> None:
    engine.execute(
        "INSERT INTO events (message_id, message_key, type, event, source, timestamp, "
        "received_at) VALUES (?, ?, 'track', 'Product Viewed', ?, ?, ?)",
        [f"m-{source}-{n}-{at.isoformat()}", n, source, at, at])


def add_order(engine: DuckDBEngine, order_id: str, source: str, at: datetime, total: int,
              status: str = "completed") -> None:
    engine.execute(
        "INSERT INTO orders (order_id, message_id, source, channel, ordered_at, status, total) "
        "VALUES (?, ?, ?, 'offline', ?, ?, ?)", [order_id, f"m-{order_id}", source, at, status,
                                                  total])


def add_customer(engine: DuckDBEngine, user_id: str, source: str, first_seen: datetime) -> None:
    engine.execute("INSERT INTO customers (user_id, source, first_seen, last_seen) "
                   "VALUES (?, ?, ?, ?)", [user_id, source, first_seen, first_seen])


def build_store(engine: DuckDBEngine, today: date) -> None:
    """web: 3 events yesterday, 1 at 00:30 today (17:30 UTC the day before);
    pos: 2 events and 3 orders (one cancelled) five days ago; app: 1 customer;
    outside the window: an event 30 days ago and an order tomorrow."""
    yesterday, five_ago = today - timedelta(days=1), today - timedelta(days=5)
    for n in range(3):
        add_event(engine, n, "web", utc(yesterday, 12))
    add_event(engine, 9, "web", utc(today, 0, 30))
    add_event(engine, 1, "pos", utc(five_ago, 9))
    add_event(engine, 2, "pos", utc(five_ago, 23, 59))
    add_event(engine, 3, "pos", utc(today - timedelta(days=30), 12))
    add_order(engine, "HD-1", "pos", utc(five_ago, 10), 1_250_000)
    add_order(engine, "HD-2", "pos", utc(five_ago, 11), 350_000)
    add_order(engine, "HD-3", "pos", utc(five_ago, 12), 9_999_000, status="cancelled")
    add_order(engine, "HD-4", "pos", utc(today + timedelta(days=1), 1), 100)
    add_customer(engine, "u1", "app", utc(yesterday, 8))
    add_customer(engine, "u2", "web", utc(today - timedelta(days=29), 0, 5))


@pytest.fixture
def engine(tmp_path):
    e = DuckDBEngine(tmp_path / "sen.duckdb")
    yield e
    e.close()


def test_period_is_whole_local_days_in_utc():
    start, end = period(TODAY, HCM, 30)
    assert start == datetime(2026, 10, 24, 17, 0)
    assert end == datetime(2026, 11, 23, 17, 0)


def test_counts_per_source_and_local_day(engine):
    build_store(engine, TODAY)
    ov = compute_overview(engine, HCM, today=TODAY)
    assert len(ov.days) == 30 and ov.days[0] == date(2026, 10, 25) and ov.days[-1] == TODAY
    assert (ov.totals.events, ov.totals.orders, ov.totals.customers, ov.totals.revenue) == \
        (6, 3, 2, 1_600_000)
    assert {s: (c.events, c.customers, c.orders, c.revenue) for s, c in ov.by_source.items()} \
        == {"web": (4, 1, 0, 0), "pos": (2, 0, 3, 1_600_000), "app": (0, 1, 0, 0)}
    by_day = {d: (c.events, c.orders) for d, c in ov.by_day.items() if c.events or c.orders}
    assert by_day == {date(2026, 11, 22): (3, 0), TODAY: (1, 0), date(2026, 11, 18): (2, 3)}
    assert ov.by_day[date(2026, 10, 25)].customers == 1


def test_the_same_store_in_another_zone_moves_the_midnight_event(engine):
    build_store(engine, TODAY)
    ov = compute_overview(engine, ZoneInfo("UTC"), today=TODAY)
    assert ov.by_day[date(2026, 11, 22)].events == 4  # 00:30 in Hanoi is 17:30 UTC
    assert ov.by_day[TODAY].events == 0


def test_an_empty_store_gives_zeros_for_every_day(engine):
    ov = compute_overview(engine, HCM, today=TODAY, days=7)
    assert len(ov.days) == 7 and ov.by_source == {}
    assert all(c.events == c.orders == 0 for c in ov.by_day.values())


@pytest.mark.parametrize("value, ceiling", [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20),
                                            (180, 200), (240, 250), (1_250_000, 2_000_000)])
def test_axis_maximum_is_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_bars_are_proportional_and_the_newest_day_is_labelled():
    chart = bar_chart([("a", 0), ("b", 5), ("c", 10)], label_every=2)
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1])
    assert chart.bars[2].y + chart.bars[2].height == pytest.approx(chart.baseline)
    assert [label for _, label in chart.labels] == ["a", "c"]
    assert [t.label for t in chart.ticks] == ["0", "5", "10"]


def _today_local() -> date:
    return datetime.now(HCM).date()


@pytest.mark.anyio
async def test_page_and_api_show_the_same_numbers(web):
    build_store(web.app.state.analytics, _today_local())
    web.user("lan", "marketer")
    async with web.client() as c:
        await web.login(c, "lan")
        page = (await c.get("/")).text
        api = (await c.get("/api/overview")).json()
    values = dict(re.findall(r'id="total-(\w+)" data-value="(\d+)"', page))
    assert values == {"events": "6", "customers": "2", "orders": "3", "revenue": "1600000"}
    assert "1.600.000 ₫" in page
    row = re.search(r'<tr data-source="pos">(.*?)</tr>', page).group(1)
    assert re.findall(r'data-metric="\w+">([^<]+)<', row) == ["2", "0", "3", "1.600.000 ₫"]
    assert page.count('<rect class="bar"') == 120  # four charts of 30 days
    assert api["totals"] == {"events": 6, "customers": 2, "orders": 3, "revenue": 1_600_000}
    assert {s["source"]: s["events"] for s in api["by_source"]} == {"web": 4, "pos": 2, "app": 0}
    assert len(api["by_day"]) == 30 and api["timezone"] == "Asia/Ho_Chi_Minh"
    assert api["by_day"][-1]["date"] == _today_local().isoformat()
    assert api["by_day"][-1]["events"] == 1


@pytest.mark.anyio
async def test_api_overview_needs_a_login_and_a_sensible_window(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        assert (await c.get("/api/overview")).status_code == 401
        await web.login(c, "lan")
        assert len((await c.get("/api/overview?days=7")).json()["by_day"]) == 7
        r = await c.get("/api/overview?days=0")
        assert r.status_code == 400 and r.json()["error"]["field"] == "days"


def test_chart_makes_room_for_the_widest_axis_label():
    from sen.web.charts import CHAR_WIDTH, LEFT, bar_chart

    small = bar_chart([("01/11", 3), ("02/11", 9)])
    assert small.left == LEFT
    money = bar_chart([("01/11", 12_000_000)], format_value=lambda v: f"{v:,}".replace(",", "."))
    widest = max(len(t.label) for t in money.ticks)
    assert widest == len("20.000.000")
    assert money.left >= CHAR_WIDTH * widest
    assert all(b.x >= money.left for b in money.bars)
