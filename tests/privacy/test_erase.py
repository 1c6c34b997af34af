"""Erasing a customer: nothing of hers left in either store, sales still true, nobody
else touched, and no rebuild brings her back."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest
import sqlalchemy as sa

from sen import privacy
from sen.errors import NotFoundError
from sen.identity import profiles, resolver
from sen.ingest import projections
from sen.ingest.writer import EventWriter
from sen.messaging import events as message_events
from sen.privacy import erase_analytics
from sen.privacy import ops_rows as privacy_ops
from sen.privacy.scrub import Pseudonyms
from sen.store.operational import (
    clicks,
    consents,
    coupons,
    messages,
    pending_events,
    privacy_requests,
)

from .support import analytics_hits, digest, ops_digest, ops_hits, ops_rows

NOW = datetime(2026, 12, 1, 8, 0)
SALES = """SELECT status, count(*), sum(total), sum(item_count) FROM orders
           GROUP BY status ORDER BY status"""
LINES = "SELECT count(*), sum(price * quantity), sum(quantity) FROM order_items"


def _snapshot(engine, sql, params=None):  # noqa: ANN001, ANN202
    return sorted(map(tuple, engine.execute(sql, params).fetchall()), key=repr)


OTHERS_EVENTS = ("SELECT hash(e) FROM events e WHERE list_contains(?::VARCHAR[], user_id) "
                 "OR list_contains(?::VARCHAR[], anonymous_id)")


def test_nothing_of_hers_is_left_in_either_store(store, ops, people) -> None:
    her, _ = people
    assert analytics_hits(store, her.needles) and ops_hits(ops, her.needles)  # she was there
    done = privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    assert done.profile_id == her.profile_id and not done.already_erased
    assert analytics_hits(store, her.needles) == []
    assert ops_hits(ops, her.needles) == []
    removed = done.removed
    assert removed["analytics"]["events"] > 10 and removed["analytics"]["orders"] >= 1
    for table in ("profiles", "profile_traits", "custom_trait_values", "segment_members",
                  "segment_snapshots", "audience_sync_state", "profile_events",
                  "identity_profiles", "identity_observations", "identity_fields",
                  "quarantine", "identity_overrides"):
        assert removed["analytics"][table] >= 1, table
    assert removed["operational"] == {
        "consents": 3, "unreachable": 1, "messages": 2, "clicks": 1, "coupons": 1,
        "push_subscriptions": 1, "audience_members": 1, "pending_events": 5}
    assert done.audience_links == ("vip-meta",)


def test_her_sales_stay_as_anonymous_orders(store, ops, people) -> None:
    her, _ = people
    sales, lines = _snapshot(store, SALES), _snapshot(store, LINES)
    events = store.scalar("SELECT count(*) FROM events")
    last = store.scalar("SELECT max(rowid) FROM events")
    hers = _snapshot(store, "SELECT order_id, total, status FROM orders WHERE "
                     "list_contains(?::VARCHAR[], 'u:' || user_id) "
                     "OR list_contains(?::VARCHAR[], 'a:' || anonymous_id)",
                     [her.records, her.records])
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    assert _snapshot(store, SALES) == sales and _snapshot(store, LINES) == lines
    # The log was updated in place: no event lost, none moved (rowids are watermarks).
    assert store.scalar("SELECT count(*) FROM events") == events
    assert store.scalar("SELECT max(rowid) FROM events") == last
    ids = sorted(o for o, _, _ in hers)
    now = store.execute("SELECT order_id, total, status, user_id, anonymous_id, phone, email "
                        "FROM orders WHERE list_contains(?, order_id) ORDER BY order_id",
                        [ids]).fetchall()
    assert [(o, t, s) for o, t, s, *_ in now] == sorted(hers)
    for *_, uid, aid, phone, email in now:
        assert all(i is None or i.startswith("erased ") for i in (uid, aid))
        assert phone is None and email is None
    # Nobody owns them: no record, so no profile and no traits.
    assert store.scalar("SELECT count(*) FROM profile_orders "
                        "WHERE list_contains(?::VARCHAR[], order_id)", [ids]) == 0


def test_other_customers_are_untouched(store, ops, people) -> None:
    her, other = people
    ids = [sorted(other.ids)] * 2
    # Hers: her profile, and the one her browser's push consent made (it names only
    # the browser, so identity keeps it apart; the erasure takes it too).
    mine = [r for (r,) in store.execute(
        "SELECT DISTINCT profile_id FROM identity_profiles WHERE list_contains(?, record)",
        [[*her.records, f"a:push:{her.endpoint}"]]).fetchall()]
    assert len(mine) == 2

    def analytics() -> dict:  # noqa: ANN202
        return {
            "profiles": _snapshot(store, "SELECT * FROM profiles WHERE NOT list_contains(?, "
                                  "profile_id)", [mine]),
            "identity": _snapshot(store, "SELECT record, profile_id, cluster_id FROM "
                                  "identity_profiles WHERE NOT list_contains(?, profile_id)",
                                  [mine]),
            "traits": _snapshot(store, "SELECT * FROM profile_traits WHERE NOT list_contains(?, "
                                "profile_id)", [mine]),
            "events": _snapshot(store, OTHERS_EVENTS, ids)}

    def operational() -> dict:  # noqa: ANN202
        rows = {t.name: ops_rows(ops, t, profile_id=other.profile_id)
                for t in (messages, coupons)}
        rows["consents"] = [r for r in ops_rows(ops, consents)
                            if r["address"] in (other.phone, other.email, other.endpoint)]
        rows["clicks"] = [r for m in rows["messages"]
                          for r in ops_rows(ops, clicks, message_id=m["id"])]
        return rows

    keep, theirs = analytics(), operational()
    assert len(keep["events"]) > 5 and len(theirs["consents"]) == 3 and theirs["clicks"]
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    assert analytics() == keep
    assert operational() == theirs


def test_a_rebuild_from_the_log_does_not_bring_her_back(store, ops, people) -> None:
    her, _ = people
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    identity = _snapshot(store, "SELECT record, profile_id, cluster_id FROM identity_profiles")
    golden = _snapshot(store, "SELECT * EXCLUDE (first_seen, last_seen) FROM profiles")
    orders = _snapshot(store, "SELECT * FROM orders")
    hers = _snapshot(store, "SELECT * FROM customers WHERE starts_with(user_id, 'erased ')")
    resolver.rebuild(store)  # re-reads every event of the log
    projections.rebuild(store)
    assert analytics_hits(store, her.needles) == []
    cur = store.cursor()
    assert profiles.lookup(cur, "phone", her.phone) == []
    assert profiles.lookup(cur, "email", her.email) == []
    assert profiles.search(cur, her.name) == []
    assert profiles.current_id(cur, her.profile_id) is None
    # Identity and the projections are exactly what the erasure left.
    assert _snapshot(store, "SELECT record, profile_id, cluster_id FROM identity_profiles") \
        == identity
    assert _snapshot(store, "SELECT * EXCLUDE (first_seen, last_seen) FROM profiles") == golden
    assert _snapshot(store, "SELECT * FROM orders") == orders
    assert hers and _snapshot(store, "SELECT * FROM customers WHERE "
                              "starts_with(user_id, 'erased ')") == hers
    assert all(name is None and traits == "{}" for _, _, _, _, name, _, _, traits in hers)


def test_waiting_events_reach_the_log_anonymous(store, ops, people) -> None:
    her, _ = people
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    waiting = ops_rows(ops, pending_events, relayed_at=None)
    assert [(w["event"], w["user_id"][:7]) for w in waiting] == [("Message Delivered",
                                                                 "erased ")]
    message_events.relay(ops, EventWriter(store))
    stats = resolver.update(store)
    assert stats.events == 1 and stats.records == 0  # it belongs to nobody
    assert analytics_hits(store, her.needles) == []


def test_erasing_again_is_harmless(store, ops, people) -> None:
    her, _ = people
    first = privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    before, ops_before = digest(store), ops_digest(ops)
    again = privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    assert again.already_erased and again.profile_id is None
    assert not any(again.removed["operational"].values()) and not again.removed["analytics"]
    assert digest(store) == before
    ops_after = ops_digest(ops)
    assert len(ops_after.pop("privacy_requests")) == len(ops_before.pop("privacy_requests")) + 1
    assert ops_after == ops_before
    assert again.request_id > first.request_id


def test_the_record_of_the_request_holds_no_personal_data(store, ops, people) -> None:
    her, _ = people
    privacy.export(store, ops, her.profile_id, actor="agent", now=NOW.replace(hour=7))
    done = privacy.erase(store, ops, her.profile_id, actor="dpo", now=NOW)
    rows = privacy.requests(ops, her.profile_id)
    assert [r["kind"] for r in rows] == ["erase", "export"]
    erase_row = rows[0]
    assert erase_row["id"] == done.request_id and erase_row["requested_by"] == "dpo"
    assert erase_row["done_at"] == NOW and erase_row["profile_id"] == her.profile_id
    assert len(erase_row["records"]) == len(her.records) + 1  # and her browser's push record
    assert all(r.split(":")[0] in ("u", "a") and len(r) == 18 for r in erase_row["records"])
    assert erase_row["summary"]["removed"]["operational"]["messages"] == 2
    with ops.connect() as con:
        text = " ".join(str(v) for r in con.execute(sa.select(privacy_requests)) for v in r)
    assert [n for n in her.needles if n.casefold() in text.casefold()] == []


def test_an_unknown_id_is_not_found_and_nothing_is_recorded(store, ops, people) -> None:
    before = digest(store)
    with pytest.raises(NotFoundError):
        privacy.erase(store, ops, "p_0000000000000000", actor="agent", now=NOW)
    assert digest(store) == before
    assert privacy.requests(ops) == []


def test_a_merged_away_id_erases_the_profile_it_lives_in(store, ops, people) -> None:
    her, _ = people
    old = store.execute("""SELECT list_filter(other_profiles, lambda x: x <> profile_id)[1]
                           FROM identity_merge_log WHERE profile_id = ? AND action = 'merged'
                           LIMIT 1""", [her.profile_id]).fetchone()[0]
    done = privacy.erase(store, ops, old, actor="agent", now=NOW)
    assert done.profile_id == her.profile_id and done.requested == old
    assert analytics_hits(store, her.needles) == []
    # Asked again by the old id: it names nobody now; it is not followed anywhere.
    assert privacy.erase(store, ops, old, actor="agent", now=NOW).already_erased


def test_the_operational_half_is_finished_when_asked_again(store, ops, people) -> None:
    """As if the operational transaction had failed after the analytical one."""
    her, _ = people

    def endpoints(records: list[str]) -> set[str]:
        with ops.connect() as con:
            return privacy_ops.endpoints_of(con, records)

    erase_analytics.erase(store, her.profile_id, Pseudonyms(), actor="agent",
                          endpoints=endpoints)
    assert analytics_hits(store, her.needles) == []
    assert ops_hits(ops, her.needles)  # still there
    done = privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    assert done.profile_id is None and not done.already_erased
    assert done.removed["operational"]["messages"] == 2
    # All the operational store ties to her profile id and records is gone; only an
    # anonymous browser's push subscription can no longer be tied to her.
    browser = {her.endpoint, her.browser_record[2:]}
    assert ops_hits(ops, her.needles - browser) == []


def test_messages_keep_their_counts_but_not_her(store, ops, people) -> None:
    her, _ = people
    before = ops_rows(ops, messages, profile_id=her.profile_id)
    privacy.erase(store, ops, her.profile_id, actor="agent", now=NOW)
    after = {r["id"]: r for r in ops_rows(ops, messages)}
    for row in before:
        now = after[row["id"]]
        assert (now["channel"], now["campaign"], now["created_at"], now["sent_at"]) == \
            (row["channel"], row["campaign"], row["created_at"], row["sent_at"])
        assert now["body"] is None and now["subject"] is None and now["context"] == "{}"
        assert now["record"] is None and now["profile_id"].startswith("erased ")
        assert now["address"].startswith("erased-") and now["fallback"] is None
        assert now["status"] == ("cancelled" if row["status"] == "queued" else row["status"])
        assert her.profile_id not in now["key"]
    click = ops_rows(ops, clicks, message_id=before[0]["id"])[0]
    assert click["ip"] is None and click["user_agent"] is None
    coupon = ops_rows(ops, coupons, message_id=before[0]["id"])[0]
    assert coupon["profile_id"] is None and coupon["record"] is None
    # The log's copy of a relayed event has the messageId the pending row now has.
    relayed = [r for r in ops_rows(ops, pending_events) if r["relayed_at"] is not None
               and r["user_id"] and r["user_id"].startswith("erased ")]
    assert relayed
    for r in relayed:
        assert store.scalar("SELECT count(*) FROM events WHERE message_id = ? AND user_id = ?",
                            [r["message_id"], r["user_id"]]) == 1
        assert "address" not in orjson.loads(r["properties"])
