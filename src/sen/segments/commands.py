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

segment_app = typer.Typer(help="Segments: rules over traits, events and messages.",
                          no_args_is_help=True)
console = Console()
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]


def _engine(data_dir: Path | None):  # noqa: ANN202 - DuckDBEngine
    from sen.store.analytics import DuckDBEngine

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    return DuckDBEngine(settings.analytics_path)


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
    engine = _engine(data_dir)
    try:
        print_run(events.rebuild(engine), "Events by profile rebuilt")
    finally:
        engine.close()


@segment_app.command("events-update")
def events_update_command(data_dir: DataDir = None) -> None:
    """Add new events to the events-by-profile table and follow merges and splits."""
    engine = _engine(data_dir)
    try:
        print_run(events.update(engine), "Events by profile updated")
    finally:
        engine.close()
