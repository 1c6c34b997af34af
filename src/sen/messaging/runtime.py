"""Messaging wired to one deployment: its stores, settings, keys and clock.

The web app and the CLI hold one :class:`Messaging` and call it; the domain
modules stay functions over data. It builds the provider pool from the
providers set up in the app (rebuilt when they change), the composer, the
dispatcher, and runs campaign launches in the background for the server.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from sen.errors import NotFoundError, ProviderError, SenError
from sen.messaging import (
    audience,
    campaigns,
    context,
    links,
    provider_store,
    push,
    render,
    templates,
)
from sen.messaging import settings as msettings
from sen.messaging.campaigns import CampaignDefinition
from sen.messaging.compose import Composer
from sen.messaging.consent import ConsentChange
from sen.messaging.dispatch import Dispatcher
from sen.messaging.events import utc_now
from sen.messaging.examples import ExampleServices
from sen.messaging.model import Channel, ConsentStatus, OutgoingMessage, Purpose
from sen.messaging.outbox import Candidate, Enqueued, Route, Sender, enqueue
from sen.messaging.policy import MessagingPolicy
from sen.messaging.providers.pool import ProviderPool
from sen.messaging.providers.tokens import ProviderTokens
from sen.store.secrets import SecretBox

log = logging.getLogger(__name__)


CONFIRMATION = "sen-opt-out-confirmation"


def _ensure_confirmation_template(ops: sa.Engine) -> None:
    """The care SMS that confirms a keyword refusal, made the first time it is needed
    (plain text, one GSM-7 part; the retailer may edit it like any template)."""
    try:
        templates.get(ops, CONFIRMATION)
    except NotFoundError:
        templates.save(ops, templates.Template(
            name=CONFIRMATION, title="Xác nhận từ chối nhận tin quảng cáo",
            channel=Channel.SMS, purpose=Purpose.CARE,
            body="Ban da tu choi nhan tin quang cao qua SMS. Cam on ban."))


class Messaging:
    """Messaging for one deployment (see the module docstring)."""

    def __init__(self, settings: Any, engine: Any, ops: sa.Engine, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.settings, self.engine, self.ops, self.clock = settings, engine, ops, clock
        self.box = SecretBox.for_settings(settings)
        self.zone = ZoneInfo(settings.timezone)
        self.launches: dict[str, dict[str, Any]] = {}
        self._pool: ProviderPool | None = None
        self._pool_version: Any = None
        self._lock = threading.Lock()
        self._link_key: bytes | None = None

    # -- small things -------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def policy(self) -> MessagingPolicy:
        return msettings.policy(self.ops)

    @property
    def link_key(self) -> bytes:
        if self._link_key is None:
            self._link_key = links.link_key(self.ops, self.box)
        return self._link_key

    @property
    def link_base(self) -> str:
        return (self.settings.link_base_url or self.settings.public_url).rstrip("/")

    def hook_token(self, name: str) -> str:
        """The secret part of a provider's webhook URL (providers that do not sign
        their callbacks are authenticated by it)."""
        return hmac.new(self.link_key, f"hook:{name}".encode(), hashlib.sha256).hexdigest()[:24]

    def webhook_url(self, name: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/hooks/{name}/{self.hook_token(name)}"

    # -- templates and context ----------------------------------------------------------
    def template_variables(self, name: str) -> tuple[int, set[str]]:
        t = templates.get_usable(self.ops, name)
        return int(t.version or 1), set(render.variables(t)) - render.SERVICE_VARIABLES

    def context(self, profile_ids: Sequence[str], names: set[str]) -> dict[str, dict]:
        return context.profile_context(self.engine, profile_ids, names,
                                       timezone=self.settings.timezone)

    # -- who she is -----------------------------------------------------------------------
    def records_of(self, profile_id: str) -> list[str]:
        return sorted(audience.records_of(self.engine, [profile_id]))

    def record_of(self, profile_id: str) -> str | None:
        members = audience.profiles(self.engine, [profile_id])
        return members[0].record if members else None

    def _member(self, profile_id: str) -> audience.Member | None:
        members = audience.with_push(self.engine, self.ops,
                                     audience.profiles(self.engine, [profile_id]))
        return members[0] if members else None

    def address_of(self, profile_id: str, channel: Channel) -> str:
        m = self._member(profile_id)
        address = m.address(channel) if m else None
        if not address:
            raise SenError(f"This customer has no address for {channel}.",
                           hint="Type the address to record consent for.")
        return address

    def addresses_of(self, profile_id: str) -> list[str]:
        m = self._member(profile_id)
        if m is None:
            return []
        return sorted({a for a in (m.phone, m.email, m.push) if a})

    # -- providers ------------------------------------------------------------------------
    def pool(self) -> ProviderPool:
        """The provider pool, rebuilt when providers were added or changed."""
        with self._lock:
            version = provider_store.version(self.ops)
            if self._pool is None or version != self._pool_version:
                if self._pool is not None:
                    self._pool.close()
                self._pool = ProviderPool.from_store(self.ops, self.box,
                                                     **self._provider_extra())
                self._pool_version = version
            return self._pool

    def _provider_extra(self) -> dict[str, Any]:
        """What factories share across processes: Zalo's single-use refresh tokens
        live in the operational store, so two dispatchers never burn each other's."""
        return {"tokens": ProviderTokens(self.ops, self.box),
                "vapid": push.vapid_keys(self.ops, self.box)}

    def provider_test(self, name: str, address: str, text: str) -> dict[str, Any]:
        """Send one message straight through a provider: ``ok`` and its id, or the
        provider's error and what to fix."""
        provider = provider_store.open_provider(self.ops, self.box, name,
                                                **self._provider_extra())
        message = OutgoingMessage(id=0, key=f"test{int(self.now().timestamp())}",
                                  channel=provider.channel, purpose=Purpose.CARE,
                                  address=address, body=text, subject=text[:60],
                                  html=f"<p>{text}</p>")
        try:
            result = provider.send(message)
            return {"ok": True, "provider_id": result.provider_id}
        except ProviderError as exc:
            return {"ok": False, "error": exc.message, "hint": exc.hint}
        finally:
            provider.close()

    def composer(self) -> Composer:
        return Composer(self.ops, key=self.link_key, link_base=self.link_base,
                        clock=self.clock)

    def dispatcher(self, **kw: Any) -> Dispatcher:
        return Dispatcher(self.ops, self.pool(), self.composer(), policy=self.policy,
                          zone=self.zone, clock=self.clock, **kw)

    # -- opt-outs -------------------------------------------------------------------------
    def confirm_opt_outs(self, changed: Sequence[ConsentChange]) -> int:
        """Confirm each refusal made by SMS keyword once, by a customer-care SMS (decree
        91: a refusal is confirmed once); a repeated ``TC`` changes nothing, so it is
        not confirmed again. Other refusals are confirmed by the page that took them."""
        wanted = [c for c in changed if c.source == "sms_keyword" and c.channel == Channel.SMS
                  and c.status == ConsentStatus.REVOKED]
        if not wanted:
            return 0
        _ensure_confirmation_template(self.ops)
        sender = Sender(Purpose.CARE, step="opt-out-confirmation",
                        template_versions={CONFIRMATION: 1})
        candidates = [Candidate(
            key=f"optout:{c.channel}:{c.address}:{c.at:%Y%m%dT%H%M%S.%f}",
            profile_id=c.profile_id or f"address:{c.address}",
            record=c.record or f"a:sms:{c.address}",
            routes=(Route(Channel.SMS, CONFIRMATION, c.address),), at=self.now())
            for c in wanted]
        return enqueue(self.ops, candidates, sender, self.policy(), zone=self.zone,
                       now=self.now()).queued

    # -- campaigns ------------------------------------------------------------------------
    def estimate(self, definition: CampaignDefinition) -> campaigns.Estimate:
        """What launching now would do, its cost from the messages as each customer
        would get them (her name can turn an SMS into Unicode and double its parts)."""
        parts: dict[str, list[int]] = {}
        pricer = self._pricer(definition.purpose)

        def cost(route: Route, candidate: Candidate) -> int:
            price, n = pricer(route, candidate)
            if n:
                parts.setdefault(str(route.channel), []).append(n)
            return price

        e = campaigns.estimate(self.engine, self.ops, definition,
                               templates=self.template_variables, context=self.context,
                               policy=self.policy(), zone=self.zone, now=self.now(),
                               cost_of=cost)
        e.parts = {ch: round(sum(ns) / len(ns), 2) for ch, ns in parts.items()}
        return e

    def budget_cost(self, purpose: Purpose) -> Callable[[Route, Candidate], int]:
        """What each message of a launch is expected to cost (for its budget)."""
        pricer = self._pricer(purpose)
        return lambda route, candidate: pricer(route, candidate)[0]

    def _pricer(self, purpose: Purpose) -> Callable[[Route, Candidate], tuple[int, int]]:
        """(VND, SMS parts) of the message a candidate would get on a route: rendered
        with example links and coupon as long as real ones, priced by the provider.
        Templates and settings are read once per pricer."""
        pool, settings = self.pool(), templates.render_settings(self.ops)
        compiled: dict[str, Any] = {}

        def price(route: Route, candidate: Candidate) -> tuple[int, int]:
            guarded = pool.get(route.channel)
            if guarded is None or not route.template:
                return 0, 0
            if route.template not in compiled:
                compiled[route.template] = render.compile_template(
                    templates.get_usable(self.ops, route.template))
            out = render.render(compiled[route.template], candidate.context,
                                ExampleServices(self.link_base), settings)
            message = OutgoingMessage(
                id=0, key="estimate", channel=route.channel, purpose=purpose,
                address=route.address or "", body=out.body or "", subject=out.subject,
                data=out.data, unicode=bool(out.sms and out.sms.encoding == "ucs2"))
            return guarded.provider.estimate_cost(message), out.sms.parts if out.sms else 0

        return price

    def test_send(self, definition: CampaignDefinition, profile_ids: Sequence[str]) -> Enqueued:
        members = audience.with_push(self.engine, self.ops,
                                     audience.profiles(self.engine, list(profile_ids)))
        return campaigns.test_send(self.engine, self.ops, definition, members,
                                   templates=self.template_variables, context=self.context,
                                   policy=self.policy(), zone=self.zone, now=self.now())

    def launch(self, name: str, progress: Callable[[Enqueued], None] | None = None
               ) -> Enqueued:
        return campaigns.launch(self.engine, self.ops, name, templates=self.template_variables,
                                context=self.context, policy=self.policy(), zone=self.zone,
                                now=self.now(), progress=progress,
                                budget_cost=self.budget_cost(campaigns.get(self.ops, name)
                                                             .definition.purpose))

    def start_launch(self, name: str, actor: str | None) -> None:
        """Launch in a background thread; :attr:`launches` shows how far it got."""
        self.launches[name] = {"state": "running", "queued": 0, "suppressed": 0,
                               "by": actor}

        def progress(done: Enqueued) -> None:
            self.launches[name].update(queued=done.queued,
                                       suppressed=sum(done.suppressed.values()))

        def run() -> None:
            try:
                self.launch(name, progress)
                self.launches[name]["state"] = "done"
            except SenError as exc:
                self.launches[name].update(state="failed", error=exc.message, hint=exc.hint)
            except Exception as exc:  # noqa: BLE001 - reported on the page, logged here
                log.exception("launch of %s failed", name)
                self.launches[name].update(state="failed", error=str(exc))

        threading.Thread(target=run, name=f"sen-launch-{name}", daemon=True).start()
