"""Traits in the management API: the field catalogue, exports, one profile's traits.

* ``GET /api/traits/fields``: every trait the segment builder can use, with
  what the data holds (ranges, commonest values); everyone logged in.
* ``GET /api/traits/export?fields=a,b&format=csv|xlsx``: every profile's id,
  name, phone and email with the chosen traits; admins, marketers and
  analysts. CSV streams as it is read (UTF-8 with a byte-order mark, so Excel
  shows Vietnamese); an Excel file is built first, then sent.
* ``GET /api/profiles/{id}/traits``: built-in traits, spend per year and
  month, user-defined traits. A merged-away id answers 307, as the 360 does.

An export's fields are checked against the catalogue before anything is
read; a field that is not there, or a format Sen does not write, answers
**422** naming it.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, create_model
from starlette.responses import JSONResponse, Response, StreamingResponse

from sen.errors import ValidationError
from sen.traits import fields as catalogue
from sen.traits.fields import FIELDS, ProfileTraits
from sen.web import customer360 as c360
from sen.web.auth import VIEW_PROFILES, current_user, require_role
from sen.web.error_handlers import error_body
from sen.web.profile_schemas import MergedInto
from sen.web.users import User

router = APIRouter(prefix="/api", tags=["traits"])
# Exports carry contact details in bulk: for those who build audiences and reports.
EXPORT_TRAITS = ("admin", "marketer", "analyst")
FORMATS = ("csv", "xlsx")
BATCH = 10_000
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header
MOVED = {307: {"model": MergedInto, "description": "The id was merged into another profile."}}


def _engine(request: Request) -> Any:
    return request.app.state.analytics


# -- answers ------------------------------------------------------------------------------

class ValueCount(BaseModel):
    value: Any
    count: int


class FieldOut(BaseModel):
    """One trait the segment builder and exports can use, with what the data holds."""

    name: str
    type: str = Field(description="number, integer, money (VND), text, date, boolean, list "
                      "or probability (0-1).")
    source: Literal["builtin", "custom", "period"]
    label: dict[str, str] = Field(description="By language: vi, en.")
    description: str
    values: list[Any] | None = Field(None, description="An enumeration's allowed values.")
    value_labels: dict[str, dict[str, str]] | None = None
    count: int = Field(description="Profiles with a value.")
    min: Any = None
    max: Any = None
    top: list[ValueCount] | None = Field(None, description="Commonest values, at most 20.")
    distinct: int | None = None
    true: int | None = Field(None, description="Profiles for which a boolean is true.")
    params: dict[str, Any] | None = Field(None, description="A parameterised field's "
                                          "parameters and their values.")
    periods: list[dict[str, Any]] | None = None


_PYTHON = {"integer": int, "money": int, "number": float, "probability": float, "text": str,
           "date": datetime, "boolean": bool, "list": list[str]}
BuiltinTraitsOut = create_model(  # one attribute per catalogue field, in table order
    "BuiltinTraitsOut",
    **{f.name: (_PYTHON[f.type] | None, Field(None, description=f.description))
       for f in FIELDS.values()},
)


class PeriodOut(BaseModel):
    period: str = Field(description="YYYY or YYYY-MM.")
    orders: int
    spend: int = Field(description="Integer VND.")


class CustomValueOut(BaseModel):
    name: str
    label: dict[str, str]
    type: Literal["number", "text"]
    value: float | str | None


class ProfileTraitsOut(BaseModel):
    """A profile's traits; ``computed`` is false until traits were first computed."""

    profile_id: str
    computed: bool
    as_of: datetime | None
    computed_at: datetime | None
    traits: BuiltinTraitsOut | None  # type: ignore[valid-type]
    spend_per_year: list[PeriodOut]
    spend_per_month: list[PeriodOut]
    custom: list[CustomValueOut]

    @classmethod
    def of(cls, t: ProfileTraits) -> ProfileTraitsOut:
        return cls(
            profile_id=t.profile_id, computed=t.computed, as_of=t.as_of,
            computed_at=t.computed_at,
            traits=BuiltinTraitsOut(**t.values) if t.values is not None else None,
            spend_per_year=[PeriodOut(**p) for p in t.years],
            spend_per_month=[PeriodOut(**p) for p in t.months],
            custom=[CustomValueOut(name=c["name"], type=c["type"], value=c["value"],
                                   label={"vi": c["label_vi"], "en": c["label_en"]})
                    for c in t.custom])


def unprocessable(exc: ValidationError) -> JSONResponse:
    """A query that parses but asks for what Sen does not have: 422, Sen's error shape."""
    return JSONResponse(error_body("ValidationError", exc.message, field=exc.field,
                                   rule=exc.rule), status_code=422)


# -- cells --------------------------------------------------------------------------------

