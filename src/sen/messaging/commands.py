"""``sen campaign …`` and ``sen messaging …``: campaigns, providers and dispatch on the
command line.

Campaign commands that read customers (estimate, test, launch) open the
analytical store, so they run when no server holds it; with a server running
use the Campaigns page or ``POST /api/campaigns/NAME/launch``. Dispatch needs
only the operational store: ``sen messaging dispatch`` runs as many workers as
wanted beside a server on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from sen.config import get_settings
from sen.messaging import campaigns, provider_store
from sen.messaging.campaigns import CampaignDefinition
from sen.store.settings import parse

campaign_app = typer.Typer(help="One-off campaigns to a segment.", no_args_is_help=True)
messaging_app = typer.Typer(help="Providers, the policy and the dispatcher.",
                            no_args_is_help=True)
provider_app = typer.Typer(help="Provider accounts (SMS, Zalo ZNS, email, push, webhooks).",
                           no_args_is_help=True)
messaging_app.add_typer(provider_app, name="provider")
console = Console()
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]


@contextmanager
def _runtime(data_dir: Path | None, *, analytics: bool = True) -> Iterator[Any]:
    """A :class:`~sen.messaging.runtime.Messaging` on this data folder, closed after."""
    from sen.messaging.runtime import Messaging
    from sen.store import operational
    from sen.store.analytics import open_data_dir

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    engine = None
    try:
        if analytics:
            engine = open_data_dir(data_dir)
        yield Messaging(settings, engine, ops)
    finally:
        if engine is not None:
            engine.close()
        ops.dispose()


def _print_stats(s: campaigns.Stats) -> None:
    table = Table("", "", title="Live counts")
    for status, n in sorted(s.by_status.items()):
        table.add_row(status, f"{n:,}")
    for reason, n in sorted(s.suppressed.items()):
        table.add_row(f"  suppressed: {reason}", f"{n:,}")
    table.add_row("clicked", f"{s.clicked:,}")
    table.add_row("coupons redeemed", f"{s.redeemed:,}")
    table.add_row("holdout", f"{s.holdout:,}")
    table.add_row("cost (VND)", f"{s.cost:,}")
    console.print(table)


@campaign_app.command("list")
def list_command(data_dir: DataDir = None) -> None:
    """Every campaign and its status."""
    with _runtime(data_dir, analytics=False) as m:
        table = Table("name", "title", "segment", "status", "audience", "queued", "suppressed")
        for c in campaigns.all_campaigns(m.ops):
            table.add_row(c.definition.name, c.definition.title, c.definition.segment,
                          c.status, str(c.audience or ""), str(c.queued or ""),
                          str(c.suppressed or ""))
        console.print(table)


@campaign_app.command("save")
def save_command(file: Annotated[Path, typer.Argument(help="A campaign as YAML or JSON.")],
                 data_dir: DataDir = None) -> None:
    """Save a campaign draft from a file (docs/messaging.md shows the fields)."""
    definition = parse(CampaignDefinition, yaml.safe_load(file.read_text(encoding="utf-8")),
                       source=f"campaign in {file}")
    with _runtime(data_dir, analytics=False) as m:
        c = campaigns.save(m.ops, definition, now=m.now())
    console.print(f"Saved campaign [bold]{c.definition.name}[/] ({c.status}).")


@campaign_app.command("estimate")
def estimate_command(name: str, data_dir: DataDir = None) -> None:
    """What launching now would do: audience, suppressed by reason, cost."""
    with _runtime(data_dir) as m:
        e = m.estimate(campaigns.get(m.ops, name).definition)
    table = Table("", "", title=f"Estimate for {name}")
    table.add_row("audience", f"{e.audience:,}")
    table.add_row("holdout", f"{e.holdout:,}")
    table.add_row("would be queued", f"{round(e.gate.queued * e.scale):,}")
    for ch, n in sorted(e.gate.by_channel.items()):
        table.add_row(f"  by {ch}", f"{round(n * e.scale):,}")
    for reason, n in sorted(e.gate.suppressed.items()):
        table.add_row(f"suppressed: {reason}", f"{round(n * e.scale):,}")
    table.add_row("cost (VND)", f"{e.cost:,}")
    if e.scale > 1:
        table.caption = f"from a sample of {e.sampled:,}"
    console.print(table)


@campaign_app.command("test")
def test_command(name: str, profile: Annotated[list[str], typer.Option(
        "--profile", "-p", help="A profile id to send the test to (repeatable).")],
                 data_dir: DataDir = None) -> None:
    """Send the campaign's message now to chosen customers."""
    with _runtime(data_dir) as m:
        done = m.test_send(campaigns.get(m.ops, name).definition, profile)
    console.print(f"Queued {done.queued}; refused {dict(done.suppressed) or 'none'}.")


