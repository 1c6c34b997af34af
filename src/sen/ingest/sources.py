"""Sources and their write keys: one key per place events come from.

A write key only says *which source* sent an event, as in Segment, where keys
are embedded in web pages and apps; it is not a secret that grants access to
anything else. Keys live in the operational store and are cached in memory by
:class:`WriteKeys`, because every ingestion request resolves one.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from sen.errors import ValidationError
from sen.store.operational import sources

SOURCE_KINDS = ("web", "app", "pos", "marketplace", "hotline", "zalo", "server", "import")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class Source:
    """A place events come from."""

    id: int
    name: str
    kind: str
    write_key: str
    enabled: bool


def _row(r: sa.Row) -> Source:
    return Source(r.id, r.name, r.kind, r.write_key, bool(r.enabled))


def create_source(ops: sa.Engine, name: str, kind: str, write_key: str | None = None) -> Source:
    """Register a source and give it a new write key (or the one given)."""
    if not _NAME.match(name):
        raise ValidationError(
            f"Source name {name!r} is not allowed: use lower-case letters, digits, - and _.",
            field="name", rule="source_name",
        )
    if kind not in SOURCE_KINDS:
        raise ValidationError(
            f"Source kind {kind!r} is unknown: use one of {', '.join(SOURCE_KINDS)}.",
            field="kind", rule="source_kind",
        )
    key = write_key or f"sk_{secrets.token_urlsafe(24)}"
    with ops.begin() as con:
        exists = con.execute(sa.select(sources.c.id).where(sources.c.name == name)).first()
        if exists:
            raise ValidationError(f"A source named {name!r} already exists.",
                                  field="name", rule="unique")
        con.execute(sources.insert().values(name=name, kind=kind, write_key=key, enabled=True,
                                            created_at=datetime.utcnow()))
        return _row(con.execute(sa.select(sources).where(sources.c.name == name)).one())


def ensure_source(ops: sa.Engine, name: str, kind: str, write_key: str | None = None) -> Source:
    """The source called ``name``, created if it does not exist yet (idempotent)."""
    found = get_source(ops, name)
    return found if found is not None else create_source(ops, name, kind, write_key)


def get_source(ops: sa.Engine, name: str) -> Source | None:
    with ops.connect() as con:
        r = con.execute(sa.select(sources).where(sources.c.name == name)).first()
    return _row(r) if r else None


def list_sources(ops: sa.Engine) -> list[Source]:
    with ops.connect() as con:
        return [_row(r) for r in con.execute(sa.select(sources).order_by(sources.c.name))]


def set_enabled(ops: sa.Engine, name: str, enabled: bool) -> None:
    """Turn a source's write key on or off; events with an off key are refused."""
    with ops.begin() as con:
        con.execute(sources.update().where(sources.c.name == name).values(enabled=enabled))


class WriteKeys:
    """Write key → source name, cached; :meth:`refresh` after sources change."""

    # A miss re-reads the table (a key made by another process), at most this often, so
    # a flood of bad keys cannot turn into a flood of queries.
    MISS_REFRESH_SECONDS = 1.0

    def __init__(self, ops: sa.Engine) -> None:
        self._ops = ops
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}
        self._refreshed_at = 0.0
        self.refresh()

    def refresh(self) -> None:
        keys = {s.write_key: s.name for s in list_sources(self._ops) if s.enabled}
        with self._lock:
            self._keys = keys
            self._refreshed_at = time.monotonic()

    def resolve(self, write_key: str | None) -> str | None:
        """The source name of ``write_key``, or ``None`` if it is unknown or disabled."""
        if not write_key:
            return None
        name = self._keys.get(write_key)
        if name is None and time.monotonic() - self._refreshed_at >= self.MISS_REFRESH_SECONDS:
            self.refresh()  # a key created by another process since the last refresh
            name = self._keys.get(write_key)
        return name
