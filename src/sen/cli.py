"""``sen``: the command line.

``sen demo up`` is the one command that shows Sen working: it generates the
demo retailer, loads it through the import path, creates an admin and starts
the server. Everything else is the everyday tooling of a data engineer.
"""

from __future__ import annotations

import gc
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sen.config import Settings, get_settings
from sen.demo.commands import demo_app
from sen.errors import SenError
from sen.identity.commands import identity_app, print_stats
from sen.ingest.commands import import_command
from sen.ingest.sources import SOURCE_KINDS, create_source, list_sources
from sen.messaging.commands import campaign_app, messaging_app
from sen.privacy.commands import privacy_app
from sen.segments.commands import segment_app
from sen.traits.commands import print_run, traits_app

if TYPE_CHECKING:  # imported where used: the demo's modules are not needed by other commands
    import sqlalchemy as sa

    from sen.demo.reach import Reach
    from sen.store.analytics import DuckDBEngine

app = typer.Typer(help="Sen: the customer data platform for omnichannel retailers.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(demo_app, name="demo")
app.add_typer(identity_app, name="identity")
app.add_typer(traits_app, name="traits")
app.add_typer(segment_app, name="segment")
app.add_typer(campaign_app, name="campaign")
app.add_typer(messaging_app, name="messaging")
app.add_typer(privacy_app, name="privacy")
app.command("import")(import_command)
sources_app = typer.Typer(help="Event sources and their write keys.", no_args_is_help=True)
users_app = typer.Typer(help="People who log in to Sen.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(users_app, name="users")
console = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]


def _settings(data_dir: Path | None, **more: object) -> Settings:
    overrides = {k: v for k, v in {"data_dir": data_dir, **more}.items() if v is not None}
    return get_settings(**overrides)


def _ops(settings: Settings):  # noqa: ANN202 - SQLAlchemy engine
    from sen.store import operational

    return operational.connect(settings.operational_url)


def run_server(settings: Settings) -> None:
    """Serve the app in this process until interrupted.

    The cyclic garbage collector is tuned for ingestion: objects that live for
    the whole run are frozen out of collections, and young collections run
    less often, since each request makes thousands of short-lived objects.
    """
    import uvicorn

    from sen.web.app import create_app

    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, loop="uvloop",
                http="httptools", access_log=False, log_level="warning")


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server: event API (/v1), management API (/api), UI (/), docs (/docs)."""
    settings = _settings(data_dir, host=host, port=port)
    console.print(f"Sen on [bold]http://{settings.host}:{settings.port}/[/] "
                  f"(data in {settings.data_dir})")
    run_server(settings)


@demo_app.command("up")
def demo_up(
    data_dir: DataDir = None,
    customers: Annotated[int, typer.Option("--customers", "-n",
                                           help="Customers to generate.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed, the same data.")] = 42,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    password: Annotated[str | None, typer.Option(
        "--password", help="Password for the `admin` login (default: a new random one).")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load and set up, then exit.")
                        ] = False,
) -> None:
    """Generate the demo retailer, load it through `sen import`, start sandbox SMS, Zalo
    and email providers, and start the server.

    The retailer's two years of history end yesterday. Generation and loading
    are skipped when the data folder already holds a demo retailer, so a second
    run starts at once. The sandboxes run while the server does; the demo's
    providers, templates, coupon pool and draft campaign are saved once (a
    marketer's changes to them stay).
    """
    from sen.demo import generate
    from sen.demo.reach import start_reach
    from sen.web.users import ensure_admin

    settings = _demo_settings(data_dir, host, port)
    # Two years of history ending yesterday, so the overview's last 30 days are alive.
    end = (datetime.now(settings.tz) - timedelta(days=1)).date()
    name = f"{customers}-{seed}-{end.isoformat()}"
    out = settings.data_dir / "demo" / f"retailer-{name}"
    marker = settings.data_dir / "demo" / "loaded.txt"
    ops = _ops(settings)
    if marker.exists():  # one retailer per data folder: never load a second on top
        name = marker.read_text().strip()
        out = settings.data_dir / "demo" / f"retailer-{name}"
        console.print(f"Using the demo retailer already loaded ({name}); "
                      f"delete {settings.data_dir} to make a new one.")
    else:
        if not (out / "manifest.json").exists():
            with console.status(f"Generating the demo retailer ({customers:,} customers)…"):
                generate(out, customers=customers, seed=seed, end_date=end)
        _load_with_progress(out, settings, ops)
        marker.write_text(name)
    login = password or secrets.token_urlsafe(9)
    ensure_admin(ops, "admin", login)
    with console.status("Starting the SMS, Zalo and email sandboxes…"):
        reach = start_reach(settings, ops, retailer=out, now=datetime.now(UTC)
                            .replace(tzinfo=None))
    ops.dispose()
    try:
        _print_banner(settings, login, reach)
        if not no_serve:
            run_server(settings)
    finally:
        reach.stop()


def _demo_settings(data_dir: Path | None, host: str | None, port: int | None) -> Settings:
    """The demo's settings; unless SEN_PUBLIC_URL says otherwise, Sen's public address
    is where it listens, so the sandboxes' receipts and the links reach it."""
    settings = _settings(data_dir, host=host, port=port)
    if settings.public_url != Settings.model_fields["public_url"].default:
        return settings
    shown = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    shown = f"[{shown}]" if ":" in shown else shown
    return _settings(data_dir, host=host, port=port,
                     public_url=f"http://{shown}:{settings.port}")


def _print_banner(settings: Settings, login: str, reach: Reach) -> None:
    from sen.demo.campaign import CAMPAIGN as DEMO_CAMPAIGN

    base = settings.public_url.rstrip("/")
    console.print("\n[bold]Sandbox providers[/] (they run while Sen does; each lists what it "
                  "received at its inbox):")
    for inbox in reach.sandboxes.inboxes:
        console.print(f"  {inbox.title} → Sen's provider [bold]{inbox.provider}[/] "
                      f"({inbox.channel}): GET {inbox.url}", soft_wrap=True)
    if reach.added:
        console.print("Saved for the demo: " + ", ".join(reach.added) + ".")
    console.print(f"Estimate and launch the draft campaign on {base}/campaigns/{DEMO_CAMPAIGN}"
                  f", then watch it arrive on {base}/demo/inboxes.", soft_wrap=True)
    console.print(f"\n[bold green]Sen is ready[/]: {base}/  "
                  f"login [bold]admin[/] / [bold]{login}[/]\n")


def _load_with_progress(out: Path, settings: Settings, ops) -> None:  # noqa: ANN001
    from sen.demo.load import importable_files, load
    from sen.identity import decisions, resolver
    from sen.segments import events, saved
    from sen.segments.examples import save_examples
    from sen.store.analytics import DuckDBEngine
    from sen.traits import runner

    files = importable_files(out)
    engine = DuckDBEngine(settings.analytics_path)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} files"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Loading", total=len(files))
            started: list[str] = []

            def on_file(entry: dict) -> None:
                progress.update(task, description=f"Importing {entry['path']}",
                                completed=len(started))
                started.append(entry["path"])

            summaries = load(out, engine, ops, quarantine_dir=settings.quarantine_dir,
                             timezone=settings.timezone, on_file=on_file)
            progress.update(task, completed=len(files), description="Loaded")
        with console.status("Reading the consents the files and events state…"):
            consents = _extract_consents(engine, ops)
        with console.status("Resolving identities and scoring probable duplicates…"):
            stats = resolver.rebuild(engine)
            waiting = decisions.score_candidates(engine)
        with console.status("Computing traits: spend, favourites, RFM, CLV, lifecycle…"):
            traits = runner.refresh(engine)
        with console.status("Events by profile and the example segments…"):
            events.rebuild(engine)
            save_examples(ops)
            try:
                segments = saved.run_all(engine, ops)
            except saved.SegmentRunsFailed as exc:  # a segment of the user's, on a reload
                console.print(f"[yellow]{exc}[/]")
                segments = exc.runs
    finally:
        engine.close()
    table = Table("file", "source", "rows", "new", "dupes", "rejected", "s",
                  title="Demo retailer loaded")
    for entry, s in zip(files, summaries, strict=True):
        table.add_row(entry["path"], s.source, f"{s.rows_in:,}", f"{s.inserted:,}",
                      f"{s.duplicates:,}", f"{s.rejected:,}", f"{s.seconds:.1f}")
    console.print(table)
    console.print(f"Consent read from {consents:,} customer rows and sign-up events.")
    print_stats(stats, "Identities resolved")
    console.print(f"{waiting:,} probable duplicate pairs wait for review.")
    print_run(traits, "Traits computed")
    console.print("Example segments: " + ", ".join(
        f"{r.segment} ({r.members:,})" for r in segments) + "; see /segments.")


