"""``sen identity …``: resolution, the review queue and look-ups on the command line.

These open the analytical store directly, so they run when no server holds
it (a running server updates identity by itself every few seconds and has
``POST /api/identity/update`` and ``/score``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sen.identity import decisions, profiles, resolver
from sen.identity.config import load_file
from sen.identity.ids import IdentifierType
from sen.store.analytics import open_data_dir

identity_app = typer.Typer(help="Identity resolution: profiles, merges, probable duplicates.",
                           no_args_is_help=True)
console = Console()
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]


def print_stats(stats: resolver.RunStats, title: str) -> None:
    table = Table("events", "records", "identifiers", "profiles touched", "merges", "splits",
                  "seconds", title=title)
    table.add_row(f"{stats.events:,}", f"{stats.records:,}", f"{stats.identifiers:,}",
                  f"{stats.profiles_touched:,}", f"{stats.merges:,}", f"{stats.splits:,}",
                  f"{sum(stats.seconds.values()):.1f}")
    console.print(table)


@identity_app.command("update")
def update_command(data_dir: DataDir = None) -> None:
    """Fold the events stored since the last run into profiles."""
    engine = open_data_dir(data_dir)
    try:
        print_stats(resolver.update(engine), "Identity updated")
    finally:
        engine.close()


@identity_app.command("rebuild")
def rebuild_command(
    config: Annotated[Path | None, typer.Option(
        "--config", help="YAML of merge rules, survivorship and duplicate settings "
        "(docs/identity.md); kept for later updates. Default: the settings in use.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute every profile from the whole event log (after changing the settings).

    People's decisions (unmerges, approved duplicates) are kept and applied.
    """
    settings = load_file(config) if config else None
    engine = open_data_dir(data_dir)
    try:
        print_stats(resolver.rebuild(engine, settings), "Identity rebuilt")
    finally:
        engine.close()


@identity_app.command("score")
def score_command(data_dir: DataDir = None) -> None:
    """Find probable duplicates and fill the review queue."""
    engine = open_data_dir(data_dir)
    try:
        waiting = decisions.score_candidates(engine)
    finally:
        engine.close()
    console.print(f"{waiting:,} probable duplicate pairs wait for review (/identity/review).")


@identity_app.command("lookup")
def lookup_command(
    value: Annotated[str, typer.Argument(help="The identifier as typed, e.g. 0912 345 678.")],
    id_type: Annotated[IdentifierType, typer.Option("--type", help="Identifier type.")] =
    IdentifierType.PHONE,
    data_dir: DataDir = None,
) -> None:
    """The profiles that hold an identifier."""
    engine = open_data_dir(data_dir)
    try:
        found = profiles.lookup(engine.cursor(), id_type, value)
    finally:
        engine.close()
    table = Table("profile", "name", "phone", "email", "records", "last seen")
    for p in found:
        table.add_row(p["profile_id"], p["name"] or "", p["phone"] or "", p["email"] or "",
                      str(p["records"]), str(p["last_seen"] or ""))
    console.print(table if found else f"No profile holds {id_type} {value!r}.")
