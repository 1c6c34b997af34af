"""``sen segment …``: segments on the command line.

These open the analytical store directly, so they run when no server holds it
(a running server keeps ``profile_events`` up to date by itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sen.config import get_settings
from sen.segments import events
from sen.store.analytics import open_data_dir

segment_app = typer.Typer(help="Segments: rules over traits, events and messages.",
                          no_args_is_help=True)
console = Console()
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]


@contextmanager
def _stores(data_dir: Path | None) -> Iterator[tuple[Any, Any, Any]]:
    """Settings, the operational store and the analytical store, closed after."""
    from sen.store import operational

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    try:
        engine = open_data_dir(data_dir)
    except BaseException:
        ops.dispose()
        raise
    try:
        yield settings, ops, engine
    finally:
        engine.close()
        ops.dispose()


def print_run(run: events.EventsRun, title: str) -> None:
    table = Table("kind", "events added", "records moved", "events moved", "events dropped",
                  "seconds", title=title)
    table.add_row(run.kind, f"{run.events:,}", f"{run.records_moved:,}",
                  f"{run.events_moved:,}", f"{run.events_dropped:,}",
                  f"{sum(run.seconds.values()):.1f}")
    console.print(table)


@segment_app.command("events-rebuild")
def events_rebuild_command(data_dir: DataDir = None) -> None:
    """Write the events-by-profile table again from the whole event log."""
    engine = open_data_dir(data_dir)
    try:
        print_run(events.rebuild(engine), "Events by profile rebuilt")
    finally:
        engine.close()


@segment_app.command("events-update")
def events_update_command(data_dir: DataDir = None) -> None:
    """Add new events to the events-by-profile table and follow merges and splits."""
    engine = open_data_dir(data_dir)
    try:
        print_run(events.update(engine), "Events by profile updated")
    finally:
        engine.close()


RuleFile = Annotated[Path, typer.Argument(help="A rule as YAML or JSON (docs/segments.md).")]


@segment_app.command("sql")
def sql_command(rule: RuleFile, data_dir: DataDir = None) -> None:
    """Print the SQL a rule runs as."""
    from sen.segments import evaluate, rules

    parsed = rules.load(rule)  # a bad rule is refused before the store is opened
    engine = open_data_dir(data_dir)
    try:
        print(evaluate.sql(engine, parsed))
    finally:
        engine.close()


@segment_app.command("count")
def count_command(rule: RuleFile, data_dir: DataDir = None) -> None:
    """Count a rule's members and each branch's own count."""
    from sen.segments import evaluate, rules

    parsed = rules.load(rule)
    engine = open_data_dir(data_dir)
    try:
        p = evaluate.preview(engine, parsed, sample=0)
        table = Table("branch", "profiles", title=f"{p.count:,} profiles")
        for path, n in p.branches:
            table.add_row(path, f"{n:,}")
        console.print(table)
    finally:
        engine.close()


@segment_app.command("save")
def save_command(
    name: str, rule: RuleFile,
    title: Annotated[str | None, typer.Option(help="Shown in lists; default the name.")] = None,
    refresh_minutes: Annotated[int, typer.Option(help="How often it is recomputed.")] = 60,
    data_dir: DataDir = None,
) -> None:
    """Save (or replace) a segment."""
    from sen.errors import StoreLockedError
    from sen.segments import evaluate, rules, saved
    from sen.store import operational

    parsed = rules.load(rule)
    try:  # a rule that cannot run is refused before it is saved
        engine = open_data_dir(data_dir)
    except StoreLockedError:
        console.print("[yellow]The server holds the store, so the rule is checked at its "
                      "first run (or save it through the API, which checks it now).[/]")
    else:
        try:
            evaluate.sql(engine, parsed)
        finally:
            engine.close()
    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    try:
        s = saved.save(ops, saved.Segment(name=name, title=title or name, rule=parsed,
                                          refresh_minutes=refresh_minutes), actor="cli")
    finally:
        ops.dispose()
    console.print(f"Saved segment [bold]{s.name}[/]; `sen segment run {s.name}` runs it.")


@segment_app.command("run")
def run_command(name: Annotated[str | None, typer.Argument(
        help="The segment; every saved segment when left out.")] = None,
        data_dir: DataDir = None) -> None:
    """Recompute saved segments: members, snapshot, entered and exited events."""
    from sen.segments import saved

    failed: dict[str, str] = {}
    with _stores(data_dir) as (_, ops, engine):
        try:
            runs = [saved.run(engine, saved.get(ops, name))] if name else \
                saved.run_all(engine, ops)
        except saved.SegmentRunsFailed as exc:
            runs, failed = exc.runs, exc.failed
    table = Table("segment", "members", "entered", "exited", "seconds", title="Segments run")
    for r in runs:
        table.add_row(r.segment, f"{r.members:,}", f"{r.entered:,}", f"{r.exited:,}",
                      f"{r.seconds:.2f}")
    console.print(table)
    for segment, why in failed.items():
        console.print(f"[red]{segment}[/]: {why}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@segment_app.command("audience-link")
def audience_link_command(
    name: str,
    segment: Annotated[str, typer.Option(help="The saved segment to keep in sync.")],
    destination: Annotated[str, typer.Option(help="meta or google.")],
    audience_id: Annotated[str, typer.Option(help="Meta custom audience id or Google user "
                                                  "list id (digits).")],
    purpose: Annotated[str, typer.Option(help="suppress, lookalike_seed or target.")] = "target",
    disabled: Annotated[bool, typer.Option("--disabled", help="Save it, do not sync it.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Keep an ad platform's audience equal to a saved segment (docs/audiences.md)."""
    from pydantic import ValidationError as PydanticError

    from sen.errors import ValidationError
    from sen.segments.audiences import links
    from sen.store import operational

    try:
        link = links.AudienceLink(name=name, segment=segment, destination=destination,
                                  audience_id=audience_id, purpose=purpose,
                                  enabled=not disabled)
    except PydanticError as exc:
        first = exc.errors()[0]
        raise ValidationError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}.") from None
    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    try:
        saved_link = links.save_link(ops, link, actor="cli")
        console.print(f"Linked segment [bold]{saved_link.segment}[/] to {saved_link.destination} "
                      f"audience {saved_link.audience_id}; `sen segment audience-sync "
                      f"{saved_link.name}` syncs it now.")
    finally:
        ops.dispose()


@segment_app.command("audience-sync")
def audience_sync_command(name: Annotated[str | None, typer.Argument(
        help="The link; every due link when left out.")] = None,
        data_dir: DataDir = None) -> None:
    """Send segments' changes to their ad audiences (removals, then additions)."""
    from sen.segments.audiences import links

    with _stores(data_dir) as (settings, ops, engine):
        runs = [links.sync(engine, links.get_link(ops, name), settings=settings)] if name \
            else links.sync_due(engine, ops, settings)
    table = Table("link", "status", "added", "removed", "unchanged", "skipped",
                  title="Audiences synced")
    for r in runs:
        table.add_row(r.link, r.status, f"{r.added:,}", f"{r.removed:,}",
                      f"{r.unchanged:,}", f"{r.skipped:,}")
    console.print(table)
    failed = [r for r in runs if r.status != "ok"]
    for r in failed:
        console.print(f"{r.link}: {r.error}", soft_wrap=True)
    if failed:
        raise typer.Exit(1)
