"""Messaging settings people change in the app, kept in the operational store.

The policy (consent rule, caps, quiet hours, duplicate window) lives in
``app_settings`` as JSON (the texts Sen adds to advertising are
:func:`sen.messaging.templates.render_settings`), so every dispatcher
process reads the same rules and a change applies at the next dispatch pass
without a restart. Small values jobs keep (watermarks) live there too.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from sen.errors import ValidationError
from sen.messaging.policy import MessagingPolicy
from sen.store.operational import app_settings, insert_ignore

POLICY_KEY = "messaging.policy"


def read_value(source: sa.Engine | sa.Connection, key: str, default: str | None = None
               ) -> str | None:
    q = sa.select(app_settings.c.value).where(app_settings.c.key == key)
    if isinstance(source, sa.Connection):
        value = source.execute(q).scalar_one_or_none()
    else:
        with source.connect() as con:
            value = con.execute(q).scalar_one_or_none()
    return default if value is None else value


def write_value(con: sa.Connection, key: str, value: str, *, now: datetime,
                actor: str | None = None) -> None:
    if not insert_ignore(con, app_settings, [{"key": key, "value": value, "updated_by": actor,
                                              "updated_at": now}]):
        con.execute(sa.update(app_settings).where(app_settings.c.key == key)
                    .values(value=value, updated_by=actor, updated_at=now))


def _load(ops: sa.Engine, key: str, model: type[BaseModel]) -> BaseModel:
    raw = read_value(ops, key)
    return model() if raw is None else model.model_validate_json(raw)


def policy(ops: sa.Engine) -> MessagingPolicy:
    """The policy in force (decree 91's defaults until someone changes it)."""
    return _load(ops, POLICY_KEY, MessagingPolicy)  # type: ignore[return-value]


def _save(ops: sa.Engine, key: str, model: type[BaseModel], data: dict, *, now: datetime,
          actor: str | None) -> BaseModel:
    try:
        value = model.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        raise ValidationError(first["msg"], field=".".join(str(p) for p in first["loc"]),
                              rule=first["type"]) from exc
    with ops.begin() as con:
        write_value(con, key, value.model_dump_json(), now=now, actor=actor)
    return value


def save_policy(ops: sa.Engine, data: dict, *, now: datetime, actor: str | None = None
                ) -> MessagingPolicy:
    return _save(ops, POLICY_KEY, MessagingPolicy, data, now=now, actor=actor)  # type: ignore[return-value]