def _text(value: Any) -> Any:
    """A value as an Excel cell: lists joined, moments in ISO form, the rest as is."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v is not None)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_chunks(batches: Any, header: list[str], con: Any) -> Iterator[bytes]:
    """The export as UTF-8 CSV with a BOM, one Arrow batch at a time; closes ``con``.

    The cells come formatted from SQL (:func:`sen.traits.fields.csv_sql`) and Arrow
    writes them, so a million rows take seconds rather than minutes of Python.
    """
    from pyarrow import csv as arrow_csv

    options = arrow_csv.WriteOptions(include_header=False, quoting_style="needed")
    try:
        head = io.StringIO()
        csv.writer(head, lineterminator="\n").writerow(header)
        yield ("\ufeff" + head.getvalue()).encode("utf-8")
        for batch in batches:
            out = io.BytesIO()
            arrow_csv.write_csv(batch, out, options)
            yield out.getvalue()
    finally:
        con.close()


def xlsx_file(result: Any, header: list[str]) -> Any:
    """The export as an Excel workbook in a (spooled) temporary file, at its start."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("traits")
    sheet.append(header)

    def cell(value: Any) -> Any:
        value = _text(value)
        if isinstance(value, str) and value.startswith("="):  # text, never a formula
            c = WriteOnlyCell(sheet, value=value)
            c.data_type = "s"
            return c
        return value

    written = 0
    while rows := result.fetchmany(BATCH):
        written += len(rows)
        if written > XLSX_MAX_ROWS:
            raise ValidationError(f"An Excel sheet holds at most {XLSX_MAX_ROWS:,} rows; "
                                  "this export has more. Ask for format=csv.",
                                  field="format", rule="too_many_rows")
        for row in rows:
            sheet.append([cell(v) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    book.save(out)
    out.seek(0)
    return out


def file_chunks(handle: Any, size: int = 1024 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()


# -- endpoints ----------------------------------------------------------------------------

@router.get("/traits/fields", response_model=list[FieldOut], response_model_exclude_none=True)
def get_fields(request: Request, _: Annotated[User, Depends(current_user)]) -> Any:
    """Every trait: built-in ones, ``spend_in_period`` with the periods there are, then
    the user-defined ones; with counts, ranges and the commonest values."""
    return catalogue.field_list(_engine(request))


@router.get("/traits/export", responses={
    200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                      "spreadsheetml.sheet": {}},
          "description": "profile_id, name, phone, email, then the fields asked for."},
    422: {"description": "An unknown field or format."}})
def export(request: Request, _: Annotated[User, Depends(require_role(*EXPORT_TRAITS))],
           fields: Annotated[str, Query(max_length=4000, description=(
               "Comma-separated trait names; spend_in_period:YYYY or :YYYY-MM for a "
               "period's spend."))] = "",
           format: Annotated[str, Query(max_length=10)] = "csv",
           segment: Annotated[str | None, Query(max_length=100, description=(
               "Only the members of this saved segment."))] = None,
           snapshot: Annotated[datetime | None, Query(description=(
               "With segment: its members at this run (run_at from "
               "GET /api/segments/{name}/snapshots) instead of now."))] = None) -> Response:
    """Every profile (or a segment's members, now or at a past run) with contact details
    and chosen traits."""
    engine = _engine(request)
    try:
        if format not in FORMATS:
            raise ValidationError(f"Unknown format {format!r}: use csv or xlsx.",
                                  field="format", rule="one_of")
        if snapshot is not None and segment is None:
            raise ValidationError("A snapshot belongs to a segment: give segment too.",
                                  field="snapshot")
        columns = catalogue.export_columns(fields.split(","),
                                           catalogue.custom_traits(engine.cursor()))
    except ValidationError as exc:
        return unprocessable(exc)
    header = catalogue.export_header(columns)
    safe = re.sub(r"[^a-z0-9_-]", "", segment or "")[:100]  # names only, in a header
    moment = snapshot or datetime.now()
    stamp = (f"{safe}-" if safe else "") + moment.strftime("%Y%m%d-%H%M")
    # Its own connection: the rows are read on whichever threads serve the response.
    con = engine.cursor().cursor()
    if format == "csv":
        try:
            sql, params = catalogue.csv_sql(columns, segment, snapshot)
            batches = con.sql(sql, params=params).to_arrow_reader(BATCH)
        except BaseException:
            con.close()
            raise
        return StreamingResponse(
            csv_chunks(batches, header, con), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="sen-traits-{stamp}.csv"'})
    try:
        handle = xlsx_file(con.execute(*catalogue.export_sql(columns, segment, snapshot)),
                           header)
    except ValidationError as exc:
        return unprocessable(exc)
    finally:
        con.close()
    return StreamingResponse(
        file_chunks(handle),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="sen-traits-{stamp}.xlsx"'})


def _moved(request: Request, asked: str, current: str) -> JSONResponse:
    path = request.url.path.replace(f"/profiles/{asked}", f"/profiles/{current}", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return JSONResponse(MergedInto(merged_into=current).model_dump(), status_code=307,
                        headers={"Location": path + query})


@router.get("/profiles/{profile_id}/traits", response_model=ProfileTraitsOut, responses=MOVED,
            dependencies=[Depends(require_role(*VIEW_PROFILES))])
def get_profile_traits(profile_id: str, request: Request) -> Any:
    """Built-in traits, spend per year and month, and user-defined traits of a profile."""
    current, traits = c360.traits(_engine(request), profile_id)
    if current != profile_id:
        return _moved(request, profile_id, current)
    return ProfileTraitsOut.of(traits)
