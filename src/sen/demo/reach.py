"""``sen demo up`` reaching customers: the sandboxes started, set up as Sen's own
providers, and the example templates, coupon pool and draft campaign saved.

The providers are ordinary provider accounts (``esms-demo``, ``zalo-demo``,
``email-demo``) whose receipts and callbacks come back to this Sen's
``/hooks/…`` addresses. The sandboxes get new ports (and Zalo new tokens, the
relay a new certificate) at every start, so a later ``sen demo up`` rewrites
only what connects a demo provider to its sandbox (addresses, tokens, the
authority and SNS certificates) and only while it still points at this machine;
everything else a marketer changed stays, and what she deleted comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from sen.demo import campaign, sandboxes
from sen.demo.sandbox.esms import ROOT as ESMS_ROOT
from sen.demo.sandboxes import EMAIL, ESMS, ZALO, DemoSandboxes
from sen.messaging import provider_store
from sen.messaging.runtime import Messaging
from sen.messaging.settings import write_value
from sen.store.secrets import SecretBox

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ProviderPlan:
    """A demo provider as its sandbox needs it; ``plumbing`` names the settings the
    sandbox owns (rewritten at every start), the rest are the marketer's."""

    name: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, Any]
    plumbing: tuple[str, ...]


def plans(sb: DemoSandboxes, hook_url: Callable[[str], str]) -> list[ProviderPlan]:
    """The three demo providers, pointed at the running sandboxes."""
    access, refresh = sb.zalo.issue_tokens()  # as authorizing the Official Account gives
    return [
        ProviderPlan(ESMS, "esms", {
            "brandname": sandboxes.BRANDNAME, "base_url": sb.urls[ESMS] + ESMS_ROOT,
            "advertising_mode": "single", "callback_url": hook_url(ESMS),
            "price_care": 700, "price_advertising": 800},
            {"api_key": sb.esms.api_key, "secret_key": sb.esms.secret_key},
            ("base_url", "callback_url")),
        ProviderPlan(ZALO, "zalo", {
            "app_id": sb.zalo.app_id, "base_url": sb.urls[ZALO],
            "oauth_base_url": sb.urls[ZALO], "price_care": 200, "price_advertising": 300},
            {"app_secret": sb.zalo.app_secret, "oa_secret_key": sb.zalo.oa_secret_key,
             "refresh_token": refresh, "access_token": access},
            ("base_url", "oauth_base_url")),
        ProviderPlan(EMAIL, "smtp", {
            "host": sb.relay.host, "port": sb.relay.port, "security": "starttls",
            "ca_file": str(sb.ca_file), "username": sandboxes.SMTP_USER,
            "from_address": "khuyenmai@velamoc.vn", "from_name": "Vela & Mộc",
            "reply_to": "cskh@velamoc.vn", "sns_topic_arns": [sb.topic.topic_arn],
            "sns_signing_certificates": sb.topic.certificate_pem},
            {"password": sandboxes.SMTP_PASSWORD},
            ("host", "port", "security", "ca_file", "sns_topic_arns",
             "sns_signing_certificates")),
    ]


def _on_this_machine(account: provider_store.ProviderAccount) -> bool:
    config = account.config
    where = config.get("host") if account.kind == "smtp" else \
        urlsplit(str(config.get("base_url") or "")).hostname
    return where in LOOPBACK


def configure_providers(ops: sa.Engine, box: SecretBox, wanted: list[ProviderPlan], *,
                        now: datetime) -> dict[str, str]:
    """Add the demo providers that are missing and point those still on this machine at
    the sandboxes; per provider ``added``, ``re-pointed`` or ``kept`` (it points
    elsewhere now, or is another kind: the marketer's to keep)."""
    existing = {a.name: a for a in provider_store.accounts(ops, box)}
    done = {}
    for plan in wanted:
        old = existing.get(plan.name)
        if old is None:
            provider_store.save(ops, box, name=plan.name, kind=plan.kind, config=plan.config,
                                secrets=plan.secrets, now=now)
            done[plan.name] = "added"
        elif old.kind == plan.kind and _on_this_machine(old):
            config = {**old.config, **{k: plan.config[k] for k in plan.plumbing}}
            provider_store.save(ops, box, name=plan.name, kind=plan.kind, config=config,
                                secrets=plan.secrets, enabled=old.enabled,
                                priority=old.priority, now=now)
            done[plan.name] = "re-pointed"
        else:
            done[plan.name] = "kept"
    return done


def numbers_without_zalo(retailer: Path | None) -> list[str]:
    """Phones (E.164) of the retailer's people that have no Zalo account, from its ground
    truth: the world the Zalo sandbox plays, never something Sen is told."""
    path = retailer / "ground_truth" / "people.parquet" if retailer is not None else None
    if path is None or not path.exists():
        return []
    people = pq.read_table(path, columns=["phone_e164", "zalo_id"])
    with_zalo = set(people.filter(pc.is_valid(people["zalo_id"]))["phone_e164"].to_pylist())
    return sorted(set(people["phone_e164"].to_pylist()) - with_zalo)


@dataclass
class Reach:
    """What :func:`start_reach` started and saved."""

    sandboxes: DemoSandboxes
    providers: dict[str, str]
    added: list[str]

    def stop(self) -> None:
        self.sandboxes.stop()


def start_reach(settings: Any, ops: sa.Engine, *, retailer: Path | None,
                now: datetime) -> Reach:
    """Start the sandboxes, set up the demo providers, save the examples that are
    missing and record where the inboxes are (``app_settings['demo.sandboxes']``)."""
    runtime = Messaging(settings, None, ops)  # its webhook_url is each provider's callback
    sb = sandboxes.start(runtime.webhook_url, settings.data_dir / "demo",
                         no_zalo=numbers_without_zalo(retailer))
    try:
        providers = configure_providers(ops, runtime.box, plans(sb, runtime.webhook_url),
                                        now=now)
        added = campaign.save_examples(ops, now=now)
        with ops.begin() as con:
            write_value(con, sandboxes.SETTINGS_KEY,
                        json.dumps([i.as_json() for i in sb.inboxes]), now=now, actor="demo")
    except BaseException:
        sb.stop()
        raise
    return Reach(sb, providers, added)
