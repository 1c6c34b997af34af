"""``sen privacy …``: a customer's data on request, from the command line.

The commands open the stores directly when no server holds them. When ``sen
serve`` runs, the analytical store is its own: they say so, or, given
``--server`` and an API token of an admin or support agent, ask the server to
do it (``GET /api/profiles/{id}/export``, ``POST /api/profiles/{id}/erase``).

Exit codes: 0 done, 2 refused or failed (nothing was changed).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from sen.config import get_settings
from sen.errors import SenError, StoreLockedError

privacy_app = typer.Typer(help="A customer's data on request (decree 13/2023): export "
                          "everything about her, or erase it.", no_args_is_help=True)
console = Console()

ProfileId = Annotated[str, typer.Argument(help="The profile id the customer 360 shows "
                                          "(p_…); a merged-away id is followed.")]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Sen's data folder "
                                              "(default: SEN_DATA_DIR or ./sen-data).")]
Server = Annotated[str | None, typer.Option(
    "--server", help="Ask the running server at this address (http://127.0.0.1:8000) "
    "instead of opening the stores.")]
Token = Annotated[str | None, typer.Option(
    "--token", envvar="SEN_TOKEN", help="With --server: an API token of an admin or a "
    "support agent (or set SEN_TOKEN).")]
_LOCKED = ("The server holds the analytical store, so this command cannot open it. Run it "
           "again with --server http://HOST:PORT --token TOKEN (an admin's or a support "
           "agent's API token, made at /tokens), or use the buttons of the customer 360.")


class RemoteError(SenError):
    """The server refused or failed; its own message is kept."""


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


@contextmanager
def _stores(data_dir: Path | None, *, read_only: bool) -> Iterator[tuple[Any, Any]]:
    from sen.store import operational
    from sen.store.analytics import DuckDBEngine

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    engine = DuckDBEngine(settings.analytics_path, read_only=read_only)
    try:
        ops = operational.connect(settings.operational_url)
        try:
            yield engine, ops
        finally:
            ops.dispose()
    finally:
        engine.close()


def _remote(server: str, token: str | None, method: str, path: str, **kw: Any
            ) -> httpx.Response:
    if not token:
        raise RemoteError("--server needs an API token.",
                          hint="Pass --token TOKEN or set SEN_TOKEN (make one at /tokens).")
    try:
        answer = httpx.request(method, server.rstrip("/") + path, timeout=600,
                               headers={"Authorization": f"Bearer {token}"}, **kw)
    except httpx.HTTPError as exc:
        raise RemoteError(f"Cannot reach the server at {server}: {exc}.",
                          hint="Check the address and that `sen serve` runs.") from exc
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            message, hint = error["message"], error.get("hint")
        except (ValueError, KeyError, TypeError):
            message, hint = f"The server answered {answer.status_code}.", None
        raise RemoteError(message, hint=hint)
    return answer


@contextmanager
def _reported() -> Iterator[None]:
    """Sen's errors as their sentence and exit code 2; a held store says what to do."""
    try:
        yield
    except StoreLockedError:
        console.print(f"[red]{_LOCKED}[/]")
        raise typer.Exit(2) from None
    except SenError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@privacy_app.command("export")
def export_command(
    profile_id: ProfileId,
    out: Annotated[Path, typer.Option("--out", "-o", help="FILE.zip (the JSON and one CSV "
                                      "per section, for Excel) or FILE.json.")],
    server: Server = None, token: Token = None, data_dir: DataDir = None,
) -> None:
    """Write everything Sen holds about a customer to FILE (.zip or .json)."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("zip", "json"):
        console.print("[red]--out must end in .zip or .json.[/]")
        raise typer.Exit(2)
    with _reported():
        if server:
            body = _remote(server, token, "GET", f"/api/profiles/{profile_id}/export",
                           params={"format": fmt}).content
        else:
            from sen import privacy

            with _stores(data_dir, read_only=True) as (engine, ops):
                result = privacy.export(engine, ops, profile_id, actor=_actor())
            body = result.to_zip() if fmt == "zip" else result.to_json()
    out.write_bytes(body)
    console.print(f"Wrote {out} ({len(body):,} bytes).")


@privacy_app.command("erase")
def erase_command(
    profile_id: ProfileId,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasing cannot be undone.")]
    = False,
    server: Server = None, token: Token = None, data_dir: DataDir = None,
) -> None:
    """Erase a customer's personal data from both stores; her orders stay as anonymous
    sales. Needs --yes."""
    if not yes:
        console.print(f"[yellow]Nothing erased.[/] Erasing {profile_id} removes her personal "
                      "data for good; run the command again with --yes.")
        raise typer.Exit(2)
    with _reported():
        if server:
            done = _remote(server, token, "POST", f"/api/profiles/{profile_id}/erase",
                           json={"confirm": profile_id}).json()
        else:
            from sen import privacy

            with _stores(data_dir, read_only=False) as (engine, ops):
                e = privacy.erase(engine, ops, profile_id, actor=_actor(),
                                  now=datetime.now(UTC).replace(tzinfo=None))
            done = {"profile_id": e.profile_id, "removed": e.removed,
                    "audience_links": list(e.audience_links),
                    "already_erased": e.already_erased, "request_id": e.request_id}
    _print_erasure(profile_id, done)


def _print_erasure(profile_id: str, done: dict[str, Any]) -> None:
    if done["already_erased"]:
        console.print(f"{profile_id} was erased before; nothing was left. The request is "
                      f"recorded (#{done['request_id']}).")
        return
    table = Table("store", "table", "rows", title=f"Erased {done['profile_id'] or profile_id}")
    for store, counts in done["removed"].items():
        for name, n in counts.items():
            if n:
                table.add_row(store, name, f"{n:,}")
    console.print(table)
    console.print(f"Recorded as privacy request #{done['request_id']}.")
    if done["audience_links"]:
        console.print("[yellow]Her hashed identifiers were sent to ad platforms by these "
                      f"audience links: {', '.join(done['audience_links'])}. Remove her "
                      "there too.[/]")
