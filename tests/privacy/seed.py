"""Choosing two customers of the demo retailer and giving them a messaging history.

Consents go through :func:`sen.messaging.consent.apply` and message events through
the pending-events relay into the log, as in production; outbox rows, clicks,
coupons, push subscriptions and audiences are inserted into their tables, as the
dispatcher and the campaign launcher would have left them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from sen.identity import decisions, resolver
from sen.ingest.writer import EventWriter
from sen.messaging import consent, events
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.store.analytics import DuckDBEngine
from sen.store.operational import (
    audience_members,
    clicks,
    coupon_pools,
    coupons,
    messages,
    push_subscriptions,
    unreachable,
)

T0 = datetime(2026, 11, 20, 3, 0)  # naive UTC, as both stores keep time
GRANTED, ADS = ConsentStatus.GRANTED, Purpose.ADVERTISING


@dataclass
class Customer:
    """One customer and every form her data takes in the stores."""

    tag: str
    profile_id: str
    record: str  # the representative record
    records: list[str]
    phone: str  # E.164
    email: str
    name: str
    phones: set[str] = field(default_factory=set)  # as typed, E.164, 0…, 84…
    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # as typed, shown, folded
    ids: set[str] = field(default_factory=set)  # her user ids and anonymous ids

    @property
    def endpoint(self) -> str:
        return f"https://fcm.googleapis.com/fcm/send/{self.tag}-browser-7f3a9c"

    @property
    def browser_record(self) -> str:
        return next((r for r in self.records if r.startswith("a:")), self.record)

    @property
    def needles(self) -> set[str]:
        """Strings that must appear nowhere once she is erased."""
        return self.phones | self.emails | self.names | self.ids | {self.endpoint}

    def refresh(self, engine: DuckDBEngine) -> Customer:
        return describe(engine, self.profile_id, self.tag)


def _values(cur: Any, records: list[str]) -> tuple[list[tuple], list[str], list[tuple]]:
    obs = cur.execute("SELECT DISTINCT id_type, trim(raw), value FROM identity_observations "
                      "WHERE list_contains(?, record)", [records]).fetchall()
    raw_names = [r for (r,) in cur.execute(
        "SELECT DISTINCT value FROM identity_fields WHERE field = 'name' "
        "AND list_contains(?, record)", [records]).fetchall()]
    shown = cur.execute("SELECT DISTINCT name, folded FROM identity_names "
                        "WHERE list_contains(?, raw)", [raw_names]).fetchall()
    return obs, raw_names, shown


def describe(engine: DuckDBEngine, profile_id: str, tag: str) -> Customer:
    cur = engine.cursor()
    rep, phone, email, name = cur.execute(
        "SELECT record, phone, email, name FROM profiles WHERE profile_id = ?",
        [profile_id]).fetchone()
    records = [r for (r,) in cur.execute(
        "SELECT record FROM identity_profiles WHERE profile_id = ? ORDER BY record",
        [profile_id]).fetchall()]
    obs, raw_names, shown = _values(cur, records)
    phones = {v for t, r, v in obs if t == "phone" and v} | {r for t, r, v in obs
                                                            if t == "phone"}
    phones |= {f(p) for p in list(phones) if p.startswith("+84")
               for f in (lambda p: "0" + p[3:], lambda p: p[1:])}
    return Customer(
        tag=tag, profile_id=profile_id, record=rep, records=records, phone=phone,
        email=email, name=name, phones=phones,
        emails={v for t, r, v in obs if t == "email" and v} | {r for t, r, v in obs
                                                              if t == "email"},
        names=set(raw_names) | {n for pair in shown for n in pair if n},
        ids={r[2:] for r in records if not r.startswith(("a:sms:", "a:email:", "a:push:"))})


def _unique(cur: Any, c: Customer) -> bool:
    """Nobody else carries her phone, email or any form of her name."""
    others = cur.execute("""
        SELECT count(*) FROM identity_observations
        WHERE NOT list_contains(?, record) AND (list_contains(?, value) OR list_contains(?, raw))
    """, [c.records, sorted(c.phones | c.emails), sorted(c.phones | c.emails)]).fetchone()[0]
    folded = sorted(n.lower() for n in c.names)
    namesakes = cur.execute("""
        SELECT count(*) FROM identity_fields f JOIN identity_names n ON n.raw = f.value
        WHERE f.field = 'name' AND NOT list_contains(?, f.record)
          AND (list_contains(?, n.folded) OR list_contains(?, lower(n.name)))
    """, [c.records, folded, folded]).fetchone()[0]
    return others == 0 and namesakes == 0


def choose(engine: DuckDBEngine) -> tuple[Customer, Customer]:
    """Her: a web shopper with orders whose profile gathered several records (so it has
    merged-away ids), alone in her cluster, nobody sharing her values. And another."""
    cur = engine.cursor()
    ids = [r for (r,) in cur.execute("""
        SELECT p.profile_id FROM profiles p
        WHERE p.phone IS NOT NULL AND p.email IS NOT NULL AND p.name IS NOT NULL
          AND p.records >= 3
          AND EXISTS (SELECT 1 FROM profile_orders o WHERE o.profile_id = p.profile_id)
          AND EXISTS (SELECT 1 FROM identity_profiles i WHERE i.profile_id = p.profile_id
                      AND i.record LIKE 'u:U%')
          AND EXISTS (SELECT 1 FROM identity_merge_log m WHERE m.profile_id = p.profile_id
                      AND m.action = 'merged')
          AND NOT EXISTS (SELECT 1 FROM identity_profiles a JOIN identity_profiles b
                          USING (cluster_id) WHERE a.profile_id = p.profile_id
                          AND b.profile_id <> p.profile_id)
        ORDER BY p.profile_id""").fetchall()]
    chosen = []
    for pid in ids:
        c = describe(engine, pid, "her" if not chosen else "other")
        if _unique(cur, c):
            chosen.append(c)
        if len(chosen) == 2:
            return chosen[0], chosen[1]
    raise AssertionError("the demo retailer has no two customers to test with")


def _analytics_extras(engine: DuckDBEngine, people: tuple[Customer, ...]) -> None:
    """What traits, segments and audience syncs would hold, and a rejected import row."""
    for c in people:
        engine.execute("INSERT INTO custom_trait_values VALUES (?, 'favourite_colour', NULL, "
                       "'Xám')", [c.profile_id])
        engine.execute("INSERT INTO segment_members VALUES ('vip', ?)", [c.profile_id])
        engine.execute("INSERT INTO segment_snapshots VALUES ('vip', ?, ?)", [T0, c.profile_id])
        engine.execute("INSERT INTO audience_sync_state VALUES ('vip-meta', 'meta:6123', ?, ?, "
                       "?, ?, ?)", [c.profile_id, c.email, c.phone, c.email, c.phone])
        payload = orjson.dumps({"type": "identify", "userId": "", "traits": {
            "name": c.name, "phone": c.phone, "email": c.email}}).decode()
        engine.execute("INSERT INTO quarantine VALUES (?, 'web', 'imp-x', 7, 'userId', "
                       "'identity_required', ?)", [T0, payload])
    decisions.decide(engine, people[0].record, people[1].record, approve=False, actor="agent")


def _consents(her: Customer, other: Customer) -> list[ConsentChange]:
    proof = {"text": "Tôi đồng ý nhận tin khuyến mãi", "ip": "113.161.5.9",
             "user_agent": "Mozilla/5.0 (iPhone)"}
    changes = []
    for c in (her, other):
        changes += [
            ConsentChange(Channel.SMS, c.phone, ADS, GRANTED, "web_form", T0,
                          {**proof, "entered_for": c.name}, profile_id=c.profile_id,
                          record=c.record),
            # Known only by the address: the event names it, identity links it to her.
            ConsentChange(Channel.EMAIL, c.email, ADS, GRANTED, "import", T0,
                          {"column": "consent_email"}),
            ConsentChange(Channel.PUSH, c.endpoint, ADS, GRANTED, "push_permission", T0,
                          {"user_agent": "Mozilla/5.0 (Windows NT 10.0)"}),
        ]
    return changes


def _outbox(con: sa.Connection, c: Customer) -> int:
    """A delivered SMS with a click and a coupon, and an email still waiting."""
    later = T0 + timedelta(hours=2)
    row = {"campaign": "tet", "template": "tet-sms", "channel": "sms",
           "purpose": "advertising", "provider": "esms", "profile_id": c.profile_id,
           "record": c.record, "context": orjson.dumps({"name": c.name, "phone": c.phone}).decode(),
           "due_at": later, "created_at": T0, "updated_at": later}
    sent = con.execute(sa.insert(messages).values(
        key=f"campaign:tet:{c.profile_id}", address=c.phone, status="delivered",
        body=f"[QC] Chào {c.name}, Vela tặng bạn mã TET-{c.tag.upper()}. Từ chối: TC gửi 8079",
        provider_id=f"esms-{c.tag}", coupon=f"TET-{c.tag.upper()}", sent_at=later,
        delivered_at=later, links=orjson.dumps([f"https://velamoc.vn/tet?m={c.email}"]).decode(),
        **row)).inserted_primary_key[0]
    con.execute(sa.insert(messages).values(
        key=f"campaign:tet-email:{c.profile_id}", address=c.email, status="queued",
        body=f"Chào {c.name}", subject=f"{c.name} ơi, Tết đến rồi",
        fallback=orjson.dumps([{"channel": "sms", "address": c.phone}]).decode(),
        **{**row, "channel": "email", "template": "tet-email"}))
    con.execute(sa.insert(clicks).values(message_id=sent, link=0, at=later, ip="14.161.20.3",
                                         user_agent="Mozilla/5.0 (Android 14)", bot=False))
    con.execute(sa.insert(coupons).values(
        code=f"TET-{c.tag.upper()}", pool="tet", campaign="tet", message_id=sent,
        profile_id=c.profile_id, record=c.record, issued_at=T0))
    con.execute(sa.insert(audience_members).values(
        owner="campaign:tet", profile_id=c.profile_id, record=c.record, grp="treatment",
        assigned_at=T0))
    con.execute(sa.insert(push_subscriptions).values(
        endpoint_hash=hashlib.sha256(c.endpoint.encode()).hexdigest(), endpoint=c.endpoint,
        p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        auth="tBHItJI5svbpez7KI4CCXg", record=c.browser_record, source="web",
        user_agent="Mozilla/5.0 (Windows NT 10.0)", created_at=T0, last_seen_at=T0))
    con.execute(sa.insert(unreachable).values(
        channel="email", address=c.email, reason="hard_bounce",
        detail=f"550 5.1.1 <{c.email}>: mailbox unavailable", updated_at=later))
    events.add(con, [events.LogEvent(
        f"sent:{sent}", "Message Sent", c.record, later,
        {"message_id": sent, "channel": "sms", "campaign_id": "tet", "purpose": "advertising",
         "address": c.phone})])
    return sent


def seed(engine: DuckDBEngine, ops: sa.Engine, her: Customer, other: Customer) -> None:
    _analytics_extras(engine, (her, other))
    consent.apply(ops, _consents(her, other), now=T0)
    sent = {}
    with ops.begin() as con:
        con.execute(sa.insert(coupon_pools).values(name="tet", title="Tết", kind="generated",
                                                   created_at=T0))
        for c in (her, other):
            sent[c.tag] = _outbox(con, c)
    events.relay(ops, EventWriter(engine))  # not started: each write commits at once
    resolver.update(engine)
    with ops.begin() as con:  # one more, still waiting for the relay
        events.add(con, [events.LogEvent(
            f"delivered:{sent['her']}", "Message Delivered", her.record, T0 + timedelta(hours=3),
            {"message_id": sent["her"], "channel": "sms", "campaign_id": "tet"})])
