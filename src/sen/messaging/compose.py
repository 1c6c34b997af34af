"""From a claimed outbox row to what its provider sends.

The dispatcher's :class:`~sen.messaging.dispatch.Renderer`: it fetches the
row's template (compiled once per version), fills it with the context captured
when the message was queued, gives every link a short code unique to this
message, issues a coupon from the template's pool only if the template prints
one, and adds what each channel needs: the ``[QC]`` label and opt-out for
advertising SMS (done by the renderer), ``List-Unsubscribe`` with one-click
POST for email (RFC 8058), the subscription keys for web push, the document
for a webhook.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.errors import ValidationError
from sen.messaging import coupons, links, render, templates
from sen.messaging.coupons.pools import get_pool
from sen.messaging.dispatch import Prepared
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.store.operational import push_subscriptions

TEMPLATE_TTL_S = 5.0


@dataclass
class _Services:
    """Links, unsubscribe link and coupon of one message (render.Services)."""

    con: sa.Connection
    row: Any
    key: bytes
    base: str
    pool: str | None
    now: datetime
    known_pool: Any = None

    @property
    def unsubscribe_url(self) -> str:
        return f"{self.base}/u/{links.unsubscribe_code(self.row.id, self.key)}"

    def shorten(self, url: str, index: int) -> str:
        return links.short_url(self.base, links.link_code(self.row.id, index, self.key))

    def coupon(self) -> Any:
        if not self.pool:
            raise ValidationError(
                f"Template '{self.row.template}' prints a coupon but names no coupon pool.",
                field="coupon_pool", rule="required")
        return coupons.issue(self.con, self.pool, message_id=self.row.id,
                             profile_id=self.row.profile_id, record=self.row.record,
                             campaign=self.row.campaign or self.row.journey, now=self.now,
                             known_pool=self.known_pool, message=self.row)


def _push_keys(con: sa.Connection, endpoint: str) -> dict[str, str]:
    t = push_subscriptions
    row = con.execute(sa.select(t.c.p256dh, t.c.auth).where(
        t.c.endpoint == endpoint, t.c.removed_at.is_(None))).first()
    if row is None:
        raise ValidationError("This browser's push subscription is gone.", field="address",
                              rule="push_subscription")
    return {"p256dh": row.p256dh, "auth": row.auth}


class Composer:
    """Renders outbox rows (see the module docstring). ``link_base`` is where
    ``/l/`` and ``/u/`` are served (the short domain for SMS when set)."""

    def __init__(self, ops: sa.Engine, *, key: bytes, link_base: str,
                 clock: Callable[[], datetime]) -> None:
        self.ops, self.key, self.link_base, self.clock = ops, key, link_base.rstrip("/"), clock
        self._compiled: dict[tuple[str, int | None], tuple[Any, Any]] = {}
        self._current: dict[str, tuple[float, Any]] = {}
        self._pools: dict[str, tuple[float, Any]] = {}
        self._settings = templates.render_settings(ops)

    def _template(self, name: str) -> tuple[Any, Any]:
        """The template and its compiled form, read again at most every few seconds
        (an edit or an archive applies to messages rendered after that)."""
        seen = self._current.get(name)
        if seen is None or time.monotonic() - seen[0] > TEMPLATE_TTL_S:
            seen = (time.monotonic(), templates.get_usable(self.ops, name))
            self._current[name] = seen
        template = seen[1]
        key = (name, template.version)
        if key not in self._compiled:
            self._compiled[key] = (template, render.compile_template(template))
        return self._compiled[key]

    def _pool(self, con: sa.Connection, name: str) -> Any:
        """The coupon pool's row, read again at most every few seconds."""
        seen = self._pools.get(name)
        if seen is None or time.monotonic() - seen[0] > TEMPLATE_TTL_S:
            seen = (time.monotonic(), get_pool(con, name))
            self._pools[name] = seen
        return seen[1]

    def refresh(self) -> None:
        """Read the render settings again (labels, opt-out text) at the next pass."""
        self._settings = templates.render_settings(self.ops)

    def render(self, con: sa.Connection, row: Any) -> Prepared:
        if not row.template:
            raise ValidationError("The message has no template.", field="template",
                                  rule="required")
        template, compiled = self._template(row.template)
        pool = getattr(template, "coupon_pool", None)
        services = _Services(con, row, self.key, self.link_base, pool, self.clock(),
                             self._pool(con, pool) if pool and compiled.uses_coupon else None)
        out = render.render(compiled, orjson.loads(row.context or "{}"), services,
                            self._settings)
        message = self._message(con, row, out, services)
        stored = {"body": out.body or None, "subject": out.subject,
                  "links": orjson.dumps(out.links).decode() if out.links else None,
                  "coupon": getattr(out.coupon, "code", None)}
        return Prepared(message, stored)

    def _message(self, con: sa.Connection, row: Any, out: Any, services: _Services
                 ) -> OutgoingMessage:
        channel = Channel(row.channel)
        headers: dict[str, str] = {}
        data: dict[str, Any] = dict(out.data or {})
        if channel == Channel.EMAIL:
            headers["List-Unsubscribe"] = f"<{services.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        elif channel == Channel.PUSH:
            data["keys"] = _push_keys(con, row.address)
        unicode = bool(out.sms and out.sms.encoding == "ucs2")
        return OutgoingMessage(id=row.id, key=f"sen{row.id}", channel=channel,
                               purpose=Purpose(row.purpose), address=row.address,
                               body=out.body or "", subject=out.subject, html=out.html,
                               headers=headers, data=data, unicode=unicode)
