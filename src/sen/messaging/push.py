"""Web Push on the operational store: Sen's VAPID keys and the browsers' subscriptions.

The VAPID key pair is made once, on first use, and kept in ``app_settings``
(the private key sealed with :class:`~sen.store.secrets.SecretBox`): every
subscription is bound to the public key it was made with, so new keys would
silently orphan every browser. Two processes starting together race to insert
it; the row that went in first is the pair both use.

A subscription is a browser's endpoint and keys, tied to the identity record
(``u:<userId>`` or ``a:<anonymousId>``) of the visitor who allowed it and to the
source whose page asked. The endpoint is the subscription's identity (stored
with its SHA-256, which the unique index holds): subscribing again updates
keys and record, and revives a removed one. Removal (the visitor turned
notifications off, the push service answered 410) keeps the row with its
reason; only live rows are sent to.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from sen.errors import ConfigError, ValidationError
from sen.messaging.events import utc_now
from sen.messaging.vapid import VapidKeys, b64url_decode
from sen.store.operational import app_settings, insert_ignore, push_subscriptions
from sen.store.secrets import SecretBox

VAPID_SETTING = "push.vapid"
_RECORD = re.compile(r"^[ua]:.{1,198}$", re.S)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CHUNK = 500


def vapid_public_key(ops: sa.Engine) -> str | None:
    """The public key shops subscribe browsers with, if the pair exists yet."""
    with ops.connect() as con:
        value = con.scalar(sa.select(app_settings.c.value)
                           .where(app_settings.c.key == VAPID_SETTING))
    return json.loads(value)["public_key"] if value else None


def vapid_keys(ops: sa.Engine, box: SecretBox) -> VapidKeys:
    """Sen's VAPID key pair, made and stored the first time it is asked for."""
    if vapid_public_key(ops) is None:
        fresh = VapidKeys.generate()
        value = json.dumps({"public_key": fresh.public_key,
                            "private_key": box.seal(fresh.private_key)})
        with ops.begin() as con:
            insert_ignore(con, app_settings, [{"key": VAPID_SETTING, "value": value,
                                               "updated_by": "sen", "updated_at": utc_now()}])
    with ops.connect() as con:
        stored = json.loads(con.scalar(sa.select(app_settings.c.value)
                                       .where(app_settings.c.key == VAPID_SETTING)))
    keys = VapidKeys.from_private(box.open(stored["private_key"]))
    if keys.public_key != stored["public_key"]:
        raise ConfigError("The stored VAPID keys do not belong together.",
                          hint=f"Delete the '{VAPID_SETTING}' app setting to make new ones; "
                          "browsers will have to subscribe again.")
    return keys


@dataclass(frozen=True)
class PushSubscription:
    id: int
    endpoint: str
    p256dh: str
    auth: str
    record: str | None
    source: str | None
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None = None
    removed_reason: str | None = None

    def message_data(self, notification: dict[str, Any]) -> dict[str, Any]:
        """``OutgoingMessage.data`` for a push of ``notification`` to this browser."""
        return {"keys": {"p256dh": self.p256dh, "auth": self.auth},
                "notification": notification}


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def _key_bytes(value: str, field: str) -> bytes:
    try:
        return b64url_decode(value.strip().replace("+", "-").replace("/", "_").rstrip("="))
    except ValueError as exc:
        raise ValidationError(f"keys.{field} is not base64url.", field=f"keys.{field}",
                              rule="base64url") from exc


def validate(endpoint: str, p256dh: str, auth: str, record: str) -> None:
    """Refuse what a browser's ``PushSubscription`` cannot be (RFC 8030, RFC 8291 §3)."""
    parts = urlsplit(endpoint)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not secure or not parts.hostname or len(endpoint) > 2048:
        raise ValidationError("The subscription endpoint must be an https:// URL.",
                              field="endpoint", rule="push_endpoint")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _key_bytes(p256dh, "p256dh"))
    except ValueError as exc:
        raise ValidationError("keys.p256dh is not a P-256 public key.", field="keys.p256dh",
                              rule="p256dh") from exc
    if len(_key_bytes(auth, "auth")) != 16:
        raise ValidationError("keys.auth must be 16 bytes.", field="keys.auth", rule="auth")
    if not _RECORD.match(record):
        raise ValidationError("A subscription belongs to u:<userId> or a:<anonymousId>.",
                              field="record", rule="record")


def _row(r: sa.Row) -> PushSubscription:
    return PushSubscription(r.id, r.endpoint, r.p256dh, r.auth, r.record, r.source,
                            r.user_agent, r.created_at, r.last_seen_at, r.removed_at,
                            r.removed_reason)


def get(ops: sa.Engine, endpoint: str) -> PushSubscription | None:
    with ops.connect() as con:
        r = con.execute(sa.select(push_subscriptions).where(
            push_subscriptions.c.endpoint_hash == endpoint_hash(endpoint))).first()
    return _row(r) if r else None


def subscribe(ops: sa.Engine, endpoint: str, p256dh: str, auth: str, *, record: str,
              source: str | None, user_agent: str | None = None,
              now: datetime | None = None) -> PushSubscription:
    """Keep a browser's subscription (insert, or update the one with this endpoint)."""
    validate(endpoint, p256dh, auth, record)
    now = now or utc_now()
    values = {"endpoint": endpoint, "p256dh": p256dh, "auth": auth, "record": record,
              "source": source, "user_agent": user_agent, "last_seen_at": now,
              "removed_at": None, "removed_reason": None}
    key = endpoint_hash(endpoint)
    with ops.begin() as con:
        if not insert_ignore(con, push_subscriptions,
                             [{**values, "endpoint_hash": key, "created_at": now}]):
            con.execute(push_subscriptions.update()
                        .where(push_subscriptions.c.endpoint_hash == key).values(**values))
    found = get(ops, endpoint)
    assert found is not None
    return found


def remove(ops: sa.Engine, endpoint: str, reason: str, *, now: datetime | None = None) -> bool:
    """Stop sending to ``endpoint`` (``reason``: unsubscribed, gone…); whether it was live."""
    with ops.begin() as con:
        result = con.execute(push_subscriptions.update().where(
            push_subscriptions.c.endpoint_hash == endpoint_hash(endpoint),
            push_subscriptions.c.removed_at.is_(None),
        ).values(removed_at=now or utc_now(), removed_reason=reason[:60]))
    return result.rowcount > 0


def unsubscribe(ops: sa.Engine, endpoint: str, *, now: datetime | None = None) -> bool:
    """The visitor turned notifications off (the page told Sen)."""
    return remove(ops, endpoint, "unsubscribed", now=now)


def live_subscriptions(ops: sa.Engine, records: Iterable[str]) -> list[PushSubscription]:
    """The live subscriptions of these identity records, by record then age."""
    wanted = sorted(set(records))
    found: list[PushSubscription] = []
    with ops.connect() as con:
        for i in range(0, len(wanted), _CHUNK):
            rows = con.execute(sa.select(push_subscriptions).where(
                push_subscriptions.c.record.in_(wanted[i:i + _CHUNK]),
                push_subscriptions.c.removed_at.is_(None)))
            found.extend(_row(r) for r in rows)
    return sorted(found, key=lambda s: (s.record or "", s.id))
