"""Every built-in trait on hand-built customers whose answers are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from sen.traits import custom, runner
from sen.traits.config import RfmRules, TraitsConfig
from tests.traits.shop import Shop

AS_OF = datetime(2026, 6, 30, 12, 0)
VELA, MIRA = "Vela Saigon", "Mira"


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path)


def build_shop(folder: Path) -> Shop:
    s = Shop(folder / "sen.duckdb")
    # Lan: store, web and app; a same-day split basket; a return, a cancellation, and an
    # order after as_of that must not count.
    s.customer("p_lan", "u:pos:1", "u:web:1", birth_date=date(1990, 7, 1), province="ha noi",
               phone="+84912345678", zalo_id="z1")
    s.order("u:pos:1", datetime(2025, 1, 10, 10), 1_000_000, store="HN01",
            lines=((VELA, "Giày nữ", "36", 1, 1_000_000),))
    s.order("u:web:1", datetime(2025, 3, 5, 9), 2_000_000, channel="web",
            lines=((VELA, "Túi xách", None, 1, 1_200_000), (MIRA, "Giày nữ", "37", 1, 800_000)))
    s.order("u:pos:1", datetime(2025, 3, 5, 18), 500_000, store="HN02",
            lines=((MIRA, "Sandal", "36", 2, 250_000),))
    s.order("u:web:1", datetime(2026, 2, 1, 20), 3_000_000, channel="App",
            lines=((VELA, "Giày nữ", "36", 1, 3_000_000),))
    s.order("u:pos:1", datetime(2026, 5, 1), 800_000, store="HN01", status="refunded")
    s.order("u:web:1", datetime(2026, 6, 1), 400_000, channel="web", status="cancelled")
    s.order("u:pos:1", datetime(2026, 7, 15), 9_000_000, store="HN01")
    s.event("u:web:1", "Message Opened", datetime(2026, 5, 2), {"channel": "email"})
    s.event("u:web:1", "Message Opened", datetime(2026, 5, 3), {"channel": "email"})
    s.event("u:web:1", "Message Opened", datetime(2026, 5, 4), {"channel": "Email"})
    s.event("u:pos:1", "Message Clicked", datetime(2026, 4, 1), {"channel": "zalo"})
    # Minh: known, never bought; an impossible birth date; province only through his store.
    s.customer("p_minh", "u:pos:2", birth_date=date(1900, 1, 1), store_code="HCM01",
               email="minh@example.vn")
    # Hoa: one marketplace order ten days ago, as an anonymous buyer.
    s.customer("p_hoa", "a:shopee:77", province="Đà Nẵng", push_tokens=1)
    s.order("a:shopee:77", datetime(2026, 6, 20), 700_000, channel="shopee",
            lines=((MIRA, "Túi xách", None, 1, 700_000),))
    # Tuan: two brands bought in one order, equally: the alphabetically first is favourite.
    s.customer("p_tuan", "u:pos:3", birth_date=date(2008, 6, 30))
    s.order("u:pos:3", datetime(2026, 6, 1), 2_000_000, store="DN01",
            lines=(("Bravo", "Giày nam", "42", 1, 1_000_000),
                   ("Alpha", "Giày nam", "41", 1, 1_000_000)))
    s.identity_caught_up()
    return s


def test_spend_orders_and_purchase_dates(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    lan = shop.traits("p_lan")
    assert (lan["orders"], lan["spend"], lan["aov"], lan["items"]) == (4, 6_500_000,
                                                                       1_625_000, 6)
    assert (lan["orders_12m"], lan["spend_12m"]) == (1, 3_000_000)
    assert (lan["first_purchase_at"], lan["first_purchase_channel"],
            lan["first_purchase_store"]) == (datetime(2025, 1, 10, 10), "store", "HN01")
    assert (lan["last_purchase_at"], lan["last_purchase_channel"],
            lan["last_purchase_store"]) == (datetime(2026, 2, 1, 20), "app", None)
    assert lan["days_since_last_purchase"] == 149
    assert lan["as_of"] == AS_OF


def test_spend_by_year_and_month(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    assert shop.periods("p_lan") == {
        "2025": (3, 3_500_000), "2026": (1, 3_000_000), "2025-01": (1, 1_000_000),
        "2025-03": (2, 2_500_000), "2026-02": (1, 3_000_000)}
    assert shop.periods("p_minh") == {}


def test_favourites_count_items_and_recent_then_alphabetical_wins_ties(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    lan = shop.traits("p_lan")
    # Vela and Mira three items each; Vela was bought last.
    assert lan["favourite_brand"] == VELA
    assert lan["favourite_category"] == "Giày nữ"
    assert lan["favourite_size"] == "36"
    # HN01 and HN02 one purchase each (the refund does not count); HN02 is more recent.
    assert lan["favourite_store"] == "HN02"
    tuan = shop.traits("p_tuan")
    assert (tuan["favourite_brand"], tuan["favourite_size"]) == ("Alpha", "41")
    hoa = shop.traits("p_hoa")
    assert (hoa["favourite_store"], hoa["favourite_size"], hoa["favourite_brand"]) == (
        None, None, MIRA)


def test_region_age_and_channels(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    lan, minh, hoa, tuan = (shop.traits(p) for p in ("p_lan", "p_minh", "p_hoa", "p_tuan"))
    assert (lan["province"], lan["region"]) == ("Hà Nội", "North")
    assert (minh["province"], minh["region"]) == ("TP. Hồ Chí Minh", "South")  # his store's
    assert (hoa["province"], hoa["region"]) == ("Đà Nẵng", "Central")
    assert (lan["age"], lan["age_band"]) == (35, "35-44")  # her birthday is tomorrow
    assert (minh["age"], minh["age_band"]) == (None, None)  # born in 1900: a typing mistake
    assert (tuan["age"], tuan["age_band"]) == (18, "18-24")  # eighteen today
    assert lan["channels"] == ["app", "store", "web"] and lan["omnichannel"] is True
    assert hoa["channels"] == ["marketplace"] and hoa["omnichannel"] is False
    assert minh["channels"] == [] and minh["omnichannel"] is False


def test_messaging_channels_and_returns(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    lan, minh, hoa = (shop.traits(p) for p in ("p_lan", "p_minh", "p_hoa"))
    assert lan["preferred_channel"] == "zalo"  # one click beats three opens
    assert minh["preferred_channel"] is None
    assert lan["reachable_channels"] == ["sms", "zalo"]
    assert minh["reachable_channels"] == ["email"]
    assert hoa["reachable_channels"] == ["push"]
    assert (lan["returned_orders"], lan["returns_rate"]) == (1, pytest.approx(0.2))
    assert (minh["returned_orders"], minh["returns_rate"]) == (0, None)
    assert hoa["returns_rate"] == 0.0


def test_cycle_stage_and_rfm_without_enough_buyers_for_a_model(shop: Shop) -> None:
    cuts = RfmRules(recency_cuts=(10, 30, 90, 180), frequency_cuts=(1, 2, 3, 4),
                    monetary_cuts=(1e6, 2e6, 4e6, 6e6))
    run = runner.refresh(shop.engine, as_of=AS_OF, config=TraitsConfig(rfm=cuts))
    assert run.models["bgnbd"] is None  # three buyers: nothing to fit
    lan, minh, hoa = (shop.traits(p) for p in ("p_lan", "p_minh", "p_hoa"))
    # Three purchase days over 387 days: her own cycle is 193.5 days; 149 days on she is
    # not due yet (0.77 of a cycle), and the gap before was no lapse.
    assert lan["purchase_cycle_days"] == pytest.approx(193.5)
    assert lan["next_purchase_at"] == datetime(2026, 8, 14)
    assert lan["lifecycle_stage"] == "active"
    assert (lan["rfm_r"], lan["rfm_f"], lan["rfm_m"], lan["rfm_score"]) == (2, 4, 5, "245")
    assert lan["rfm_group"] == "At Risk"
    assert (hoa["lifecycle_stage"], hoa["rfm_score"], hoa["rfm_group"]) == (
        "new", "511", "New Customers")
    assert (minh["lifecycle_stage"], minh["rfm_group"], minh["clv_12m"]) == (
        "prospect", None, None)
    assert lan["p_alive"] is None and lan["clv_12m"] is None


def test_every_profile_gets_one_row_and_reruns_replace_them(shop: Shop) -> None:
    first = runner.refresh(shop.engine, as_of=AS_OF)
    second = runner.refresh(shop.engine, as_of=AS_OF)
    assert first.profiles == second.profiles == 4
    count = shop.engine.cursor().execute("SELECT count(*) FROM profile_traits").fetchall()
    assert count[0][0] == 4
    runs = shop.engine.cursor().execute("SELECT kind, profiles FROM trait_runs").fetchall()
    assert runs == [("full", 4), ("full", 4)]


def test_an_empty_store_refreshes_to_nothing(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "empty.duckdb")
    run = runner.refresh(shop.engine, as_of=AS_OF)
    assert run.profiles == 0
    assert shop.engine.cursor().execute("SELECT count(*) FROM profile_traits").fetchall() == [
        (0,)]


def test_a_failed_run_leaves_the_previous_traits(shop: Shop, monkeypatch) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    before = shop.traits("p_lan")

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner.predict, "predict", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        runner.refresh(shop.engine, as_of=datetime(2026, 9, 1))
    assert shop.traits("p_lan") == before


def _table(shop: Shop) -> list[tuple]:
    cur = shop.engine.cursor()
    rows = cur.execute("SELECT * EXCLUDE (computed_at) FROM profile_traits "
                       "ORDER BY profile_id").fetchall()
    periods = cur.execute("SELECT * FROM profile_trait_periods ORDER BY ALL").fetchall()
    orders = cur.execute("SELECT * FROM profile_orders ORDER BY ALL").fetchall()
    lines = cur.execute("SELECT * FROM profile_order_lines ORDER BY ALL").fetchall()
    return rows + periods + orders + lines


def _more_history(shop: Shop) -> None:
    shop.order("a:shopee:77", datetime(2026, 6, 25), 900_000, channel="lazada",
               lines=((VELA, "Giày nữ", "38", 1, 900_000),))
    shop.event("u:pos:2", "Message Clicked", datetime(2026, 6, 26), {"channel": "sms"})
    # The till typed Minh's id with spaces: the order is still his.
    shop.cur.execute("INSERT INTO orders (order_id, message_id, source, channel, user_id, "
                     "ordered_at, status, total) VALUES ('T1', 'm-T1', 'pos', 'store', "
                     "' pos:2  ', TIMESTAMP '2026-06-27 10:00', 'completed', 450000)")
    shop.identity_caught_up()


def test_an_update_recomputes_only_profiles_with_new_events(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    lan_before = shop.traits("p_lan")
    _more_history(shop)
    run = runner.update(shop.engine, as_of=AS_OF)
    assert (run.kind, run.profiles) == ("incremental", 2)  # Hoa and Minh
    hoa = shop.traits("p_hoa")
    assert (hoa["orders"], hoa["spend"], hoa["channels"]) == (2, 1_600_000, ["marketplace"])
    minh = shop.traits("p_minh")
    assert (minh["preferred_channel"], minh["orders"], minh["spend"]) == ("sms", 1, 450_000)
    assert shop.traits("p_lan")["computed_at"] == lan_before["computed_at"]
    assert runner.update(shop.engine, as_of=AS_OF).profiles == 0  # nothing new since


def test_an_update_agrees_with_a_refresh_under_the_same_models(tmp_path: Path) -> None:
    stores = []
    for name in ("a", "b"):
        shop = _shop_like_the_fixture(tmp_path / name)
        runner.refresh(shop.engine, as_of=AS_OF)
        _more_history(shop)
        stores.append(shop)
    runner.update(stores[0].engine, as_of=AS_OF)
    runner.refresh(stores[1].engine, as_of=AS_OF, refit=False)
    assert _table(stores[0]) == _table(stores[1])


def _shop_like_the_fixture(folder: Path) -> Shop:
    folder.mkdir()
    return build_shop(folder)


def test_events_identity_has_not_folded_in_wait_for_the_next_update(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.order("a:shopee:77", datetime(2026, 6, 25), 900_000, channel="shopee")
    assert runner.update(shop.engine, as_of=AS_OF).profiles == 0  # identity is behind
    shop.identity_caught_up()
    assert runner.update(shop.engine, as_of=AS_OF).profiles == 1
    assert shop.traits("p_hoa")["orders"] == 2


def test_a_merge_moves_the_history_and_drops_the_merged_away_profile(shop: Shop) -> None:
    custom.save(shop.engine, custom.parse({"name": "bags", "source": "order_lines",
                                           "aggregate": "count", "filters": [
                                               {"property": "category", "op": "=",
                                                "value": "Túi xách"}]}), "test")
    runner.refresh(shop.engine, as_of=AS_OF)
    values = "SELECT profile_id, value_num FROM custom_trait_values ORDER BY 1"
    assert shop.cur.execute(values).fetchall() == [("p_hoa", 1.0), ("p_lan", 1.0)]
    cur = shop.cur
    cur.execute("UPDATE identity_profiles SET profile_id = 'p_lan' WHERE profile_id = 'p_hoa'")
    cur.execute("DELETE FROM profiles WHERE profile_id = 'p_hoa'")
    cur.execute("INSERT INTO identity_merge_log VALUES (now()::TIMESTAMP, 'merged', 'p_lan', "
                "['p_hoa', 'p_lan'], 3, 'phone +84912345678', 'sen')")
    run = runner.update(shop.engine, as_of=AS_OF)
    assert run.profiles == 1
    lan = shop.traits("p_lan")
    assert (lan["orders"], lan["channels"]) == (5, ["app", "marketplace", "store", "web"])
    assert cur.execute(values).fetchall() == [("p_lan", 2.0)]
    for table in ("profile_traits", "profile_trait_periods", "custom_trait_values",
                  "profile_orders", "profile_order_lines"):
        gone = cur.execute(f"SELECT count(*) FROM {table} WHERE profile_id = 'p_hoa'")
        assert gone.fetchall() == [(0,)], table
    # Hoa's marketplace order and its line are Lan's now.
    assert cur.execute("SELECT count(*), count(*) FILTER (WHERE channel = 'marketplace') "
                       "FROM profile_orders WHERE profile_id = 'p_lan'").fetchall() == [(7, 1)]
    assert cur.execute("SELECT count(*) FROM profile_order_lines "
                       "WHERE profile_id = 'p_lan'").fetchall() == [(6,)]


def test_compute_profiles_on_demand(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.order("u:pos:3", datetime(2026, 6, 29), 1_000_000, store="DN01")
    run = runner.compute_profiles(shop.engine, ["p_tuan", "p_nobody"], as_of=AS_OF)
    assert (run.kind, run.profiles) == ("profiles", 1)
    assert shop.traits("p_tuan")["orders"] == 2


def test_the_first_update_of_a_store_is_a_refresh(shop: Shop) -> None:
    run = runner.update(shop.engine, as_of=AS_OF)
    assert (run.kind, run.profiles) == ("full", 4)


def test_orders_by_profile_hold_every_order_up_to_as_of_with_its_lines(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    cur = shop.cur
    orders = cur.execute("SELECT profile_id, status, count(*), sum(total) FROM profile_orders "
                         "GROUP BY ALL ORDER BY ALL").fetchall()
    # Lan's order of 2026-07-15 is after as_of.
    assert orders == [("p_hoa", "completed", 1, 700_000), ("p_lan", "cancelled", 1, 400_000),
                      ("p_lan", "completed", 4, 6_500_000), ("p_lan", "refunded", 1, 800_000),
                      ("p_tuan", "completed", 1, 2_000_000)]
    lines = cur.execute("SELECT profile_id, brand, sum(quantity), sum(amount) "
                        "FROM profile_order_lines GROUP BY ALL ORDER BY ALL").fetchall()
    assert lines == [("p_hoa", MIRA, 1, 700_000), ("p_lan", MIRA, 3, 1_300_000),
                     ("p_lan", VELA, 3, 5_200_000), ("p_tuan", "Alpha", 1, 1_000_000),
                     ("p_tuan", "Bravo", 1, 1_000_000)]


def test_an_update_of_a_store_without_orders_by_profile_is_a_refresh(shop: Shop) -> None:
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.cur.execute("DELETE FROM profile_orders")  # as a store from before they existed
    shop.cur.execute("DELETE FROM sen_meta WHERE key = 'traits_orders_by_profile'")
    run = runner.update(shop.engine, as_of=AS_OF)
    assert (run.kind, run.profiles) == ("full", 4)
    assert shop.cur.execute("SELECT count(*) FROM profile_orders").fetchall() == [(8,)]
    assert runner.update(shop.engine, as_of=AS_OF).kind == "incremental"
