"""User-defined traits in the management API: list, define, delete, preview.

Everyone logged in reads them; admins and marketers, who build segments and
message templates on traits, define them. A saved definition is computed for
every profile at once, on the event writer's thread (DuckDB has one writer),
and the answer says how many profiles have a value. A preview computes an
unsaved definition on the request's own cursor, in a transaction that is
rolled back, so nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from sen.errors import ValidationError
from sen.traits import custom
from sen.web.auth import current_user, require_role
from sen.web.users import User

router = APIRouter(prefix="/api/traits", tags=["traits"])
# Who may define traits; reading them is for everyone logged in.
DEFINE_TRAITS = ("admin", "marketer")
Reader = Annotated[User, Depends(current_user)]
Definer = Annotated[User, Depends(require_role(*DEFINE_TRAITS))]
EXAMPLE = {"name": "ecco_revenue_365d", "label": "Doanh số ECCO 365 ngày",
           "source": "order_lines", "aggregate": "sum", "property": "amount",
           "filters": [{"property": "brand", "op": "=", "value": "ECCO"}], "window_days": 365}
DefinitionBody = Annotated[dict[str, Any], Body(examples=[EXAMPLE])]


class DefinitionOut(BaseModel):
    """A definition as stored, with the column its values are in and how many have one."""

    name: str
    result_type: Literal["number", "text"]
    profiles: int
    definition: dict[str, Any]

    @classmethod
    def of(cls, defn: custom.TraitDefinition, profiles: int) -> DefinitionOut:
        return cls(name=defn.name, result_type=defn.result_type, profiles=profiles,
                   definition=defn.model_dump(mode="json"))


class SampleOut(BaseModel):
    profile_id: str
    value: float | str


class PreviewOut(BaseModel):
    """What a definition would give now: profiles with a value and the highest values."""

    profiles: int
    result_type: Literal["number", "text"]
    as_of: datetime
    samples: list[SampleOut]


def engine_of(request: Request) -> Any:
    return request.app.state.analytics


def save_and_compute(request: Request, defn: custom.TraitDefinition, user: User) -> int:
    """Store a definition and compute it for everyone, on the writer thread; how many
    profiles have a value."""
    engine = engine_of(request)

    def run() -> int:
        custom.save(engine, defn, user.username)
        return custom.compute_one(engine, defn.name)

    return request.app.state.writer.run_exclusive(run)


def delete_definition(request: Request, name: str) -> None:
    engine = engine_of(request)
    request.app.state.writer.run_exclusive(lambda: custom.delete(engine, name))


def preview_of(request: Request, defn: custom.TraitDefinition) -> PreviewOut:
    shown = custom.preview(engine_of(request), defn)
    return PreviewOut(profiles=shown.profiles, result_type=defn.result_type,
                      as_of=shown.as_of,
                      samples=[SampleOut(profile_id=p, value=v) for p, v in shown.samples])


@router.get("/definitions", response_model=list[DefinitionOut])
def list_definitions(request: Request, _: Reader) -> list[DefinitionOut]:
    """Every user-defined trait, by name."""
    engine = engine_of(request)
    found = custom.counts(engine)
    return [DefinitionOut.of(d, found.get(d.name, 0)) for d in custom.definitions(engine)]


@router.get("/definitions/{name}", response_model=DefinitionOut)
def get_definition(name: str, request: Request, _: Reader) -> DefinitionOut:
    engine = engine_of(request)
    return DefinitionOut.of(custom.get(engine, name), custom.counts(engine).get(name, 0))


@router.put("/definitions/{name}", response_model=DefinitionOut)
def put_definition(name: str, body: DefinitionBody, request: Request,
                   user: Definer) -> DefinitionOut:
    """Create or replace a trait, then compute it for every profile. The body is the
    definition; its ``name`` may be left out (the address gives it)."""
    if body.get("name", name) != name:
        raise ValidationError(f"name: the body names {body['name']!r} but the address "
                              f"{name!r}; make them the same.", field="name", rule="match")
    defn = custom.parse({**body, "name": name})
    return DefinitionOut.of(defn, save_and_compute(request, defn, user))


@router.delete("/definitions/{name}", status_code=204)
def delete_trait(name: str, request: Request, _: Definer) -> Response:
    """Remove a trait and its values."""
    delete_definition(request, name)
    return Response(status_code=204)


@router.post("/definitions/preview", response_model=PreviewOut)
def preview(body: DefinitionBody, request: Request, _: Definer) -> PreviewOut:
    """Compute an unsaved definition without storing anything: how many profiles would
    have a value, and ten of them, highest first. ``name`` may be left out."""
    return preview_of(request, custom.parse({"name": "preview", **body}))