@campaign_app.command("launch")
def launch_command(name: str, data_dir: DataDir = None) -> None:
    """Launch a campaign: its audience goes through the gate into the outbox."""
    with _runtime(data_dir) as m:
        done = m.launch(name)
        stats = campaigns.stats(m.ops, name)
    console.print(f"Launched [bold]{name}[/]: {done.queued:,} queued, "
                  f"{sum(done.suppressed.values()):,} suppressed.")
    _print_stats(stats)


@campaign_app.command("pause")
def pause_command(name: str, data_dir: DataDir = None) -> None:
    """Hold the campaign's messages not yet sent."""
    with _runtime(data_dir, analytics=False) as m:
        console.print(f"Held {campaigns.pause(m.ops, name, now=m.now()):,} messages.")


@campaign_app.command("resume")
def resume_command(name: str, data_dir: DataDir = None) -> None:
    """Let a paused campaign's messages go again."""
    with _runtime(data_dir, analytics=False) as m:
        console.print(f"Released {campaigns.resume(m.ops, name, now=m.now()):,} messages.")


@campaign_app.command("stats")
def stats_command(name: str, data_dir: DataDir = None) -> None:
    """Live counts: queued, sent, delivered, failed, suppressed by reason, clicks, coupons."""
    with _runtime(data_dir, analytics=False) as m:
        c = campaigns.get(m.ops, name)
        console.print(f"[bold]{name}[/] · {c.status}")
        _print_stats(campaigns.stats(m.ops, name))


@messaging_app.command("dispatch")
def dispatch_command(data_dir: DataDir = None,
                     once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
                     batch: Annotated[int, typer.Option(help="Messages per claim.")] = 100,
                     threads: Annotated[int, typer.Option(
                         help="Provider calls at once.")] = 8,
                     lease: Annotated[float, typer.Option(
                         help="Seconds after which a message another dispatcher claimed and "
                         "never finished is taken back.")] = 120.0,
                     interval: Annotated[float, typer.Option(
                         help="Seconds to wait when nothing is due.")] = 0.5,
                     quiet: Annotated[bool, typer.Option(help="Print nothing.")] = False
                     ) -> None:
    """Send due messages (several of these may run at once on PostgreSQL)."""
    with _runtime(data_dir, analytics=False) as m:
        dispatcher = m.dispatcher(batch=batch, threads=threads, lease_s=lease)
        try:
            while True:
                done = dispatcher.run_once()
                if done.total() and not quiet:
                    console.print(f"sent {done.sent}, failed {done.failed}, retried "
                                  f"{done.retried}, suppressed {done.suppressed}, deferred "
                                  f"{done.deferred}")
                if once:
                    return
                if not done.total():
                    time.sleep(interval)
        finally:
            dispatcher.close()


def _pairs(values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"'{item}' is not KEY=VALUE")
        out[key] = yaml.safe_load(value) if value else ""
    return out


@provider_app.command("set")
def provider_set(name: str, kind: Annotated[str, typer.Option(help="esms, speedsms, "
                                                               "http_sms, zalo, smtp, "
                                                               "webpush, webhook")],
                 config: Annotated[list[str] | None, typer.Option(
                     "--config", "-c", help="A setting, KEY=VALUE (repeatable).")] = None,
                 secret: Annotated[list[str] | None, typer.Option(
                     "--secret", "-s", help="A secret, KEY=VALUE (repeatable).")] = None,
                 priority: int = 100, disabled: bool = False, data_dir: DataDir = None) -> None:
    """Create or change a provider account (secrets are sealed and never shown)."""
    with _runtime(data_dir, analytics=False) as m:
        a = provider_store.save(m.ops, m.box, name=name, kind=kind,
                                config=_pairs(config or []), secrets=_pairs(secret or []),
                                enabled=not disabled, priority=priority, now=m.now())
        console.print(f"Saved provider [bold]{a.name}[/] ({a.kind}, {a.channel}); secrets "
                      f"set: {', '.join(a.secrets_set) or 'none'}. Callbacks: "
                      f"{m.webhook_url(a.name)}")


@provider_app.command("list")
def provider_list(data_dir: DataDir = None) -> None:
    """Provider accounts, with which secrets are set (never their values)."""
    with _runtime(data_dir, analytics=False) as m:
        table = Table("name", "kind", "channel", "enabled", "priority", "secrets set")
        for a in provider_store.accounts(m.ops, m.box):
            table.add_row(a.name, a.kind, a.channel, "yes" if a.enabled else "no",
                          str(a.priority), ", ".join(a.secrets_set))
        console.print(table)


@provider_app.command("test")
def provider_test(name: str, address: str,
                  text: str = "Sen: tin nhắn thử / test message",
                  data_dir: DataDir = None) -> None:
    """Send one message straight through a provider, to check its settings."""
    with _runtime(data_dir, analytics=False) as m:
        result = m.provider_test(name, address, text)
    if result["ok"]:
        console.print(f"[green]Sent[/] (provider id {result['provider_id']}).")
        return
    console.print(f"[red]Refused:[/] {result['error']} {result.get('hint') or ''}")
    raise typer.Exit(1)
