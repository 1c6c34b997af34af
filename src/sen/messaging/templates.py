"""Message templates (mẫu tin) and their store in the operational ``templates`` table.

A template is one channel's message with ``{{ field }}`` placeholders: an SMS
text, an email (subject, text, HTML), a Zalo ZNS template's parameters (each
parameter the ZNS template declares at Zalo is mapped to a field or an
expression), a push notification or a webhook's JSON document.

Only the latest content is kept. Its ``version`` goes up each time the content
changes (not the title), and the outbox records the version each message was
rendered from. Saving runs :func:`sen.messaging.checks.check`: errors refuse the
save, warnings come back with the saved template. An archived template cannot
be used (:func:`get_usable`) or edited until it is restored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from sen.errors import ConflictError, NotFoundError, ValidationError
from sen.messaging import checks, context
from sen.messaging.compiling import fingerprint
from sen.messaging.events import utc_now
from sen.messaging.model import Channel, Purpose
from sen.messaging.render import DEFAULT_SETTINGS, RenderSettings
from sen.store.operational import app_settings, insert_ignore
from sen.store.operational import templates as table

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
PARAM_PATTERN = r"^[A-Za-z0-9_]{1,60}$"
SETTINGS_KEY = "messaging.render"


class ZnsSpec(BaseModel):
    """A Zalo ZNS template: its id at Zalo and, for each parameter it declares, the
    field or expression that fills it (``{"customer_name": "name"}``)."""

    model_config = ConfigDict(extra="forbid")
    template_id: str = Field("", max_length=40)
    params: dict[str, str] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _names(cls, params: dict[str, str]) -> dict[str, str]:
        bad = [k for k in params if not re.match(PARAM_PATTERN, k)]
        if bad:
            raise ValueError(f"parameter names are letters, digits and '_' as declared at "
                             f"Zalo: {', '.join(bad)}")
        return params


class PushSpec(BaseModel):
    """A push notification's title, the page it opens and its icon (the text is ``body``)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=200)
    url: str = Field("", max_length=2000)
    icon: str = Field("", max_length=2000)


