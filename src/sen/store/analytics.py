"""The analytical store: one small engine interface and its DuckDB implementation.

Everything that runs SQL on the analytical store goes through :class:`Engine`,
so logging, error translation and the failing SQL live in one place (the shape
Splink uses for its database APIs). Query *building* happens elsewhere, as Ibis
expressions or SQL strings; this module only *runs* them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import duckdb

from sen.errors import StoreError, StoreLockedError
from sen.store.schema import DDL, SCHEMA_VERSION


class Engine(Protocol):
    """What the rest of Sen needs from an analytical engine."""

    name: str

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement and return the engine's cursor."""

    def ibis(self) -> Any:
        """An Ibis backend over the same tables."""

    def close(self) -> None:
        """Release the engine."""


def _translate(exc: Exception, sql: str | None) -> StoreError:
    text = str(exc)
    lowered = text.lower()
    if "lock" in lowered and ("conflicting" in lowered or "could not set" in lowered):
        return StoreLockedError(
            "Another process holds the analytical store.",
            sql=sql,
            hint="Stop `sen serve` (or the other `sen` command) first, or send the work "
            "to the running server, e.g. `sen import --server http://127.0.0.1:8000 ...`.",
        )
    return StoreError(f"The analytical store failed: {text}", sql=sql)


class DuckDBEngine:
    """The embedded default: a single DuckDB file with one writing process.

    The connection is shared; every thread gets its own cursor through
    :meth:`cursor`, as DuckDB requires.
    """

    name = "duckdb"

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise _translate(exc, None) from exc
        self._local = threading.local()
        if not read_only:
            self.migrate()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the shared connection."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            # Zone-less times in SQL (and in event JSON) are read as UTC, as Sen stores them.
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
        return cur

    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        try:
            return self.cursor().execute(sql, params) if params is not None else \
                self.cursor().execute(sql)
        except duckdb.Error as exc:
            raise _translate(exc, sql) from exc

    def scalar(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """The first column of the first row, or ``None``."""
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def register(self, name: str, data: Any) -> None:
        """Make an Arrow table or DataFrame queryable as ``name`` on this thread's cursor."""
        self.cursor().register(name, data)

    def unregister(self, name: str) -> None:
        self.cursor().unregister(name)

    def ibis(self) -> Any:
        """An Ibis backend for this thread, on a cursor of its own: a DuckDB cursor
        serves one call at a time, so neither threads nor Ibis and :meth:`cursor`
        may share one."""
        backend = getattr(self._local, "ibis", None)
        if backend is None:
            import ibis

            backend = self._local.ibis = ibis.duckdb.from_connection(self._con.cursor())
        return backend

    def migrate(self) -> None:
        """Create missing tables; idempotent."""
        for ddl in DDL:
            self.execute(ddl)
        self.execute(
            "INSERT OR REPLACE INTO sen_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def close(self) -> None:
        self._local = threading.local()  # drops every thread's cursor and Ibis backend
        self._con.close()


def open_engine(path: Path | str, *, read_only: bool = False) -> DuckDBEngine:
    """Open the analytical store at ``path`` (created and migrated if new)."""
    return DuckDBEngine(path, read_only=read_only)


def open_data_dir(data_dir: Path | None = None) -> DuckDBEngine:
    """The analytical store of a data folder (default: ``SEN_DATA_DIR`` or ``./sen-data``),
    for commands that open it directly when no server holds it."""
    from sen.config import get_settings

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    return DuckDBEngine(settings.analytics_path)
