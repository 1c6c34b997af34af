"""The Jinja2 sandbox message templates run in, and the pieces a template is made of.

Marketers write templates, so a template must never reach Sen's internals or
build a huge string. Jinja's immutable sandbox refuses private and internal
attributes and changes to lists and dicts; here it also has no globals (a
template sees only the customer's fields, the coupon and the unsubscribe link),
only the filters a message needs, no ``**``, no repetition past
:data:`MAX_OUTPUT` characters, and an unsafe attribute *raises* instead of
printing nothing, so the check on save reports it.

Two environments: text parts (SMS, subject, push, ZNS values, webhook values)
are not escaped; email HTML is autoescaped, so a customer's name can never
inject markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sen.messaging import sms

MAX_OUTPUT = 100_000
FILTERS = ("abs", "capitalize", "d", "default", "e", "escape", "first", "float", "int", "join",
           "last", "length", "lower", "max", "min", "replace", "round", "string", "striptags",
           "sum", "title", "trim", "truncate", "upper", "urlencode", "wordcount")
# A URL as it appears in output: the scheme, then up to a space, a quote or a tag; a
# final full stop, comma or closing bracket belongs to the sentence, not the link.
# Lower-case schemes only: a literal prefix lets the scan skip ahead (the check on
# save warns about an upper-case one).
URL = re.compile(r"https?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]")


class _Undefined(Undefined):
    """A missing value prints nothing, but an attribute the sandbox refused raises."""

    __slots__ = ()

    def __str__(self) -> str:
        if self._undefined_exception is SecurityError:
            self._fail_with_undefined_error()
        return ""


def vnd(amount: Any) -> str:
    """Whole đồng the Vietnamese way: ``1.250.000 ₫`` (empty for no value)."""
    if amount is None or isinstance(amount, Undefined) or amount == "":
        return ""
    value = round(float(amount))
    text = f"{abs(value):,}".replace(",", ".")
    return f"-{text} ₫" if value < 0 else f"{text} ₫"


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=_Undefined)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in FILTERS} | {"vnd": vnd}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("Powers (**) are not allowed in message templates.")
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(n, int) \
                    and len(seq) * n > MAX_OUTPUT:
                raise SecurityError(f"A repetition would build over {MAX_OUTPUT} characters.")
        return super().call_binop(context, operator, left, right)


TEXT = _Sandbox(autoescape=False)
HTML = _Sandbox(autoescape=True)


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a template that Jinja compiles, named by its field path."""

    field: str  # body, subject, html, zns.params.<name>, push.title, webhook.<path>
    source: str
    html: bool = False


def zns_source(expression: str) -> str:
    """A ZNS parameter's mapping as a template: a bare field or expression
    (``first_name | default('bạn')``) is wrapped in ``{{ }}``; text that
    already holds ``{{`` or ``{%`` is a template as it stands."""
    text = expression.strip()
    if not text or "{{" in text or "{%" in text:
        return text
    return "{{ " + text + " }}"


def _leaves(value: Any, path: str) -> Iterator[Part]:
    if isinstance(value, str):
        yield Part(path, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}.{i}")


def parts(template: Any) -> list[Part]:
    """Every piece of ``template`` that is Jinja, whatever its channel (the check
    reports pieces that do not belong to the channel)."""
    out = []
    if template.subject is not None:
        out.append(Part("subject", template.subject))
    if template.body:
        out.append(Part("body", template.body))
    if template.html is not None:
        out.append(Part("html", template.html, html=True))
    if template.zns is not None:
        out += [Part(f"zns.params.{k}", zns_source(v)) for k, v in template.zns.params.items()]
    if template.push is not None:
        out += [Part(f"push.{k}", getattr(template.push, k)) for k in ("title", "url", "icon")
                if getattr(template.push, k)]
    if template.webhook is not None:
        out += list(_leaves(template.webhook, "webhook"))
    return out


def strip_source(source: str) -> str:
    """A template's text without diacritics, done once at compile time; the URLs it
    holds keep their spelling (the link is tracked as written)."""
    pieces, last = [], 0
    for m in URL.finditer(source):
        pieces += [sms.strip_diacritics(source[last:m.start()]), m.group()]
        last = m.end()
    pieces.append(sms.strip_diacritics(source[last:]))
    return "".join(pieces)

