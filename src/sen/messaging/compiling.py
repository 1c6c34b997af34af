"""Compiling a template: each part's renderer, what it reads, cached by (name, version).

A part that is simple text renders through :func:`sen.messaging.direct.direct`,
anything else through Jinja (:mod:`sen.messaging.sandbox`). An SMS that goes
without diacritics has its own text stripped here, once, so rendering only
strips the customer's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, meta

from sen.errors import ValidationError
from sen.messaging.direct import Render, direct
from sen.messaging.model import Channel, Purpose
from sen.messaging.sandbox import HTML, TEXT, Part, parts, strip_source

SERVICE_VARIABLES = frozenset({"coupon", "unsubscribe_url"})
"""Names a template may use that come from the message's services, not the profile."""
_CACHE_SIZE = 1024


@dataclass(frozen=True, eq=False)
class Compiled:
    """A template's Jinja code and what it needs; build it with :func:`compile_template`."""

    name: str
    version: int | None
    channel: Channel
    purpose: Purpose
    strip: bool
    parts: dict[str, Render]
    zns_template_id: str | None
    webhook: Any
    variables: frozenset[str]
    uses_coupon: bool
    uses_unsubscribe: bool
    fingerprint: tuple


def fingerprint(template: Any) -> tuple:
    """Everything a message's content depends on (the title, say, is not)."""
    zns_id = template.zns.template_id if template.zns is not None else None
    return (str(template.channel), str(template.purpose), bool(template.strip_diacritics),
            zns_id, tuple((p.field, p.source) for p in parts(template)))


def _jinja(part: Part, strip: bool) -> tuple[Render, set[str]]:
    """A part's renderer (direct when it is simple, else Jinja's) and the names it reads."""
    env = HTML if part.html else TEXT
    source = strip_source(part.source) if strip else part.source
    try:
        ast = env.parse(source)
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(f"{part.field}, line {exc.lineno}: {exc.message}. Fix the "
                              "template's {{ }} and {% %} marks.", field=part.field,
                              rule="syntax") from exc
    return direct(ast, env) or template.render, meta.find_undeclared_variables(ast)


def _skeleton(value: Any, path: str) -> Any:
    """The webhook document with each string replaced by its part's field path."""
    if isinstance(value, str):
        return Leaf(path)
    if isinstance(value, dict):
        return {k: _skeleton(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v, f"{path}.{i}") for i, v in enumerate(value)]
    return value


@dataclass(frozen=True, slots=True)
class Leaf:
    field: str


_cache: dict[tuple[str, int | None], Compiled] = {}


def compile_template(template: Any) -> Compiled:
    """The template's compiled form, cached by (name, version); raises
    :class:`ValidationError` naming the part with a syntax error."""
    key, fp = (template.name, template.version), fingerprint(template)
    hit = _cache.get(key)
    if hit is not None and hit.fingerprint == fp:
        return hit
    channel, strip = Channel(template.channel), bool(template.strip_diacritics)
    compiled_parts, names = {}, set()
    for part in parts(template):
        compiled_parts[part.field], used = _jinja(part, strip and channel is Channel.SMS)
        names |= used
    webhook = template.webhook
    result = Compiled(
        template.name, template.version, channel, Purpose(template.purpose),
        strip and channel is Channel.SMS, compiled_parts,
        template.zns.template_id if template.zns is not None else None,
        _skeleton(webhook, "webhook") if webhook is not None else None,
        frozenset(names - SERVICE_VARIABLES), "coupon" in names, "unsubscribe_url" in names,
        fp)
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache), key), None)
    _cache[key] = result
    return result


def variables(template: Any) -> set[str]:
    """The profile fields a template reads (coupon and unsubscribe link aside), so a
    sender captures only those."""
    return set(compile_template(template).variables)
