"""A customer's data on request (decree 13/2023) in the management API.

* ``GET /api/profiles/{id}/export?format=json|zip``: everything Sen holds about
  her, as a download (``zip``: the JSON document and one CSV per section, for
  Excel).
* ``POST /api/profiles/{id}/erase`` with ``{"confirm": "<the same id>"}``: her
  personal data removed from both stores; her orders stay as anonymous sales.

Admins and support agents only (``HANDLE_PRIVACY``). Both are recorded in
``privacy_requests`` with who asked. A merged-away id is followed: the answer
names the profile it was. The erasure's analytical half runs on the event
writer's thread, like every other write to the analytical store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from sen import privacy
from sen.errors import ValidationError
from sen.web.auth import HANDLE_PRIVACY, require_role
from sen.web.users import User

router = APIRouter(prefix="/api", tags=["privacy"])
Handler = Annotated[User, Depends(require_role(*HANDLE_PRIVACY))]
_MEDIA = {"json": "application/json", "zip": "application/zip"}


class EraseIn(BaseModel):
    """The erasure's confirmation: the profile id typed again."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    confirm: str = Field(description="The profile id of the URL, typed again: erasing "
                         "cannot be undone.", min_length=1, max_length=100)


class ErasureOut(BaseModel):
    """What an erasure removed, per store and table."""

    requested: str
    profile_id: str | None = Field(description="The profile erased (None when nothing "
                                   "was left of it).")
    records: int
    removed: dict[str, dict[str, int]]
    audience_links: list[str] = Field(description="Links whose ad-platform audience was "
                                      "sent her hashed identifiers: remove her there too.")
    already_erased: bool
    request_id: int
    done_at: datetime

    @classmethod
    def of(cls, e: privacy.Erasure) -> ErasureOut:
        return cls(requested=e.requested, profile_id=e.profile_id, records=e.records,
                   removed=e.removed, audience_links=list(e.audience_links),
                   already_erased=e.already_erased, request_id=e.request_id,
                   done_at=e.done_at)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@router.get("/profiles/{profile_id}/export",
            responses={200: {"content": {"application/json": {}, "application/zip": {}},
                             "description": "The customer's data as a download."}})
def get_export(profile_id: str, request: Request, user: Handler,
               format: Annotated[Literal["json", "zip"], Query()] = "json") -> Response:
    """Everything Sen holds about the customer, as one JSON document or a zip of CSVs."""
    state = request.app.state
    result = privacy.export(state.analytics, state.ops, profile_id, actor=user.username,
                            now=_now())
    body = result.to_json() if format == "json" else result.to_zip()
    name = f"sen-{result.profile_id}-{result.exported_at:%Y%m%d}.{format}"
    return Response(body, media_type=_MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/profiles/{profile_id}/erase", response_model=ErasureOut)
def post_erase(profile_id: str, body: EraseIn, request: Request, user: Handler) -> Any:
    """Erase the customer's personal data in both stores (her sales stay, anonymous)."""
    if body.confirm != profile_id:
        raise ValidationError(
            f"To erase {profile_id}, send confirm equal to that profile id; erasing cannot "
            "be undone.", field="confirm", rule="confirmation")
    state = request.app.state
    return ErasureOut.of(privacy.erase(state.analytics, state.ops, profile_id,
                                       actor=user.username, now=_now(),
                                       run=state.writer.run_exclusive))
