"""Messaging: renders, gate decisions, a broadcast into the outbox, SMS dispatch, a kill.

* ``renders_per_s``: a typical advertising SMS (her name, a tracked link, a coupon;
  Sen adds [QC] and the opt-out), rendered for 1,000 different customers, each
  render with its own services (an HMAC-signed link code, a fresh coupon code), as
  the dispatcher renders them;
* ``gate_decisions_per_s``: the pure gate over requests with consent, caps (some
  recipients already messaged), quiet hours (some planned at night) and duplicates;
* ``broadcast_msgs_per_s``: ``recipients`` candidates through the gate into the
  outbox on the embedded operational store (SQLite), each under its cap reservation,
  with the consent and history reads that takes;
* ``sms_dispatch_per_s``: queued SMS rendered (link, coupon) and handed to a local
  eSMS server by ``sen messaging dispatch``;
* ``lost`` and ``duplicates``: a campaign whose dispatcher is killed twice with
  SIGKILL and restarted (``benchmarks/_kill.py``), counted at the eSMS server.

Run: ``python benchmarks/messaging.py --scale small|full``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

import _kill  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from sen.messaging import links  # noqa: E402
from sen.messaging.coupons import codes  # noqa: E402
from sen.messaging.model import Channel, ConsentStatus, Purpose  # noqa: E402
from sen.messaging.outbox import Candidate, Route, Sender, enqueue  # noqa: E402
from sen.messaging.policy import Facts, MessagingPolicy, Planned, Request, decide  # noqa: E402
from sen.messaging.render import compile_template, render  # noqa: E402
from sen.messaging.templates import Template  # noqa: E402
from sen.store import operational  # noqa: E402
from sen.store.operational import consents  # noqa: E402

SCALES = {
    "small": {"renders": 20_000, "gate": 100_000, "broadcast": 20_000, "dispatch": 1_000,
              "kill": 2_000},
    "full": {"renders": 200_000, "gate": 1_000_000, "broadcast": 1_000_000,
             "dispatch": 10_000, "kill": 50_000},
}
TARGETS = {"renders_per_s": 50_000, "gate_decisions_per_s": 100_000,
           "broadcast_msgs_per_s": 20_000, "lost": 0, "duplicates": 0}
VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 12, 1, 5, 0)
KEY = b"k" * 32
SMS = ("Chào {{ xung_ho }} {{ first_name | default('bạn') }}, Vela giảm 30% cho bạn: "
       "https://vela.vn/sale-11 mã {{ coupon }}")


class _Coupon:
    __slots__ = ("code", "expires_at", "offer")

    def __init__(self, code: str) -> None:
        self.code, self.offer, self.expires_at = code, "Giảm 30%", None


class _Services:
    """What the dispatcher gives each render: a signed short link per link and the
    message's coupon (issued beforehand: issuing is a database write, measured with
    dispatch)."""

    __slots__ = ("code", "mid")

    def __init__(self, mid: int, code: str) -> None:
        self.mid, self.code = mid, code

    @property
    def unsubscribe_url(self) -> str:
        return "https://s.vela.vn/u/" + links.unsubscribe_code(self.mid, KEY)

    def shorten(self, url: str, index: int) -> str:
        return "https://s.vela.vn/l/" + links.link_code(self.mid, index, KEY)

    def coupon(self) -> _Coupon:
        return _Coupon(self.code)


def bench_renders(n: int) -> float:
    compiled = compile_template(Template(name="bench", title="Bench", channel=Channel.SMS,
                                         purpose=Purpose.ADVERTISING, body=SMS,
                                         coupon_pool="bf"))
    people = [{"first_name": name, "xung_ho": "chị" if i % 2 else "anh"}
              for i, name in enumerate(["Lan", "Minh", "Hà", "", "Bảo", "Điệp"] * 167)]
    rng = random.Random(1)
    issued = [codes.new_code(rng, 8, "BF") for _ in range(1000)]
    render(compiled, people[0], _Services(1, issued[0]))  # warm the caches
    started = time.process_time()
    for i in range(n):
        render(compiled, people[i % len(people)], _Services(i + 1, issued[i % 1000]))
    return n / (time.process_time() - started)


def bench_gate(n: int) -> float:
    policy = MessagingPolicy()
    rng = random.Random(2)
    cases = []
    for i in range(1000):
        at = NOON + timedelta(hours=rng.randrange(0, 48))
        history = [Planned(Channel.SMS, Purpose.ADVERTISING, at - timedelta(hours=h), "x")
                   for h in rng.sample(range(1, 40), rng.choice((0, 0, 0, 1, 2, 3)))]
        consent = rng.choice((ConsentStatus.GRANTED,) * 8 + (None, ConsentStatus.REVOKED))
        cases.append((Request(Channel.SMS, Purpose.ADVERTISING, f"+8496{i:07d}", at, VN,
                              "sale"), Facts(consent, False, history)))
    started = time.process_time()
    for i in range(n):
        req, facts = cases[i % 1000]
        decide(req, facts, policy)
    return n / (time.process_time() - started)


def bench_broadcast(n: int, folder: Path) -> tuple[float, Any]:
    ops = operational.connect(f"sqlite:///{folder / 'broadcast.sqlite'}")
    with ops.begin() as con:
        con.execute(consents.insert(), [
            {"channel": "sms", "address": f"+8496{i:07d}", "purpose": "advertising",
             "status": "granted", "source": "import", "proof": "{}", "updated_at": NOON}
            for i in range(n)])
    candidates = [Candidate(key=f"campaign:bf:p{i:07d}", profile_id=f"p{i:07d}",
                            record=f"u:cust{i:07d}",
                            routes=(Route(Channel.SMS, "sale", f"+8496{i:07d}"),), at=NOON,
                            context={"first_name": "Lan"}) for i in range(n)]
    started = time.perf_counter()
    done = enqueue(ops, candidates, Sender(Purpose.ADVERTISING, campaign="bf"),
                   MessagingPolicy(), zone=VN, now=NOON, expected=n, channels=[Channel.SMS])
    seconds = time.perf_counter() - started
    ops.dispose()
    return n / seconds, done


def bench_dispatch(n: int, folder: Path) -> float:
    with _kill.esms_server() as sandbox:
        _kill.prepare(folder, n, sandbox.url)
        result = _kill.run(folder, sandbox, n, kill_at=())
    assert result.received == n, result
    return n / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    args = parser.parse_args()
    size = SCALES[args.scale]
    console = Console()
    with tempfile.TemporaryDirectory(prefix="sen-bench-messaging-") as tmp:
        root = Path(tmp)
        renders = bench_renders(size["renders"])
        gate = bench_gate(size["gate"])
        broadcast, done = bench_broadcast(size["broadcast"], root)
        (root / "dispatch").mkdir()
        dispatch = bench_dispatch(size["dispatch"], root / "dispatch")
        (root / "kill").mkdir()
        with _kill.esms_server() as sandbox:
            _kill.prepare(root / "kill", size["kill"], sandbox.url)
            kill = _kill.run(root / "kill", sandbox, size["kill"])
    figures = {"renders_per_s": round(renders, 1), "gate_decisions_per_s": round(gate, 1),
               "broadcast_msgs_per_s": round(broadcast, 1), "recipients": size["broadcast"],
               "broadcast_queued": done.queued, "sms_dispatch_per_s": round(dispatch, 1),
               "kill_recipients": kill.recipients, "kill_received": kill.received,
               "lost": kill.lost, "duplicates": kill.duplicates,
               "kill_outbox_sent": kill.outbox_sent, "kill_events_sent": kill.events_sent}
    table = Table("figure", "value", "target", title=f"Messaging ({args.scale})")
    for name, value in figures.items():
        target = TARGETS.get(name)
        table.add_row(name, f"{value:,}", "" if target is None else f"{target:,}")
    console.print(table)
    print(json.dumps({"benchmark": "messaging", "scale": args.scale,
                      "machine": {"cores": os.cpu_count()}, "figures": figures,
                      "targets": TARGETS}))


if __name__ == "__main__":
    main()
