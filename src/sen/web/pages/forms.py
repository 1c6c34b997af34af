"""What the messaging pages share: problems in the marketer's language beside their
field, numbers typed the Vietnamese way, and page data for the small scripts.

A pydantic model says what is wrong in English with a machine ``type``; a page
shows the same problem in Vietnamese (or English) beside the input it is about,
so :func:`problems` turns each error into ``{field path: message}`` using the
error's type and context, never its English text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pydantic
from fastapi.encoders import jsonable_encoder
from markupsafe import Markup

from sen.web import i18n

GENERAL = "_"  # the key of a problem that belongs to no single field
_DIGITS = re.compile(r"[\s.,₫_]")
# pydantic's error types → the catalogue key of what to say (with its context).
_RULES = {
    "missing": "form.rule.missing", "string_too_short": "form.rule.missing",
    "string_too_long": "form.rule.too_long", "greater_than_equal": "form.rule.min",
    "greater_than": "form.rule.more_than", "less_than_equal": "form.rule.max",
    "int_parsing": "form.rule.number", "int_from_float": "form.rule.number",
    "float_parsing": "form.rule.number", "bool_parsing": "form.rule.invalid",
    "literal_error": "form.rule.one_of", "enum": "form.rule.one_of",
    "string_pattern_mismatch": "form.rule.pattern", "time_parsing": "form.rule.time",
    "datetime_parsing": "form.rule.datetime", "datetime_from_date_parsing": "form.rule.datetime",
    "too_short": "form.rule.missing", "too_long": "form.rule.too_many",
    "too_short_text": "form.rule.too_short", "dict_type": "form.rule.json_object",
    "list_type": "form.rule.invalid",
}


# Checks of Sen's own models (value errors) → what to say, found by their English words.
_CUSTOM = (("decree 91", "form.rule.decree91"), ("lower-case letters", "form.rule.pattern"),
           ("each channel may appear once", "form.rule.channel_once"))


def page_json(data: Any) -> Markup:
    """Data for a ``<script type="application/json">``: nothing in it can close the tag."""
    text = json.dumps(jsonable_encoder(data), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def path_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path")) or GENERAL


def rule_message(rule: str, ctx: dict[str, Any] | None, text: str, lang: str) -> str:
    """One problem in ``lang``: known rules in words, a custom check's own text else."""
    ctx = {k: int(v) if isinstance(v, float) and v.is_integer() else v
           for k, v in (ctx or {}).items()}
    if rule == "string_too_short" and int(ctx.get("min_length", 1)) > 1:
        rule = "too_short_text"
    key = _RULES.get(rule)
    if key is None:
        known = next((k for words, k in _CUSTOM if words in text), None)
        return i18n.translate(lang, known) if known else text.removeprefix("Value error, ")
    params = {k: ctx.get(k, "") for k in ("min_length", "max_length", "ge", "gt", "le",
                                           "expected")}
    return i18n.translate(lang, key, **params)


def problems(exc: pydantic.ValidationError, lang: str, prefix: str = "") -> dict[str, str]:
    """Every error of a pydantic model as ``{field path: message in lang}`` (first wins)."""
    out: dict[str, str] = {}
    for e in exc.errors():
        where = path_of(tuple(e.get("loc", ())))
        key = f"{prefix}{where}" if where != GENERAL else (prefix.rstrip(".") or GENERAL)
        out.setdefault(key, rule_message(e["type"], e.get("ctx"), e.get("msg", ""), lang))
    return out


def whole_number(raw: str | None) -> int | None:
    """``1.250.000``, ``1,250,000``, ``1250000 ₫`` → 1250000; empty → None."""
    text = _DIGITS.sub("", raw or "")
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(raw)
    return int(text)


def decimal(raw: str | None) -> float | None:
    """``2,5`` or ``2.5`` → 2.5; empty → None."""
    text = (raw or "").strip().replace(",", ".")
    return float(text) if text else None
