"""OAuth tokens a provider renews itself, kept where every process finds them.

Zalo's refresh tokens work once: each refresh returns a new access token *and*
a new refresh token, and the old refresh token is dead. Two rules follow.

* The new pair is saved in one statement, in the transaction that read the
  old one, so no reader ever sees a new access token with the old refresh
  token.
* Only one process refreshes at a time. :meth:`TokenStore.renew` holds a lock
  on the provider's row (a no-op ``UPDATE`` first: a row lock on PostgreSQL,
  the write lock on SQLite) while it calls the provider. A process that waited
  finds the access token changed and uses the new one without refreshing.

The price: if the process dies after Zalo answered and before the commit, the
new refresh token is lost and the Official Account must be authorized again.

``seeds`` remembers which hand-entered refresh tokens a stored pair descends
from, so a process started with an older copy of the provider's secrets does
not put a used refresh token back, while a newly entered one replaces the chain.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from sen.errors import ConfigError, StoreError
from sen.store.operational import provider_tokens
from sen.store.secrets import SecretBox


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def fingerprint(refresh_token: str) -> str:
    """A short, one-way name for a hand-entered refresh token."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, the refresh token that renews it, and when the former expires
    (naive UTC)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    seeds: tuple[str, ...] = ()

    def expiring(self, now: datetime, margin: timedelta = timedelta(minutes=5)) -> bool:
        return not self.access_token or now >= self.expires_at - margin


Refresh = Callable[[TokenPair], TokenPair]


class TokenStore(Protocol):
    """Where a provider keeps its current token pair."""

    def load(self, provider: str) -> TokenPair | None:
        """The stored pair, if any."""

    def save(self, provider: str, pair: TokenPair, *, replaces: str | None) -> bool:
        """Store ``pair`` if the stored refresh token is still ``replaces`` (``None``: no
        pair is stored yet); False when another process got there first."""

    def renew(self, provider: str, stale_access: str, refresh: Refresh) -> TokenPair:
        """The pair to use instead of the one whose access token is ``stale_access``:
        the stored pair if another process already renewed it, else ``refresh(stored)``,
        saved before it is returned. Callers never refresh concurrently."""


@contextmanager
def _store_errors() -> Iterator[None]:
    """SQLAlchemy failures (a lock wait that timed out…) as :class:`StoreError`."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"The provider tokens could not be read or saved: {exc}",
                         hint="Try again; check the operational store if it persists.") from exc


class MemoryTokenStore:
    """A :class:`TokenStore` for one process (tests, the demo)."""

    def __init__(self) -> None:
        self._pairs: dict[str, TokenPair] = {}
        self._lock = threading.Lock()

    def load(self, provider: str) -> TokenPair | None:
        with self._lock:
            return self._pairs.get(provider)

    def save(self, provider: str, pair: TokenPair, *, replaces: str | None) -> bool:
        with self._lock:
            current = self._pairs.get(provider)
            if (current.refresh_token if current else None) != replaces:
                return False
            self._pairs[provider] = pair
            return True

    def renew(self, provider: str, stale_access: str, refresh: Refresh) -> TokenPair:
        with self._lock:
            current = self._pairs.get(provider)
            if current is None:
                raise ConfigError(f"No tokens are stored for provider '{provider}'.")
            if current.access_token != stale_access:
                return current
            new = replace(refresh(current), seeds=current.seeds)
            self._pairs[provider] = new
            return new


class ProviderTokens:
    """A :class:`TokenStore` on the operational store's ``provider_tokens`` table, both
    tokens sealed with ``box``."""

    def __init__(self, engine: sa.Engine, box: SecretBox) -> None:
        self.engine, self.box = engine, box

    def load(self, provider: str) -> TokenPair | None:
        with _store_errors(), self.engine.connect() as con:
            found = self._read(con, provider)
        return found[0] if found else None

    def save(self, provider: str, pair: TokenPair, *, replaces: str | None) -> bool:
        with _store_errors(), self.engine.begin() as con:
            if not self._lock(con, provider):
                return replaces is None and self._insert(con, provider, pair)
            found = self._read(con, provider)
            if found is None or found[0].refresh_token != replaces:
                return False
            con.execute(provider_tokens.update().where(
                provider_tokens.c.provider == provider).values(**self._row(pair)))
            return True

    def renew(self, provider: str, stale_access: str, refresh: Refresh) -> TokenPair:
        with _store_errors(), self.engine.begin() as con:
            found = self._read(con, provider) if self._lock(con, provider) else None
            if found is None:
                raise ConfigError(f"No tokens are stored for provider '{provider}'.")
            current, sealed_refresh = found
            if current.access_token != stale_access:
                return current
            new = replace(refresh(current), seeds=current.seeds)
            # One statement swaps both tokens, and only if the old refresh token is still
            # there (the row lock already guarantees it; this keeps a broken lock harmless).
            done = con.execute(provider_tokens.update().where(
                provider_tokens.c.provider == provider,
                provider_tokens.c.refresh_token == sealed_refresh).values(**self._row(new)))
            if done.rowcount != 1:
                raise StoreError(f"The tokens of provider '{provider}' changed during a "
                                 "refresh.", hint="Try again.")
            return new

    def _insert(self, con: sa.Connection, provider: str, pair: TokenPair) -> bool:
        """Insert the first pair; False when another process inserted one meanwhile."""
        if con.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = (insert(provider_tokens).values(provider=provider, **self._row(pair))
                     .on_conflict_do_nothing().returning(provider_tokens.c.provider))
        # RETURNING, not rowcount: psycopg reports -1 for inserts here
        return con.execute(statement).first() is not None

    @staticmethod
    def _lock(con: sa.Connection, provider: str) -> bool:
        """Take the row's lock with a no-op update; False when there is no row."""
        t = provider_tokens
        done = con.execute(t.update().where(t.c.provider == provider)
                           .values(updated_at=t.c.updated_at))
        return done.rowcount == 1

    def _read(self, con: sa.Connection, provider: str) -> tuple[TokenPair, str] | None:
        t = provider_tokens
        row = con.execute(sa.select(t.c.access_token, t.c.refresh_token, t.c.expires_at)
                          .where(t.c.provider == provider)).first()
        if row is None:
            return None
        refresh = self.box.open(row.refresh_token) or {}
        pair = TokenPair(self.box.open(row.access_token) or "", refresh.get("token", ""),
                         row.expires_at, tuple(refresh.get("seeds", ())))
        return pair, row.refresh_token

    def _row(self, pair: TokenPair) -> dict[str, object]:
        return {"access_token": self.box.seal(pair.access_token),
                "refresh_token": self.box.seal({"token": pair.refresh_token,
                                                "seeds": list(pair.seeds)}),
                "expires_at": pair.expires_at, "updated_at": utcnow()}
