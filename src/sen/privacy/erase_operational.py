"""Erasure in the operational store, inside the caller's transaction.

* consents of her addresses and records go (a shared number must be agreed to
  again by whoever else holds it: no marketing without proof);
* the unreachable list forgets her addresses that nobody else carries;
* the outbox keeps her messages as counts (channel, campaign, status, times,
  cost) but loses the address, the captured context, the body, the subject and
  the link back to her; messages still waiting are cancelled;
* clicks on her messages lose the IP and user agent; her coupons are unlinked;
  her push subscriptions and audience memberships go;
* events about her waiting for the relay (or already relayed) get the same
  pseudonymous ids and messageIds as their copies in the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sen.messaging.model import Status
from sen.privacy import ops_rows
from sen.privacy.ops_rows import Scope
from sen.privacy.scrub import (
    Matcher,
    Pseudonyms,
    replace_values,
    rewrite_message_id,
    scrub_document,
)
from sen.store.operational import (
    audience_members,
    clicks,
    consents,
    coupons,
    messages,
    pending_events,
    push_subscriptions,
    unreachable,
)

_WAITING = (Status.QUEUED, Status.HELD)


def erase(con: sa.Connection, scope: Scope, *, exclusive: set[str], names: Pseudonyms,
          now: datetime) -> dict[str, int]:
    """Remove her data; rows per table. ``exclusive`` are her addresses nobody else
    carries (only those leave the unreachable list)."""
    scope.endpoints |= ops_rows.endpoints_of(con, scope.records)
    matcher = scope.matcher()
    counts = {"consents": _rowcount(con.execute(
        sa.delete(consents).where(ops_rows.her_consents(scope))))}
    counts["unreachable"] = _rowcount(con.execute(sa.delete(unreachable).where(
        unreachable.c.address.in_(sorted(exclusive | scope.endpoints)))))
    ids = _messages(con, scope, names, matcher, now)
    counts["messages"] = len(ids)
    counts["clicks"] = _rowcount(con.execute(
        sa.update(clicks).where(clicks.c.message_id.in_(ids),
                                sa.or_(clicks.c.ip.is_not(None),
                                       clicks.c.user_agent.is_not(None)))
        .values(ip=None, user_agent=None)))
    counts["coupons"] = _rowcount(con.execute(
        sa.update(coupons).where(ops_rows.her_coupons(scope, ids),
                                 sa.or_(coupons.c.profile_id.is_not(None),
                                        coupons.c.record.is_not(None)))
        .values(profile_id=None, record=None)))
    counts["push_subscriptions"] = _rowcount(con.execute(sa.delete(push_subscriptions).where(
        sa.or_(push_subscriptions.c.record.in_(sorted(scope.records)),
               push_subscriptions.c.endpoint.in_(sorted(scope.endpoints))))))
    counts["audience_members"] = _rowcount(con.execute(
        sa.delete(audience_members).where(ops_rows.her_audiences(scope))))
    counts["pending_events"] = _pending(con, scope, names, matcher)
    return counts


def _messages(con: sa.Connection, scope: Scope, names: Pseudonyms, matcher: Matcher,
              now: datetime) -> list[int]:
    """Her outbox rows, kept for the counts without anything that leads back to her."""
    t = messages
    rows = con.execute(sa.select(t.c.id, t.c.key, t.c.profile_id, t.c.address, t.c.status,
                                 t.c.error, t.c.links)
                       .where(ops_rows.her_messages(scope)).order_by(t.c.id)).all()
    named = scope.profile_ids | scope.records | scope.addresses | scope.endpoints
    for row in rows:
        values: dict[str, Any] = {
            "key": replace_values(row.key, named, names),
            "profile_id": names.id("p", row.profile_id), "record": None,
            "address": names.text(row.address) if row.address else "",
            "context": "{}", "body": None, "subject": None, "fallback": None,
            "provider_id": None, "error": matcher.sub(row.error),
            "links": matcher.sub(row.links), "updated_at": now}
        if row.status in _WAITING:
            values["status"] = Status.CANCELLED
        con.execute(sa.update(t).where(t.c.id == row.id).values(**values))
    return [row.id for row in rows]


def _pending(con: sa.Connection, scope: Scope, names: Pseudonyms, matcher: Matcher) -> int:
    t = pending_events
    rows = con.execute(sa.select(t.c.id, t.c.message_id, t.c.user_id, t.c.anonymous_id,
                                 t.c.properties)
                       .where(ops_rows.her_pending(scope)).order_by(t.c.id)).all()
    for row in rows:
        con.execute(sa.update(t).where(t.c.id == row.id).values(
            message_id=rewrite_message_id(row.message_id, matcher, names),
            user_id=names.id("u", row.user_id), anonymous_id=names.id("a", row.anonymous_id),
            properties=scrub_document(row.properties, matcher) or "{}", context=None))
    return len(rows)


def _rowcount(result: Any) -> int:
    return max(result.rowcount or 0, 0)
