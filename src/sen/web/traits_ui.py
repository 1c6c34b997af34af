"""The traits page: built-in and user-defined traits, and a form to define one.

Same rules as :mod:`sen.web.ui`: server-rendered forms, no JavaScript, CSRF on
every POST (checked by ``current_user``). The form is the definition spelt out
in fields (a fixed number of filter rows, values typed as text); it turns into
the same definition the API takes, so its checks and messages are the same.
**Xem trước / Preview** shows what the definition would give without saving it;
**Lưu và tính / Save** stores and computes it, then redirects (POST, redirect,
GET) with what it did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from sen.errors import ValidationError
from sen.traits import custom
from sen.web import i18n
from sen.web.auth import current_user, require_role
from sen.web.traits_api import DEFINE_TRAITS, delete_definition, preview_of, save_and_compute
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
Viewer = Annotated[User, Depends(current_user)]
Definer = Annotated[User, Depends(require_role(*DEFINE_TRAITS))]
FLASH = "flash"
FILTER_ROWS = 3
# Built-in columns that are bookkeeping rather than traits.
SHOWN_BUILTINS = tuple(n for n in custom.BUILTIN_NAMES
                       if n not in ("profile_id", "as_of", "computed_at"))
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    return float(text) if "." in text else int(text)


def _scalar(source: str, prop: str, op: str, text: str) -> Any:
    """A value typed in the form, as the definition wants it: a number where the
    property (or the operator) takes one, true/false for event flags, else text."""
    kind = custom.COLUMNS.get(source, {}).get(prop)
    number = _number(text)
    if number is not None and (kind == custom.NUMBER or op in ("<", "<=", ">", ">=")
                               or (source == "events" and kind is None)):
        return number
    if source == "events" and text in ("true", "false"):
        return text == "true"
    return text


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass
class TraitForm:
    """The form's fields as typed, so a refused form comes back as it was sent."""

    name: str = ""
    label: str = ""
    description: str = ""
    source: str = "order_lines"
    event: str = ""
    aggregate: str = "sum"
    prop: str = ""
    filters: list[tuple[str, str, str]] = field(default_factory=list)
    window_days: str = ""
    since: str = ""
    until: str = ""
    statuses: list[str] = field(default_factory=lambda: ["completed"])

    @property
    def filter_rows(self) -> list[tuple[str, str, str]]:
        return self.filters + [("", "=", "")] * max(FILTER_ROWS - len(self.filters), 1)

    @classmethod
    def of(cls, d: custom.TraitDefinition) -> TraitForm:
        return cls(name=d.name, label=d.label, description=d.description, source=d.source,
                   event=d.event or "", aggregate=d.aggregate, prop=d.property or "",
                   filters=[(f.property, f.op, _shown(f.value)) for f in d.filters],
                   window_days=_shown(d.window_days), since=_shown(d.since),
                   until=_shown(d.until), statuses=d.order_statuses)

    def definition(self) -> dict[str, Any]:
        """The definition the form describes; fields that do not apply are left out."""
        data: dict[str, Any] = {"name": self.name.strip(), "label": self.label.strip(),
                                "description": self.description.strip(),
                                "source": self.source, "aggregate": self.aggregate}
        if self.source == "events":
            data["event"] = self.event.strip() or None
        else:
            data["statuses"] = self.statuses
        if self.aggregate != "count" and self.prop.strip():
            data["property"] = self.prop.strip()
        data["filters"] = [self._filter(p.strip(), op, v.strip())
                           for p, op, v in self.filters if p.strip()]
        if self.window_days.strip():
            days = _number(self.window_days.strip())
            if not isinstance(days, int):
                raise ValidationError("window_days: write a whole number of days, e.g. 365.",
                                      field="window_days", rule="number")
            data["window_days"] = days
        for key in ("since", "until"):
            text = getattr(self, key).strip()
            if text:
                data[key] = self._day(key, text)
        return data

    def _filter(self, prop: str, op: str, text: str) -> dict[str, Any]:
        if op in ("is_set", "is_not_set"):
            return {"property": prop, "op": op}
        if op in ("in", "not_in"):
            value: Any = [_scalar(self.source, prop, op, part.strip())
                          for part in text.split(",") if part.strip()]
        else:
            value = _scalar(self.source, prop, op, text)
        return {"property": prop, "op": op, "value": value}

    @staticmethod
    def _day(key: str, text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{key}: {text!r} is not a date; write it as 2026-01-31.",
                                  field=key, rule="date") from None


def _value_text(value: Any, lang: str) -> str:
    if isinstance(value, float):
        return (i18n.format_number(int(value), lang) if value.is_integer()
                else i18n.format_decimal(value, lang, 2))
    return str(value)


def _page(request: Request, user: User, form: TraitForm, *, error: str | None = None,
          shown: Any = None) -> Response:
    engine = request.app.state.analytics
    lang = locale_of(request, user)
    return render(request, "traits.html", {
        "builtins": SHOWN_BUILTINS, "definitions": custom.definitions(engine),
        "counts": custom.counts(engine), "form": form, "error": error, "preview": shown,
        "flash": request.session.pop(FLASH, None), "can_define": user.role in DEFINE_TRAITS,
        "sources": custom.SOURCES, "aggregates": custom.AGGREGATES, "ops": custom.OPS,
        "statuses": custom.STATUSES, "columns": custom.COLUMNS,
        "value_text": lambda v: _value_text(v, lang), "filter_value": _shown,
    }, user=user, status_code=400 if error else 200)


@router.get("/traits")
def traits_page(request: Request, user: Viewer, edit: str = "") -> Response:
    """Every trait; ``?edit=name`` fills the form with a stored definition."""
    form = TraitForm.of(custom.get(request.app.state.analytics, edit)) if edit else TraitForm()
    return _page(request, user, form)


@router.post("/traits")
def traits_define(request: Request, user: Definer, name: FormText = "", label: FormText = "",
                  description: FormText = "", source: FormText = "order_lines",
                  event: FormText = "", aggregate: FormText = "sum", property: FormText = "",
                  filter_property: FormList = [], filter_op: FormList = [],  # noqa: B006
                  filter_value: FormList = [], window_days: FormText = "",  # noqa: B006
                  since: FormText = "", until: FormText = "",
                  statuses: FormList = [], action: FormText = "save") -> Response:  # noqa: B006
    form = TraitForm(name=name, label=label, description=description, source=source,
                     event=event, aggregate=aggregate, prop=property,
                     filters=list(zip(filter_property, filter_op, filter_value, strict=False)),
                     window_days=window_days, since=since, until=until, statuses=statuses)
    try:
        defn = custom.parse(form.definition())
        if action == "preview":
            return _page(request, user, form, shown=preview_of(request, defn))
        profiles = save_and_compute(request, defn, user)
    except ValidationError as exc:
        return _page(request, user, form, error=exc.message)
    request.session[FLASH] = {"key": "traits.saved", "params": {"name": defn.name,
                                                                 "n": profiles}}
    return RedirectResponse("/traits", status_code=303)


@router.post("/traits/{name}/delete")
def traits_delete(request: Request, name: str, user: Definer) -> Response:
    delete_definition(request, name)
    request.session[FLASH] = {"key": "traits.deleted", "params": {"name": name}}
    return RedirectResponse("/traits", status_code=303)
