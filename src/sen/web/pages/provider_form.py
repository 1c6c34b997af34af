"""A provider account's form, generated from its kind's settings and secrets models.

Each kind (:data:`sen.messaging.providers.KINDS`) declares a pydantic model of
its settings and one of its secrets; the form has one input per field, typed
from the annotation (text, number, a tick box, a choice, one value a line, a
JSON object), labelled in Vietnamese where the catalogue has the field's name
and by the field's description otherwise. Secret inputs are never filled in:
left empty they keep what is stored.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic
from pydantic import BaseModel

from sen.messaging.providers import KINDS, ProviderKind
from sen.web import i18n
from sen.web.pages import forms


@dataclass
class Input:
    """One input of the form: ``part`` is ``config`` or ``secrets``."""

    part: str
    name: str
    kind: str  # text, number, checkbox, select, lines, json, secret
    label: str
    help: str
    required: bool
    options: list[str] = field(default_factory=list)
    step: str = "1"
    value: Any = ""

    @property
    def key(self) -> str:
        return f"{self.part}.{self.name}"


def _bare(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None``, and whether ``None`` was allowed."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return annotation, False


def _kind_of(annotation: Any, secret: bool) -> tuple[str, list[str], str]:
    bare, _ = _bare(annotation)
    origin = typing.get_origin(bare)
    if origin is Literal:
        return "select", [str(a) for a in typing.get_args(bare)], "1"
    if secret:
        return "secret", [], "1"
    if bare is bool:
        return "checkbox", [], "1"
    if bare is int:
        return "number", [], "1"
    if bare is float:
        return "number", [], "any"
    if origin is list or bare is list:
        return "lines", [], "1"
    if origin is dict or bare is dict:
        return "json", [], "1"
    return "text", [], "1"


def _shown(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "lines":
        return "\n".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, indent=1) if value else ""
    return value


def inputs(spec: ProviderKind, lang: str, config: dict[str, Any] | None = None,
           raw: dict[str, Any] | None = None) -> list[Input]:
    """The form's inputs, filled from stored ``config`` or from what was typed (``raw``)."""
    out = []
    for part, model in (("config", spec.config), ("secrets", spec.secrets)):
        for name, info in model.model_fields.items():
            kind, options, step = _kind_of(info.annotation, part == "secrets")
            label_key = f"provider.field.{name}"
            vi_label = i18n.MESSAGES.get(label_key)
            label = i18n.translate(lang, label_key) if vi_label else (info.description or name)
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            help_text = (info.description or "") if vi_label and lang == "en" else ""
            item = Input(part, name, kind, label, help_text, info.is_required(), options, step)
            if part == "secrets":
                item.value = ""
            elif raw is not None:
                item.value = raw.get(item.key, False if kind == "checkbox" else "")
            else:
                item.value = _shown((config or {}).get(name, default), kind)
            out.append(item)
    return out


def _typed(item: Input, text: str) -> Any:
    if item.kind == "number":
        try:
            return forms.decimal(text) if item.step == "any" else forms.whole_number(text)
        except ValueError:
            return text  # the model names it as not a number
    if item.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if item.kind == "json":
        return json.loads(text) if text.strip() else {}
    return text


def parse(spec: ProviderKind, form: dict[str, Any], stored_secrets: tuple[str, ...], lang: str
          ) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """``(config, secrets, problems)`` from a posted form. Empty optional inputs take the
    default; empty secrets keep the stored ones (they count as present when checking)."""
    config: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    found: dict[str, str] = {}
    for item in inputs(spec, lang):
        text = form.get(item.key)
        if item.kind == "checkbox":
            config[item.name] = text is not None
            continue
        text = (text or "").strip() if item.kind not in ("json", "lines") else (text or "")
        if item.part == "secrets":
            if text:
                secrets[item.name] = text
            continue
        if text == "" and item.kind != "json":
            continue
        try:
            config[item.name] = _typed(item, text)
        except ValueError:
            found[item.key] = i18n.translate(lang, "form.rule.json_object")
    found.update(_check(spec.config, config, "config.", lang))
    present = {**{k: "stored" for k in stored_secrets}, **secrets}
    found.update(_check(spec.secrets, present, "secrets.", lang))
    return config, secrets, found


def _check(model: type[BaseModel], data: dict[str, Any], prefix: str, lang: str
           ) -> dict[str, str]:
    try:
        model.model_validate(data)
    except pydantic.ValidationError as exc:
        return forms.problems(exc, lang, prefix)
    return {}


def kind_options(lang: str) -> list[tuple[str, str, str]]:
    """Every provider kind as ``(kind, title in lang, channel)``, by channel."""
    return sorted(((k, s.title[1] if lang == "en" else s.title[0], str(s.channel))
                   for k, s in KINDS.items()), key=lambda x: (x[2], x[1]))