class Template(BaseModel):
    """A message template. ``version`` is the stored version; sent back on save it is
    the version the editor started from, and a save over a newer one is refused."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    channel: Channel
    purpose: Purpose
    subject: str | None = Field(None, max_length=500)
    html: str | None = Field(None, max_length=500_000)
    body: str = Field("", max_length=10_000)
    zns: ZnsSpec | None = None
    push: PushSpec | None = None
    webhook: dict[str, Any] | None = None
    coupon_pool: str | None = Field(None, max_length=100, description=(
        "The pool a printed coupon is drawn from (one code per message)."))
    strip_diacritics: bool = False
    version: int | None = None
    archived: bool = False
    created_by: str | None = None
    updated_at: datetime | None = None


def parse(data: Mapping[str, Any]) -> Template:
    """A template from JSON; a mistake names its field (``zns.params``) and rule."""
    try:
        return Template.model_validate(data)
    except PydanticError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in errors)
        raise ValidationError(f"The template is not valid: {problems}.", field=where,
                              rule=first["type"]) from exc


class TemplateProblems(ValidationError):
    """A template was not saved; ``problems`` lists every reason (and warnings)."""

    def __init__(self, problems: list[checks.Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        text = " ".join(f"{p.field}: {p.message_en}" for p in errors)
        super().__init__(f"The template was not saved: {text}", field=errors[0].field,
                         rule=errors[0].rule)


@dataclass(frozen=True)
class Saved:
    template: Template
    problems: list[checks.Problem]  # warnings only
    changed: bool


def _data(template: Template) -> str:
    data = {k: getattr(template, k).model_dump() for k in ("zns", "push")
            if getattr(template, k) is not None}
    if template.webhook is not None:
        data["webhook"] = template.webhook
    if template.coupon_pool:
        data["coupon_pool"] = template.coupon_pool
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _from_row(row: Any) -> Template:
    data = json.loads(row.data or "{}")
    return Template.model_construct(
        name=row.name, title=row.title, channel=Channel(row.channel),
        purpose=Purpose(row.purpose), subject=row.subject, html=row.html, body=row.body,
        zns=ZnsSpec(**data["zns"]) if "zns" in data else None,
        push=PushSpec(**data["push"]) if "push" in data else None,
        webhook=data.get("webhook"), coupon_pool=data.get("coupon_pool"),
        strip_diacritics=row.strip_diacritics,
        version=row.version, archived=row.archived, created_by=row.created_by,
        updated_at=row.updated_at)


def get(ops: sa.Engine, name: str) -> Template:
    """The template (archived or not); :class:`NotFoundError` if there is none."""
    with ops.connect() as con:
        row = con.execute(sa.select(table).where(table.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no template '{name}'; GET /api/templates lists them.")
    return _from_row(row)


def get_usable(ops: sa.Engine, name: str) -> Template:
    """The template for sending: an archived one raises :class:`ConflictError`."""
    template = get(ops, name)
    if template.archived:
        raise ConflictError(f"The template '{name}' is archived and cannot be used.",
                            hint="Restore it, or choose another template.",
                            details={"name": name, "version": template.version})
    return template


def list_templates(ops: sa.Engine, *, channel: Channel | str | None = None,
                   archived: bool = False) -> list[Template]:
    """Templates by name; archived ones only when asked."""
    query = sa.select(table).order_by(table.c.name)
    if channel is not None:
        if channel not in set(Channel):
            raise ValidationError(f"Unknown channel {channel!r}; use one of "
                                  f"{', '.join(Channel)}.", field="channel", rule="enum")
        query = query.where(table.c.channel == str(channel))
    if not archived:
        query = query.where(table.c.archived == sa.false())
    with ops.connect() as con:
        return [_from_row(r) for r in con.execute(query)]


def save(ops: sa.Engine, template: Template, *,
         fields: Iterable[context.Field] | None = None, actor: str | None = None) -> Saved:
    """Create or update a template after checking it against the field catalogue
    (``fields``, default the built-in ones; pass :func:`sen.messaging.context.fields`
    of the store to allow user-defined traits)."""
    problems = checks.check(template, context.fields() if fields is None else fields)
    if any(p.severity == "error" for p in problems):
        raise TemplateProblems(problems)
    now = utc_now()
    values = {"title": template.title, "channel": str(template.channel),
              "purpose": str(template.purpose), "subject": template.subject,
              "html": template.html, "body": template.body, "data": _data(template),
              "strip_diacritics": template.strip_diacritics, "updated_at": now}
    with ops.begin() as con:
        row = con.execute(sa.select(table).where(table.c.name == template.name)).first()
        if row is None:
            row = {"name": template.name, "version": 1, "created_by": actor,
                   "created_at": now, **values}
            if not insert_ignore(con, table, [row]):
                raise ConflictError(f"A template named '{template.name}' was just created "
                                    "by someone else.", hint="Reload it and save again.")
            changed = True
        else:
            changed = _update(con, row, template, values)
    return Saved(get(ops, template.name), [p for p in problems if p.severity != "error"],
                 changed)


def _update(con: sa.Connection, row: Any, template: Template, values: dict) -> bool:
    name = template.name
    if row.archived:
        raise ConflictError(f"The template '{name}' is archived.",
                            hint="Restore it before editing, or save under a new name.")
    if template.version is not None and template.version != row.version:
        raise ConflictError(f"The template '{name}' changed since you opened it (now "
                            f"version {row.version}, yours {template.version}).",
                            hint="Reload it, redo your change and save again.",
                            details={"version": row.version})
    if str(template.channel) != row.channel:
        raise ValidationError(f"A template's channel cannot change ({row.channel} → "
                              f"{template.channel}); save a new template instead.",
                              field="channel", rule="immutable")
    changed = fingerprint(_from_row(row)) != fingerprint(template)
    done = con.execute(sa.update(table).where(table.c.name == name,
                                              table.c.version == row.version)
                       .values(version=row.version + int(changed), **values)).rowcount
    if not done:
        raise ConflictError(f"The template '{name}' was saved by someone else meanwhile.",
                            hint="Reload it and save again.")
    return changed


def _set_archived(ops: sa.Engine, name: str, archived: bool) -> Template:
    with ops.begin() as con:
        done = con.execute(sa.update(table).where(table.c.name == name)
                           .values(archived=archived, updated_at=utc_now())).rowcount
    if not done:
        raise NotFoundError(f"There is no template '{name}'; GET /api/templates lists them.")
    return get(ops, name)


def archive(ops: sa.Engine, name: str) -> Template:
    """Retire a template: it stays for the messages that name it, but cannot be used."""
    return _set_archived(ops, name, True)


def restore(ops: sa.Engine, name: str) -> Template:
    return _set_archived(ops, name, False)


def render_settings(ops: sa.Engine) -> RenderSettings:
    """The advertising label and SMS opt-out text in force (defaults until saved)."""
    with ops.connect() as con:
        raw = con.execute(sa.select(app_settings.c.value)
                          .where(app_settings.c.key == SETTINGS_KEY)).scalar()
    return DEFAULT_SETTINGS if raw is None else RenderSettings.model_validate_json(raw)


def save_render_settings(ops: sa.Engine, settings: RenderSettings | Mapping[str, Any], *,
                         actor: str | None = None) -> RenderSettings:
    """Store the label and opt-out text; a mistake names the setting."""
    try:
        settings = RenderSettings.model_validate(settings)
    except PydanticError as exc:
        first = exc.errors()[0]
        raise ValidationError(f"Messaging setting {first['loc'][0]}: {first['msg']}.",
                              field=str(first["loc"][0]), rule=first["type"]) from exc
    values = {"value": settings.model_dump_json(), "updated_by": actor, "updated_at": utc_now()}
    with ops.begin() as con:
        if not con.execute(sa.update(app_settings).where(app_settings.c.key == SETTINGS_KEY)
                           .values(**values)).rowcount:
            con.execute(sa.insert(app_settings).values(key=SETTINGS_KEY, **values))
    return settings