def _extract_consents(engine: DuckDBEngine, ops: sa.Engine) -> int:
    """Record the consents of the loaded files now and append their Consent events to
    the log, so the first page's counts (and the consented_channels trait computed next)
    are right; the server keeps reading new ones."""
    from sen.ingest.writer import EventWriter
    from sen.messaging import consent_events, events

    read = 0
    while batch := consent_events.extract(engine, ops, now=datetime.now(UTC).replace(
            tzinfo=None)):
        read += batch
    writer = EventWriter(engine).start()
    try:
        while events.relay(ops, writer, limit=50_000):
            pass
    finally:
        writer.stop()
    return read


@sources_app.command("list")
def sources_list(data_dir: DataDir = None) -> None:
    """List sources with their write keys."""
    ops = _ops(_settings(data_dir))
    table = Table("name", "kind", "enabled", "write key")
    for s in list_sources(ops):
        table.add_row(s.name, s.kind, "yes" if s.enabled else "no", s.write_key)
    console.print(table)


@sources_app.command("create")
def sources_create(
    name: Annotated[str, typer.Argument(help="Short name, e.g. web, app, pos-hcm.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(SOURCE_KINDS)}.")] = "server",
    data_dir: DataDir = None,
) -> None:
    """Create a source and print its write key (what SDKs send as the Basic user name)."""
    try:
        source = create_source(_ops(_settings(data_dir)), name, kind)
    except SenError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"{source.name}: write key [bold]{source.write_key}[/]")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin, marketer, analyst or support.")] = "marketer",
    password: Annotated[str | None, typer.Option(
        help="Password (default: a new random one, printed once).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user who can log in to the UI and make API tokens."""
    from sen.web.users import create_user

    secret = password or secrets.token_urlsafe(12)
    try:
        create_user(_ops(_settings(data_dir)), username, secret, role)
    except SenError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"{username} ({role}) created; password [bold]{secret}[/]")


def main() -> None:
    """Entry point: Sen's own errors are printed as the sentence they are, not a traceback."""
    try:
        app(standalone_mode=True)
    except SenError as exc:
        console.print(f"[red]{exc}[/]")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
