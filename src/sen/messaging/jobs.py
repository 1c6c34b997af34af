"""Messaging's background work in ``sen serve``: dispatch, the event relay,
consent from new customer data, coupons redeemed in orders, campaigns done.

Only coupon redemption runs on the event writer's thread (it keeps its place
in the analytical store): dispatch works on the operational store alone, the
relay hands events to the writer like any request, and the consent reader
uses its own cursor.
Each loop logs and counts a failed pass and tries again at the next.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from sen.messaging import campaigns, consent_events, events
from sen.messaging.coupons.from_orders import CouponRedeemer
from sen.store.operational import campaigns as campaigns_table

log = logging.getLogger(__name__)


class Loop:
    """Run ``work`` every ``interval_s`` on a thread of its own (never when 0).

    ``work`` returns how much it did; while it keeps finding work the loop runs
    again at once (a dispatcher drains its queue), otherwise it waits.
    """

    def __init__(self, name: str, interval_s: float, work: Callable[[], int]) -> None:
        self.name, self.interval_s, self.work = name, interval_s, work
        self.failures = 0
        self.passes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Loop:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._loop, name=f"sen-{self.name}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                did = self.work()
                self.passes += 1
            except Exception:  # noqa: BLE001 - logged; the next pass retries
                self.failures += 1
                log.exception("%s failed; trying again in %ss", self.name, self.interval_s)
                did = 0
            if not did:
                self._stop.wait(self.interval_s)


def _running_campaigns(ops: sa.Engine) -> list[str]:
    with ops.connect() as con:
        return list(con.execute(sa.select(campaigns_table.c.name)
                                .where(campaigns_table.c.status == "running")).scalars())


class MessagingJobs:
    """Every messaging loop of one server."""

    def __init__(self, messaging: Any, writer: Any, settings: Any) -> None:
        m = messaging
        self.messaging = m
        self._dispatcher: Any = None
        self.loops = [
            Loop("dispatch", settings.dispatch_interval_s, self._dispatch),
            Loop("relay", settings.relay_interval_s, lambda: events.relay(m.ops, writer)),
            Loop("consent", max(settings.relay_interval_s, 2.0) if settings.relay_interval_s
                 else 0, lambda: consent_events.extract(m.engine, m.ops, now=m.now())),
            Loop("campaigns", 30.0 if settings.dispatch_interval_s else 0, self._finish),
        ]
        # It writes its watermark in the analytical store, so it runs on the writer's thread.
        self.coupons = CouponRedeemer(writer, m.engine, m.ops,
                                      max(settings.relay_interval_s, 2.0)
                                      if settings.relay_interval_s else 0)

    def _dispatch(self) -> int:
        m = self.messaging
        pool = m.pool()
        if self._dispatcher is None or self._dispatcher.pool is not pool:
            if self._dispatcher is not None:
                self._dispatcher.close()
            self._dispatcher = m.dispatcher()
        return self._dispatcher.run_once().total()

    def _finish(self) -> int:
        m = self.messaging
        for name in _running_campaigns(m.ops):
            campaigns.finish_if_done(m.ops, name, m.now())
        return 0

    def start(self) -> MessagingJobs:
        for loop in self.loops:
            loop.start()
        self.coupons.start()
        return self

    def stop(self) -> None:
        self.coupons.stop()
        for loop in self.loops:
            loop.stop()
        if self._dispatcher is not None:
            self._dispatcher.close()
