"""The providers ``sen demo up`` runs beside Sen, so a campaign can be sent and watched.

Three sandboxes on free 127.0.0.1 ports, each speaking its provider's own
protocol (see :mod:`sen.demo.sandbox`):

* eSMS, taking advertising SMS one request at a time (the account option eSMS
  enables for personalised advertising), with delivery receipts sent to the
  callback URL of each request;
* Zalo ZNS with its OAuth endpoint, knowing the retailer's promotional ZNS
  template, posting ``user_received_message`` to Sen's Zalo webhook. Numbers of
  people who have no Zalo account (the retailer's ground truth knows who) are
  refused as Zalo refuses them, so the campaign falls back to SMS;
* an SMTP relay wanting STARTTLS (a certificate from a local authority written
  to ``ca_file``) and AUTH, answering like Amazon SES and reporting each kept
  message delivered through a signing SNS topic to Sen's SES webhook.

Each keeps what it accepted: ``GET <inbox>`` (``/_sandbox/messages``) lists it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sen.demo.sandbox import BackgroundServer, EsmsSandbox, ZaloSandbox
from sen.demo.sandbox.certs import local_ca
from sen.demo.sandbox.smtp import SmtpSandbox, StoredMail
from sen.demo.sandbox.sns import SnsTopic

log = logging.getLogger(__name__)

ESMS, ZALO, EMAIL = "esms-demo", "zalo-demo", "email-demo"
SETTINGS_KEY = "demo.sandboxes"  # app_settings: the inboxes of the running sandboxes
BRANDNAME = "VELAMOC"
ZNS_TEMPLATE_ID = "402871"
ZNS_PARAMS = frozenset({"customer_name", "voucher_code", "expiry", "store_name"})
SMTP_USER, SMTP_PASSWORD = "sen-demo", "sen-demo-relay"
RECEIPT_DELAY_S = 1.0  # long enough to see a message sent before it is delivered


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class _QuietLoginData(logging.Filter):
    """aiosmtpd warns on every successful AUTH that a field it sets itself is deprecated;
    that says nothing to someone watching the demo."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


_AIOSMTPD_LOG = logging.getLogger("mail.log")


class ReportingRelay(SmtpSandbox):
    """The SMTP sandbox, reporting each kept message delivered ``delay`` seconds later
    (an SES ``Delivery`` notification through its SNS topic), as SES does, from one
    background thread; a report Sen does not take is tried again a few times."""

    def __init__(self, *, delay: float = RECEIPT_DELAY_S, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay
        self.arrived: dict[str, datetime] = {}
        self._reports: queue.Queue[tuple[float, StoredMail] | None] = queue.Queue()
        self._reporter = threading.Thread(target=self._report, daemon=True,
                                          name="smtp-sandbox-reports")

    def start(self) -> ReportingRelay:
        super().start()
        self._reporter.start()
        return self

    def stop(self) -> None:
        super().stop()
        self._reports.put(None)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):  # nothing awaited since the message was kept: it is last
            stored = self.messages[-1]
            self.arrived[stored.id] = _now()
            if self.sns is not None:
                self._reports.put((time.monotonic() + self.delay, stored))
        return reply

    def _report(self) -> None:
        while (item := self._reports.get()) is not None:
            due, stored = item
            time.sleep(max(0.0, due - time.monotonic()))
            for _ in range(5):
                try:
                    if self.deliver(stored).status_code < 500:
                        break
                except httpx.HTTPError as exc:
                    log.debug("SES delivery report for %s failed: %s", stored.id, exc)
                time.sleep(1.0)

    def inbox(self) -> list[dict[str, Any]]:
        """What the relay kept, oldest first, as its inbox lists it."""
        return [{"to": m.rcpt_tos, "from": m.mail_from, "subject": m.header("Subject") or "",
                 "text": m.part("plain") or "", "provider_id": m.id, "tls": m.tls,
                 "at": self.arrived.get(m.id, _now()).isoformat()}
                for m in list(self.messages)]

    def app(self) -> Starlette:
        async def messages(_: Request) -> JSONResponse:
            return JSONResponse({"messages": self.inbox()})

        return Starlette(routes=[Route("/_sandbox/messages", messages, methods=["GET"])])


@dataclass(frozen=True)
class Inbox:
    """Where one sandbox lists what it received."""

    provider: str
    channel: str
    title: str
    url: str

    def as_json(self) -> dict[str, str]:
        return {"provider": self.provider, "channel": self.channel, "title": self.title,
                "url": self.url}


@dataclass
class DemoSandboxes:
    """The running sandboxes, what Sen's providers need to reach them, and their inboxes."""

    esms: EsmsSandbox
    zalo: ZaloSandbox
    relay: ReportingRelay
    topic: SnsTopic
    ca_file: Path
    urls: dict[str, str]  # provider name → the sandbox's base URL
    inboxes: list[Inbox]
    servers: list[BackgroundServer] = field(default_factory=list)

    def stop(self) -> None:
        """Stop serving and calling back (receipts not sent yet are dropped)."""
        for server in self.servers:
            server.stop()
        self.relay.stop()
        for box in (self.esms, self.zalo):
            box.close()


def _serve(app: Any, servers: list[BackgroundServer]) -> str:
    server = BackgroundServer(app).start()
    servers.append(server)
    return server.url


def start(hook_url: Callable[[str], str], folder: Path, *,
          no_zalo: Iterable[str] = ()) -> DemoSandboxes:
    """Start the three sandboxes; ``hook_url(provider)`` is Sen's callback address for
    a provider, ``folder`` where the local authority's certificate is written, and
    ``no_zalo`` the numbers (E.164) that have no Zalo account."""
    if not any(isinstance(f, _QuietLoginData) for f in _AIOSMTPD_LOG.filters):
        _AIOSMTPD_LOG.addFilter(_QuietLoginData())
    servers: list[BackgroundServer] = []
    esms = EsmsSandbox(brandnames=(BRANDNAME,), single_advertising=True,
                       receipt_delay=RECEIPT_DELAY_S)
    zalo = ZaloSandbox(templates={ZNS_TEMPLATE_ID: set(ZNS_PARAMS)},
                       no_zalo=tuple(p.lstrip("+") for p in no_zalo), daily_quota=1_000_000,
                       webhook_url=hook_url(ZALO), receipt_delay=RECEIPT_DELAY_S)
    ca = local_ca()
    folder.mkdir(parents=True, exist_ok=True)
    ca_file = ca.write_ca(folder / "sandbox-ca.pem")
    topic = SnsTopic(hook_url(EMAIL))
    relay = ReportingRelay(tls=ca.server_context(), users={SMTP_USER: SMTP_PASSWORD},
                           sns=topic).start()
    try:
        urls = {ESMS: _serve(esms.app(), servers), ZALO: _serve(zalo.app(), servers),
                EMAIL: _serve(relay.app(), servers)}
    except BaseException:
        for server in servers:
            server.stop()
        relay.stop()
        raise
    inboxes = [Inbox(ESMS, "sms", "eSMS", f"{urls[ESMS]}/_sandbox/messages"),
               Inbox(ZALO, "zalo", "Zalo ZNS", f"{urls[ZALO]}/_sandbox/messages"),
               Inbox(EMAIL, "email", f"SMTP 127.0.0.1:{relay.port}",
                     f"{urls[EMAIL]}/_sandbox/messages")]
    return DemoSandboxes(esms, zalo, relay, topic, ca_file, urls, inboxes, servers)
