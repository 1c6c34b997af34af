"""``sen demo …``: the generator on the command line.

A Typer sub-app; ``sen.cli`` mounts it as ``demo``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sen.demo.generate import STEPS, Manifest, generate

demo_app = typer.Typer(
    help="The synthetic retailer: demo data with ground truth.", no_args_is_help=True
)


@demo_app.callback()
def demo() -> None:
    """The synthetic retailer: deterministic demo data with ground truth beside it."""


def _parse_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD, for example 2026-10-31") from exc


@demo_app.command("generate")
def generate_command(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder to write the files into (created if missing)."),
    ] = Path("demo-data"),
    customers: Annotated[
        int,
        typer.Option(
            "--customers",
            "-n",
            min=100,
            help="How many true people to draw: 10k for tests, 100k for the demo, "
            "1M for benchmarks.",
        ),
    ] = 100_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed writes the same bytes.")
    ] = 42,
    end_date: Annotated[
        str, typer.Option("--end-date", help="Last day of the exported history (YYYY-MM-DD).")
    ] = "2026-10-31",
    years: Annotated[
        int, typer.Option("--years", min=1, max=5, help="Years of history to export.")
    ] = 2,
    no_events: Annotated[
        bool, typer.Option("--no-events", help="Skip the web and app event files (much faster).")
    ] = False,
) -> None:
    """Generate POS, marketplace, Zalo and web/app files, their mapping files for the
    importer, and ground truth (who is who, true purchase rates) beside them."""
    console = Console()
    end = _parse_date(end_date)
    steps = [s for s in STEPS if s != "events" or not no_events]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks = {s: progress.add_task(s, total=1, start=False) for s in steps}

        def on_step(name: str, phase: str) -> None:
            if name not in tasks:
                return
            if phase == "start":
                progress.start_task(tasks[name])
            else:
                progress.update(tasks[name], completed=1)

        manifest = generate(
            out,
            customers=customers,
            seed=seed,
            end_date=end,
            years=years,
            with_events=not no_events,
            on_step=on_step,
        )
    console.print(summary_table(manifest))


def summary_table(m: Manifest) -> Table:
    """The files written, with rows and sizes."""
    table = Table(
        title=f"Synthetic retailer in {m.out_dir} (seed {m.seed}, {m.customers:,} people)"
    )
    for col in ("file", "kind", "source", "rows", "size"):
        table.add_column(col, justify="right" if col in ("rows", "size") else "left")
    for f in m.files:
        if f.kind == "mapping":
            continue
        table.add_row(f.path, f.kind, f.source or "", f"{f.rows:,}", _size(f.bytes))
    return table


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)
