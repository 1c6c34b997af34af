"""``sen segment …``: segments on the command line.

These open the analytical store directly, so they run when no server holds it
(a running server keeps ``profile_events`` up to date by itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    from sen.segments import rules, saved
    from sen.store import operational

    parsed = rules.load(rule)
    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    try:
        s = saved.save(ops, saved.Segment(name=name, title=title or name, rule=parsed,
                                          refresh_minutes=refresh_minutes), actor="cli")
        console.print(f"Saved segment [bold]{s.name}[/]; `sen segment run {s.name}` runs it.")
    finally:
        ops.dispose()


@segment_app.command("run")
def run_command(name: Annotated[str | None, typer.Argument(
        help="The segment; every saved segment when left out.")] = None,
        data_dir: DataDir = None) -> None:
    """Recompute saved segments: members, snapshot, entered and exited events."""
    from sen.segments import saved
    from sen.store import operational

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    ops = operational.connect(settings.operational_url)
    engine = open_data_dir(data_dir)
    try:
        runs = [saved.run(engine, saved.get(ops, name))] if name else saved.run_all(engine, ops)
        table = Table("segment", "members", "entered", "exited", "seconds", title="Segments run")
        for r in runs:
            table.add_row(r.segment, f"{r.members:,}", f"{r.entered:,}", f"{r.exited:,}",
                          f"{r.seconds:.2f}")
        console.print(table)
    finally:
        engine.close()
        ops.dispose()
