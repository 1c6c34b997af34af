"""``/api/templates``: message templates, their checks, and previews for a real customer.

A save that breaks a rule answers 400 with every problem, each naming the part
of the template it is about and saying what to do in both languages, so the
editor shows them beside the field. ``POST /api/templates/preview`` renders a
draft (saved or not) for a chosen customer, with the SMS counter and cost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from sen.messaging import checks, context, preview, templates
from sen.messaging.templates import Template, TemplateProblems
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.users import User

router = APIRouter(prefix="/api/templates", tags=["templates"])
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Writer = Annotated[User, Depends(require_role("admin", "marketer"))]


class ProblemOut(BaseModel):
    field: str
    rule: str
    severity: str
    message: dict[str, str]


class SavedOut(BaseModel):
    template: Template
    warnings: list[ProblemOut]
    changed: bool


class FieldOut(BaseModel):
    name: str
    type: str
    can_be_empty: bool
    label: dict[str, str]
    example: Any = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: Template
    profile_id: str = Field(min_length=1)
    price_per_part: int | None = Field(None, ge=0, le=100_000)


class SmsVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    text: str
    encoding: str
    units: int
    parts: int
    per_part: int
    cost: int | None


class PreviewOut(BaseModel):
    profile_id: str
    body: str
    subject: str | None
    html: str | None
    data: dict[str, Any]
    links: list[str]
    sms: dict[str, SmsVersionOut] | None
    sends: str | None
    examples: dict[str, dict[str, str]]
    problems: list[ProblemOut]


def _problems(items: list[checks.Problem]) -> list[ProblemOut]:
    return [ProblemOut(**p.as_dict()) for p in items]


def _fields(request: Request) -> list[context.Field]:
    return context.fields(request.app.state.analytics)


@router.get("", response_model=list[Template])
def list_templates(request: Request, user: Reader, channel: str | None = Query(None),
                   archived: bool = False) -> list[Template]:
    """Templates by name (``archived=true`` includes archived ones)."""
    return templates.list_templates(request.app.state.ops, channel=channel, archived=archived)


@router.get("/fields", response_model=list[FieldOut])
def get_fields(request: Request, user: Reader) -> list[FieldOut]:
    """The customer fields a template may use, with labels and whether they can be empty."""
    return [FieldOut(name=f.name, type=f.type, can_be_empty=f.can_be_empty,
                     label={"vi": f.label_vi, "en": f.label_en}, example=f.example)
            for f in _fields(request)]


@router.get("/{name}", response_model=Template,
            responses={404: {"description": "No such template"}})
def get_template(name: str, request: Request, user: Reader) -> Template:
    return templates.get(request.app.state.ops, name)


@router.put("/{name}", response_model=SavedOut,
            responses={400: {"description": "The template breaks a rule; every problem listed"},
                       409: {"description": "Someone saved a newer version"}})
def put_template(name: str, body: Template, request: Request, user: Writer) -> Any:
    """Create or change a template; it is checked first (unknown fields, missing
    fallbacks, links that cannot be tracked, decree 91 marks…)."""
    template = body.model_copy(update={"name": name})
    try:
        saved = templates.save(request.app.state.ops, template, fields=_fields(request),
                               actor=user.username)
    except TemplateProblems as exc:
        return JSONResponse(status_code=400, content={"error": {
            "type": "TemplateProblems", "message": exc.message, "hint": None,
            "field": exc.field, "rule": exc.rule,
            "problems": [p.as_dict() for p in exc.problems]}})
    return SavedOut(template=saved.template, warnings=_problems(saved.problems),
                    changed=saved.changed)


@router.post("/check", response_model=list[ProblemOut])
def post_check(body: Template, request: Request, user: Reader) -> list[ProblemOut]:
    """What saving this template would say, without saving it."""
    return _problems(checks.check(body, _fields(request)))


@router.post("/preview", response_model=PreviewOut,
             responses={404: {"description": "No such customer"}})
def post_preview(body: PreviewIn, request: Request, user: Reader) -> PreviewOut:
    """The draft rendered for a real customer (links and coupon are marked examples)."""
    app = request.app
    p = preview.preview(app.state.analytics, app.state.ops, body.template, body.profile_id,
                        price_per_part=body.price_per_part,
                        timezone=app.state.settings.timezone)
    r = p.rendered
    return PreviewOut(
        profile_id=p.profile_id, body=r.body, subject=r.subject, html=r.html, data=r.data,
        links=r.links, sends=p.sends,
        sms={k: SmsVersionOut.model_validate(v) for k, v in p.sms.items()} if p.sms else None,
        examples={k: {"vi": v[0], "en": v[1]} for k, v in p.examples.items()},
        problems=_problems(checks.check(body.template, _fields(request))))


@router.post("/{name}/archive", response_model=Template)
def post_archive(name: str, request: Request, user: Writer) -> Template:
    """Keep it out of new campaigns (messages already queued still go)."""
    return templates.archive(request.app.state.ops, name)


@router.post("/{name}/restore", response_model=Template)
def post_restore(name: str, request: Request, user: Writer) -> Template:
    return templates.restore(request.app.state.ops, name)
