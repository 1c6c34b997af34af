"""The kill test: a campaign to N recipients, its dispatcher killed with SIGKILL mid-run
and restarted, and then who got what, counted at the provider's server.

Used by ``benchmarks/messaging.py`` (``lost`` and ``duplicates``) and by
``tests/messaging/test_kill.py``. Three processes, so none shares an
interpreter lock with another: the local eSMS server (``python -m
sen.demo.sandbox esms``, which counts what arrived), ``sen messaging
dispatch``, and this one, which builds the data folder (an audience in the
analytical store, consent, the eSMS provider, a template with a tracked link
and a coupon, the campaign), launches the campaign, kills the dispatcher when
the server has received a given share, restarts it, and at the end moves the
events into the log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from sen.config import get_settings
from sen.demo import audience
from sen.ingest.writer import EventWriter
from sen.messaging import campaigns, consent, coupons, events, provider_store, templates
from sen.messaging.campaigns import CampaignDefinition, ChannelStep
from sen.messaging.consent import ConsentChange
from sen.messaging.model import Channel, ConsentStatus, Purpose, Status
from sen.messaging.runtime import Messaging
from sen.messaging.templates import Template
from sen.store import operational
from sen.store.analytics import DuckDBEngine

SEGMENT = "kill-test"
CAMPAIGN = "kill-test"
BODY = ("Chao {{ first_name | default('ban') }}, giam 30% tai https://vela.vn/sale "
        "ma {{ coupon }}")


@dataclass
class KillResult:
    recipients: int
    received: int
    lost: int
    duplicates: int
    outbox_sent: int
    events_sent: int
    kills: int
    seconds: float


class RemoteSandbox:
    """A sandbox running in its own process, read through its control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url

    def count(self) -> int:
        return int(httpx.get(f"{self.url}/_sandbox/count", timeout=30).json()["accepted"])

    def phones(self) -> list[str]:
        body = httpx.get(f"{self.url}/_sandbox/messages", timeout=120).json()
        return [m["phone"] for m in body["messages"]]


@contextlib.contextmanager
def esms_server() -> Iterator[RemoteSandbox]:
    """The local eSMS server in a process of its own, for as long as the block runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sen.demo.sandbox", "esms", "--port",
                             str(port), "--single-advertising"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_sandbox/count", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local eSMS server did not start") from None
                time.sleep(0.1)
        yield RemoteSandbox(url)
    finally:
        proc.terminate()
        proc.wait(30)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def prepare(data_dir: Path, n: int, esms_url: str) -> None:
    """Audience, consent, provider, template and a launched campaign in ``data_dir``."""
    settings = get_settings(data_dir=data_dir, public_url="http://127.0.0.1:9",
                            link_base_url="https://s.sen.test")
    engine = DuckDBEngine(settings.analytics_path)
    engine.migrate()
    ops = operational.connect(settings.operational_url)
    try:
        audience.build(engine, n, segment=SEGMENT, emails=False)
        now = _now()
        consent.apply(ops, [ConsentChange(Channel.SMS, audience.phone(i), Purpose.ADVERTISING,
                                          ConsentStatus.GRANTED, "import", now)
                            for i in range(n)], now=now)
        m = Messaging(settings, engine, ops)
        provider_store.save(ops, m.box, name="esms", kind="esms", config={
            "brandname": "SENSHOES", "base_url": f"{esms_url}/MainService.svc/json",
            "advertising_mode": "single", "price_advertising": 800}, secrets={
            "api_key": "esms-api-key", "secret_key": "esms-secret"}, now=now)
        coupons.create_pool(ops, "kill", "Kill test", prefix="KT", offer="-30%")
        templates.save(ops, Template(name="kill-sms", title="Kill test",
                                     channel=Channel.SMS, purpose=Purpose.ADVERTISING,
                                     body=BODY, coupon_pool="kill"))
        campaigns.save(ops, CampaignDefinition(
            name=CAMPAIGN, title="Kill test", segment=SEGMENT, goal=None,
            channels=[ChannelStep(channel=Channel.SMS, template="kill-sms")]), now=now)
        m.launch(CAMPAIGN)
    finally:
        engine.close()
        ops.dispose()


def _dispatcher(data_dir: Path, lease_s: float) -> subprocess.Popen:
    env = {**os.environ, "SEN_DATA_DIR": str(data_dir), "SEN_PUBLIC_URL": "http://127.0.0.1:9"}
    return subprocess.Popen(
        [sys.executable, "-m", "sen.cli", "messaging", "dispatch", "--batch", "200",
         "--threads", "8", "--lease", str(lease_s), "--interval", "0.2", "--quiet"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _status_counts(ops: sa.Engine) -> Counter:
    t = operational.messages
    with ops.connect() as con:
        return Counter(dict(con.execute(sa.select(t.c.status, sa.func.count())
                                        .where(t.c.campaign == CAMPAIGN)
                                        .group_by(t.c.status)).all()))


def run(data_dir: Path, sandbox: RemoteSandbox, n: int, *,
        kill_at: tuple[float, ...] = (0.3, 0.6), lease_s: float = 3.0,
        workers: int = 2, timeout_s: float = 900.0) -> KillResult:
    """Dispatch the launched campaign with ``workers`` dispatcher processes at once
    (they share the outbox as production dispatchers do), killing all of them with
    SIGKILL at each share of ``kill_at`` received and starting them again, then
    count what the server got."""
    settings = get_settings(data_dir=data_dir)
    ops = operational.connect(settings.operational_url, migrate=False)
    started, kills = time.monotonic(), 0
    procs = [_dispatcher(data_dir, lease_s) for _ in range(workers)]
    try:
        for share in kill_at:
            while sandbox.count() < share * n:
                _alive_or_fail(procs)
                _deadline(started, timeout_s)
                time.sleep(0.05)
            for proc in procs:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            kills += 1
            procs = [_dispatcher(data_dir, lease_s) for _ in range(workers)]
        while True:
            counts = _status_counts(ops)
            if counts[Status.QUEUED] + counts[Status.SENDING] == 0:
                break
            _alive_or_fail(procs)
            _deadline(started, timeout_s)
            time.sleep(0.2)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
    seconds = time.monotonic() - started
    events_sent = _relay(settings, ops)
    per_phone = Counter(sandbox.phones())
    counts = _status_counts(ops)
    ops.dispose()
    expected = {"0" + audience.phone(i).removeprefix("+84") for i in range(n)}
    return KillResult(recipients=n, received=sum(per_phone.values()),
                      lost=len(expected - set(per_phone)),
                      duplicates=sum(c - 1 for c in per_phone.values() if c > 1),
                      outbox_sent=counts[Status.SENT] + counts[Status.DELIVERED],
                      events_sent=events_sent, kills=kills, seconds=seconds)


def _alive_or_fail(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"a dispatcher exited with {proc.returncode}: {err[-2000:]}")


def _deadline(started: float, timeout_s: float) -> None:
    if time.monotonic() - started > timeout_s:
        raise TimeoutError("the campaign was not sent in time")


def _relay(settings: Any, ops: sa.Engine) -> int:
    """Move every waiting event into the log; the number of distinct messages sent there."""
    engine = DuckDBEngine(settings.analytics_path)
    writer = EventWriter(engine)
    try:
        while events.relay(ops, writer):
            pass
        return int(engine.scalar(
            "SELECT count(DISTINCT json_extract_string(properties, '$.message_id')) FROM events "
            "WHERE event = 'Message Sent' AND json_extract_string(properties, '$.campaign_id') "
            "= ?", [CAMPAIGN]))
    finally:
        engine.close()
