"""Erasing one of two people who share a phone: the other keeps it, whole, as a rebuild
would give her; a consent of the shared number must be given again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from sen import privacy
from sen.identity import profiles, resolver
from sen.ingest.writer import EventWriter
from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.store.analytics import DuckDBEngine
from sen.store.operational import unreachable
from tests.web import customers

from .support import analytics_hits, ops_hits, ops_rows

NOW = datetime(2026, 12, 1, 8, 0)
FAMILY = "+84987111222"


def _identity(engine: DuckDBEngine) -> tuple[list, list]:
    cur = engine.cursor()
    return (sorted(cur.execute("SELECT record, profile_id, cluster_id FROM identity_profiles")
                   .fetchall()),
            sorted(cur.execute("SELECT * EXCLUDE (first_seen, last_seen) FROM profiles")
                   .fetchall(), key=repr))


def test_the_other_holder_of_a_shared_phone_is_left_whole(tmp_path: Path, ops: sa.Engine
                                                         ) -> None:
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    writer = EventWriter(engine)
    for events, source in customers.everyone():
        writer.write_sync(customers.rows(events, source))
    resolver.rebuild(engine)
    cur = engine.cursor()
    hung, mai = (profiles.lookup(cur, "user_id", u)[0] for u in ("KH7", "KH8"))
    clusters = cur.execute("SELECT DISTINCT cluster_id FROM identity_profiles WHERE "
                           "record IN ('u:KH7', 'u:KH8')").fetchall()
    assert hung["phone"] == mai["phone"] == FAMILY and len(clusters) == 1  # one cluster
    consent.apply(ops, [ConsentChange(Channel.SMS, FAMILY, Purpose.ADVERTISING,
                                      ConsentStatus.GRANTED, "import", NOW,
                                      record="u:KH7")], now=NOW)
    with ops.begin() as con:
        con.execute(sa.insert(unreachable).values(channel="sms", address=FAMILY,
                                                  reason="invalid_number", updated_at=NOW))

    done = privacy.erase(engine, ops, hung["profile_id"], actor="agent", now=NOW)
    assert done.removed["operational"] == {
        "consents": 1, "unreachable": 0, "messages": 0, "clicks": 0, "coupons": 0,
        "push_subscriptions": 0, "audience_members": 0, "pending_events": 1}
    assert analytics_hits(engine, {"Phạm Văn Hùng", "KH7"}) == []
    assert ops_hits(ops, {"KH7"}) == []
    (left,) = profiles.lookup(cur, "phone", FAMILY)
    assert (left["profile_id"], left["name"], left["phone"]) == (mai["profile_id"],
                                                                 "Đỗ Thị Mai", FAMILY)
    assert [r["address"] for r in ops_rows(ops, unreachable)] == [FAMILY]  # still hers
    after = _identity(engine)
    resolver.rebuild(engine)
    assert _identity(engine) == after
    engine.close()


def test_a_customers_row_others_share_keeps_only_their_traits(tmp_path: Path,
                                                              ops: sa.Engine) -> None:
    """An SDK sent userId "null" for her and for someone else: the projection's "null"
    row is written again without what she gave it."""
    engine = DuckDBEngine(tmp_path / "sen.duckdb")
    writer = EventWriter(engine)
    ev = customers.ev
    writer.write_sync(customers.rows([
        ev("x1", "identify", ts=customers.at(9), userId="null", anonymousId="anon-thu",
           traits={"name": "Võ Thị Thu", "email": "thu.vo@gmail.com"}),
        ev("x2", "identify", ts=customers.at(8), userId="null", anonymousId="anon-tam",
           traits={"name": "Lý Văn Tâm", "city": "Huế"}),
    ], "web"))
    resolver.rebuild(engine)
    (thu,) = profiles.lookup(engine.cursor(), "email", "thu.vo@gmail.com")
    privacy.erase(engine, ops, thu["profile_id"], actor="agent", now=NOW)
    assert analytics_hits(engine, {"thu.vo@gmail.com", "Võ Thị Thu", "anon-thu"}) == []
    row = engine.execute("SELECT name, email, traits FROM customers WHERE user_id = 'null'"
                         ).fetchone()
    assert row == ("Lý Văn Tâm", None, '{"city":"Huế","name":"Lý Văn Tâm"}')
    engine.close()
