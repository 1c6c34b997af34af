"""Reading everything Sen holds about one customer, section by section.

Each section is a list of rows (dicts), in the order a person reads them. The
analytical sections are read on the caller's cursor inside one read
transaction (so they agree with each other); the operational ones in one
connection. JSON columns of events come back as text and are parsed by
:mod:`sen.privacy.export`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sen.identity import profiles
from sen.privacy import ops_rows
from sen.privacy.ops_rows import Scope
from sen.privacy.subject import OF_RECORDS, Subject, belongs
from sen.store.operational import (
    audience_members,
    clicks,
    consents,
    coupons,
    messages,
    push_subscriptions,
)

Rows = list[dict[str, Any]]
EVENT_COLUMNS = ("timestamp", "type", "event", "name", "source", "message_id", "user_id",
                 "anonymous_id", "previous_id", "group_id", "original_timestamp", "sent_at",
                 "received_at", "properties", "traits", "context", "extra")


def _rows(cur: Any, sql: str, params: list[Any] | None = None) -> Rows:
    result = cur.execute(sql, params or [])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def analytics_sections(cur: Any, s: Subject) -> dict[str, Rows]:
    """Her golden record, identity evidence, traits, segments, orders and events."""
    pid, recs = s.profile_id, list(s.records)
    where, params = belongs(s)
    orders = _rows(cur, f"SELECT * FROM orders WHERE {where} ORDER BY ordered_at, order_id",
                   params)
    events = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in ("properties", "traits",
                                                               "context", "extra") else c
                       for c in EVENT_COLUMNS)
    return {
        "profile": [profiles.profile(cur, pid)],
        "records": [{"record": r} for r in recs],
        "identifiers": profiles.identifiers(cur, pid),
        "fields": profiles.field_history(cur, pid),
        "devices": _rows(cur, f"""
            SELECT record, device_id, device_type, push_token, last_seen
            FROM identity_devices WHERE {OF_RECORDS} ORDER BY record, device_id""",
                         [recs, recs]),
        "merges": profiles.merge_history(cur, pid),
        "traits": _rows(cur, "SELECT * FROM profile_traits WHERE profile_id = ?", [pid]),
        "trait_periods": _rows(cur, "SELECT period, orders, spend FROM profile_trait_periods "
                               "WHERE profile_id = ? ORDER BY period", [pid]),
        "custom_traits": _rows(cur, "SELECT trait, value_num, value_text FROM "
                               "custom_trait_values WHERE profile_id = ? ORDER BY trait", [pid]),
        "segments": _rows(cur, "SELECT segment FROM segment_members WHERE profile_id = ? "
                          "ORDER BY segment", [pid]),
        "orders": orders,
        "order_lines": _rows(cur, """
            SELECT * FROM order_items WHERE list_contains(?::VARCHAR[], order_id)
            ORDER BY order_id, line_no""", [[o["order_id"] for o in orders]]),
        "events": _rows(cur, f"SELECT {events} FROM events WHERE {where} "
                        "ORDER BY timestamp, message_id", params),
    }


def _select(con: sa.Connection, columns: list[Any], where: Any, order: Any) -> Rows:
    # Column names as plain str: SQLAlchemy's are a str subclass JSON encoders refuse as keys.
    return [{str(k): v for k, v in r._mapping.items()}
            for r in con.execute(sa.select(*columns).where(where).order_by(*order))]


def ops_sections(con: sa.Connection, scope: Scope) -> dict[str, Rows]:
    """Her consents (with proof), messages, coupons, clicks, browsers, campaigns."""
    scope.endpoints |= ops_rows.endpoints_of(con, scope.records)
    m, c, k, p, a = messages, consents, coupons, push_subscriptions, audience_members
    sent = _select(con, [m.c.id, m.c.channel, m.c.purpose, m.c.campaign, m.c.journey,
                         m.c.step, m.c.template, m.c.status, m.c.address, m.c.subject,
                         m.c.body, m.c.coupon, m.c.error, m.c.created_at, m.c.due_at,
                         m.c.sent_at, m.c.delivered_at],
                   ops_rows.her_messages(scope), [m.c.created_at, m.c.id])
    ids = [row["id"] for row in sent]
    return {
        "consents": _select(con, [c.c.channel, c.c.address, c.c.purpose, c.c.status,
                                  c.c.source, c.c.proof, c.c.updated_at],
                            ops_rows.her_consents(scope), [c.c.channel, c.c.address,
                                                           c.c.purpose]),
        "messages": sent,
        "coupons": _select(con, [k.c.code, k.c.pool, k.c.campaign, k.c.message_id,
                                 k.c.issued_at, k.c.expires_at, k.c.redeemed_at,
                                 k.c.redeemed_order, k.c.redeemed_store,
                                 k.c.redeemed_channel],
                           ops_rows.her_coupons(scope, ids), [k.c.issued_at, k.c.code]),
        "clicks": _select(con, [clicks.c.message_id, clicks.c.link, clicks.c.at, clicks.c.ip,
                                clicks.c.user_agent, clicks.c.bot],
                          clicks.c.message_id.in_(ids), [clicks.c.at, clicks.c.id]),
        "push_subscriptions": _select(con, [p.c.record, p.c.endpoint, p.c.source,
                                            p.c.user_agent, p.c.created_at, p.c.last_seen_at,
                                            p.c.removed_at, p.c.removed_reason],
                                      p.c.record.in_(sorted(scope.records)),
                                      [p.c.created_at, p.c.id]),
        "campaigns": _select(con, [a.c.owner, a.c.grp, a.c.assigned_at],
                             ops_rows.her_audiences(scope), [a.c.assigned_at, a.c.owner]),
    }
