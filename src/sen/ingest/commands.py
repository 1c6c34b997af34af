"""``sen import``: a file into the store, with progress and a summary table.

Register it on the main app with ``app.command("import")(import_command)``.

Exit codes: 0 when the file was imported (rejected rows, if any, are reported
in yellow with the quarantine file: a few bad rows in a POS export should not
fail a nightly job), 2 when the file could not be imported at all (unreadable,
bad mapping, store locked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sen.config import get_settings
from sen.errors import ImportError_, SenError, StoreLockedError
from sen.ingest.importer import ImportSummary, events_mapping, import_file
from sen.ingest.mapping import load_mapping, parse_mapping


def summary_table(s: ImportSummary) -> Table:
    """The summary as a rich table."""
    t = Table(title=f"Import {s.load_id} ({s.kind} from {s.source})", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for label, value in (("rows in", s.rows_in), ("accepted", s.accepted),
                         ("inserted", s.inserted), ("duplicates", s.duplicates),
                         ("rejected", s.rejected)):
        t.add_row(label, f"{value:,}")
    t.add_row("quarantine file", str(s.quarantine_path or "-"))
    t.add_row("seconds", f"{s.seconds:.1f}")
    return t


def import_command(
    path: Annotated[Path, typer.Argument(help="The file: .csv, .xlsx, .ndjson or .parquet.")],
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", "-m", help="YAML mapping of file columns to Sen fields.")] = None,
    kind: Annotated[str | None, typer.Option(
        "--kind", help="Without --mapping: only `events` is possible.")] = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="Source name for the events.")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", help="Sen's data folder.")] = None,
) -> None:
    """Import PATH as its mapping says; rejected rows go to a quarantine CSV."""
    console = Console()
    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    try:
        if mapping is not None:
            m = load_mapping(mapping)
            if source:
                m = parse_mapping({**m.model_dump(), "source": source})
        elif kind == "events":
            m = events_mapping(source or "import")
        else:
            raise ImportError_("Without --mapping Sen can only import events files.",
                               hint="Pass --mapping FILE.yaml (see docs/import.md), or "
                               "--kind events --source NAME for Segment events.")
        from sen.store.analytics import open_engine
        from sen.store.operational import connect

        engine = open_engine(settings.analytics_path)
        try:
            ops = connect(settings.operational_url)
            with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                          TimeElapsedColumn(), console=console, transient=True) as bar:
                task = bar.add_task("starting", total=None)
                summary = import_file(
                    engine, path, m, quarantine_dir=settings.quarantine_dir, ops=ops,
                    timezone=settings.timezone,
                    progress=lambda stage: bar.update(task, description=stage))
        finally:
            engine.close()
    except StoreLockedError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except SenError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(summary_table(summary))
    if summary.rejected:
        console.print(f"[yellow]{summary.rejected:,} rows were rejected; see "
                      f"{summary.quarantine_path} for the reasons.[/yellow]")


# Standalone app (tests, `python -m`); Sen's CLI registers the function itself with
# ``app.command("import")(import_command)``.
import_app = typer.Typer(help="Import a file of customers, orders, products, stores or events.")
import_app.command()(import_command)
