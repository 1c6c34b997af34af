"""Provider accounts set up in the app: settings shown back, secrets sealed and never.

A provider is saved with its kind's settings (validated by the kind's model)
and secrets (sealed with :class:`~sen.store.secrets.SecretBox`). Saving again
without a secret keeps the stored one, so a form never has to show a secret
to keep it. What comes back to pages and the API says only which secrets are
set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from sen.errors import NotFoundError, ValidationError
from sen.messaging.providers import KINDS, build
from sen.messaging.providers.base import Provider
from sen.store.operational import insert_ignore, providers
from sen.store.secrets import SecretBox

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


@dataclass(frozen=True)
class ProviderAccount:
    """A provider as pages see it: settings, and which secrets are set (never values)."""

    name: str
    kind: str
    channel: str
    config: dict[str, Any]
    secrets_set: tuple[str, ...]
    enabled: bool
    priority: int
    updated_at: datetime


def _account(row: Any, box: SecretBox) -> ProviderAccount:
    sealed = box.open(row.secrets) or {}
    return ProviderAccount(row.name, row.kind, row.channel, orjson.loads(row.config),
                           tuple(sorted(k for k, v in sealed.items() if v)), row.enabled,
                           row.priority, row.updated_at)


def accounts(ops: sa.Engine, box: SecretBox) -> list[ProviderAccount]:
    with ops.connect() as con:
        rows = con.execute(sa.select(providers).order_by(providers.c.channel,
                                                         providers.c.priority)).all()
    return [_account(r, box) for r in rows]


def _row(ops: sa.Engine, name: str) -> Any:
    with ops.connect() as con:
        row = con.execute(sa.select(providers).where(providers.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no provider '{name}'.",
                            hint="Add it on the Channels page or with "
                            "`sen messaging provider set`.")
    return row


def account(ops: sa.Engine, box: SecretBox, name: str) -> ProviderAccount:
    return _account(_row(ops, name), box)


def save(ops: sa.Engine, box: SecretBox, *, name: str, kind: str, config: dict[str, Any],
         secrets: dict[str, Any] | None, enabled: bool = True, priority: int = 100,
         now: datetime) -> ProviderAccount:
    """Create or change a provider. Empty secret values keep what is stored."""
    if not NAME.match(name):
        raise ValidationError("A provider name uses lower-case letters, digits, '-' and '_'.",
                              field="name", rule="pattern")
    spec = KINDS.get(kind)
    if spec is None:
        raise ValidationError(f"Unknown provider kind '{kind}'; use one of "
                              f"{', '.join(sorted(KINDS))}.", field="kind", rule="one_of")
    with ops.connect() as con:
        old = con.execute(sa.select(providers).where(providers.c.name == name)).first()
    kept = (box.open(old.secrets) or {}) if old is not None else {}
    merged = {**kept, **{k: v for k, v in (secrets or {}).items() if v not in (None, "")}}
    build(kind, name, config, merged).close()  # the kind's models check both, naming fields
    values = {"kind": kind, "channel": str(spec.channel), "config": orjson.dumps(config).decode(),
              "secrets": box.seal(merged), "enabled": enabled, "priority": priority,
              "updated_at": now}
    with ops.begin() as con:
        if not insert_ignore(con, providers, [{"name": name, "created_at": now, **values}]):
            con.execute(sa.update(providers).where(providers.c.name == name).values(**values))
    return account(ops, box, name)


def delete(ops: sa.Engine, name: str) -> None:
    _row(ops, name)
    with ops.begin() as con:
        con.execute(sa.delete(providers).where(providers.c.name == name))


def open_provider(ops: sa.Engine, box: SecretBox, name: str, **extra: Any) -> Provider:
    """The provider ``name`` built from its stored settings and secrets."""
    row = _row(ops, name)
    return build(row.kind, row.name, orjson.loads(row.config), box.open(row.secrets) or {},
                 **extra)


def version(ops: sa.Engine) -> tuple[int, datetime | None]:
    """Changes to the providers table show here (dispatchers rebuild their pool)."""
    with ops.connect() as con:
        n, latest = con.execute(sa.select(sa.func.count(), sa.func.max(providers.c.updated_at))
                                ).one()
    return n, latest
