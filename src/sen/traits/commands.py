"""``sen traits …``: computing traits on the command line and reading one customer's.

These open the analytical store directly, so they run when no server holds it
(a running server updates traits by itself and has ``POST /api/traits/refresh``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sen.errors import ValidationError
from sen.store.analytics import open_data_dir
from sen.traits import runner
from sen.traits.config import load_file

traits_app = typer.Typer(help="Computed traits: spend, favourites, RFM, CLV, lifecycle.",
                         no_args_is_help=True)
console = Console()
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]
AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="Compute as of this moment (ISO date or time, UTC); default now.")]


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError as exc:
        raise ValidationError(f"--as-of {value!r} is not a date; write it as 2026-10-31 "
                              "or 2026-10-31T18:00") from exc


def print_run(run: runner.TraitRun, title: str) -> None:
    table = Table("kind", "as of", "profiles", "seconds", title=title)
    table.add_row(run.kind, f"{run.as_of:%Y-%m-%d %H:%M}", f"{run.profiles:,}",
                  f"{run.seconds:.1f}")
    console.print(table)
    models = run.models or {}
    if models.get("bgnbd"):
        bg = models["bgnbd"]
        console.print("BG/NBD: " + ", ".join(f"{k}={v:.4g}" for k, v in bg.items()))
    if models.get("gamma_gamma"):
        gg = models["gamma_gamma"]
        console.print("Gamma-Gamma: " + ", ".join(f"{k}={v:.4g}" for k, v in gg.items()))


@traits_app.command("refresh")
def refresh_command(
    config: Annotated[Path | None, typer.Option(
        "--config", help="YAML of RFM cut points and groups, lifecycle thresholds and "
        "horizons (docs/traits.md); kept for later updates. Default: the settings in use."
    )] = None,
    as_of: AsOf = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute every profile's traits and refit the models."""
    settings = load_file(config) if config else None
    engine = open_data_dir(data_dir)
    try:
        print_run(runner.refresh(engine, as_of=_as_of(as_of), config=settings),
                  "Traits refreshed")
    finally:
        engine.close()


@traits_app.command("update")
def update_command(as_of: AsOf = None, data_dir: DataDir = None) -> None:
    """Recompute the traits of profiles whose data changed since the last run."""
    engine = open_data_dir(data_dir)
    try:
        print_run(runner.update(engine, as_of=_as_of(as_of)), "Traits updated")
    finally:
        engine.close()


@traits_app.command("show")
def show_command(profile_id: str, data_dir: DataDir = None) -> None:
    """Print one profile's traits."""
    engine = open_data_dir(data_dir)
    try:
        cur = engine.cursor()
        rows = cur.execute("SELECT * FROM profile_traits WHERE profile_id = ?",
                           [profile_id]).fetchall()
        if not rows:
            raise ValidationError(f"No traits for {profile_id}: check the id (sen identity "
                                  "lookup finds it) or run `sen traits refresh`.")
        table = Table("trait", "value", title=profile_id)
        for (name, *_), value in zip(cur.description, rows[0], strict=True):
            table.add_row(name, "" if value is None else str(value))
        console.print(table)
    finally:
        engine.close()
