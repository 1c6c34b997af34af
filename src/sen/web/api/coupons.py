"""Coupon routes: redeeming and checking at the till, pools for marketers.

* ``POST /v1/coupons/redeem`` and ``GET /v1/coupons/{code}`` are for POS
  systems and shop back ends. They authenticate as ``/v1`` does, with a
  source's write key as the HTTP Basic user name; but only keys that stay on
  a server (sources of kind pos, server, marketplace, hotline, import): the
  keys of web, app and Zalo sources are published in pages and apps, and
  must not be able to burn customers' coupons. Answers: 200 redeemed (or
  already by this same order), 404 unknown code, 422 mistyped code, 409 used
  by another order (when, where: ``error.details``), 410 expired.
* ``/api/coupon-pools`` is for marketers (bearer token or session, like every
  ``/api`` route): create and list pools, upload a CSV of a retailer's codes.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sen.errors import AuthError, PermissionDeniedError, SenError, ValidationError
from sen.ingest.sources import get_source
from sen.messaging import coupons
from sen.messaging.events import utc_now
from sen.web.api.coupon_schemas import (
    CouponOut,
    PoolIn,
    PoolOut,
    RedeemIn,
    RedemptionOut,
    UploadOut,
)
from sen.web.auth import ops_engine, require_role

router = APIRouter(tags=["coupons"])

MANAGE_COUPONS = ("admin", "marketer")
VIEW_COUPONS = ("admin", "marketer", "analyst", "support")
PUBLIC_KEY_KINDS = frozenset({"web", "app", "zalo"})
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_HEADER_CELLS = frozenset({"code", "codes", "coupon", "coupon_code", "ma", "mã", "mã giảm giá"})

Ops = Annotated[sa.Engine, Depends(ops_engine)]

# The till's answers, most specific first.
_STATUS: tuple[tuple[type[SenError], int], ...] = (
    (coupons.CouponNotFoundError, 404),
    (coupons.CouponMistypedError, 422),
    (coupons.CouponAlreadyRedeemedError, 409),
    (coupons.CouponExpiredError, 410),
    (ValidationError, 422),
    (PermissionDeniedError, 403),
    (AuthError, 401),
)


def _refusal(exc: SenError) -> JSONResponse:
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
    body: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message,
                            "hint": exc.hint, "field": getattr(exc, "field", None),
                            "rule": getattr(exc, "rule", None)}
    if getattr(exc, "details", None):
        body["details"] = exc.details  # type: ignore[attr-defined]
    headers = {"WWW-Authenticate": 'Basic realm="Sen"'} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _write_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True).decode().split(":", 1)[0] or None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _till_source(request: Request) -> str:
    """The source a till call comes from; only keys kept on servers may redeem."""
    state = request.app.state
    name = state.write_keys.resolve(_write_key(request))
    if name is None:
        raise AuthError("No valid write key.", hint="Send the write key of the POS source as "
                        "the HTTP Basic user name (empty password), as Sen's /v1 API takes it.")
    source = get_source(state.ops, name)
    if source is None or source.kind in PUBLIC_KEY_KINDS:
        raise PermissionDeniedError(
            f"The key of source {name!r} is published in pages or apps and cannot redeem "
            "coupons.", hint="Use the key of a pos or server source (Sources page).")
    return name


def _as_utc(value: datetime | None, request: Request) -> datetime:
    if value is None:
        return utc_now()
    if value.tzinfo is None:
        settings = getattr(request.app.state, "settings", None)
        value = value.replace(tzinfo=settings.tz if settings is not None else UTC)
    return value.astimezone(UTC).replace(tzinfo=None)


def _tz(request: Request) -> Any:
    settings = getattr(request.app.state, "settings", None)
    return settings.tz if settings is not None else UTC


@router.post("/v1/coupons/redeem", response_model=RedemptionOut,
             responses={404: {}, 409: {}, 410: {}, 422: {}})
def redeem_coupon(body: RedeemIn, request: Request) -> Any:
    """Redeem a coupon for an order (idempotent for the same order)."""
    try:
        source = _till_source(request)
        done = coupons.redeem(request.app.state.ops, body.code, order_id=body.order_id,
                              store=body.store, channel=body.channel, source=source,
                              at=_as_utc(body.timestamp, request), tz=_tz(request))
    except SenError as exc:
        return _refusal(exc)
    return RedemptionOut.of(done)


@router.get("/v1/coupons/{code:path}", response_model=CouponOut, responses={404: {}, 422: {}})
def check_coupon(code: str, request: Request) -> Any:
    """A coupon's offer and state, to check at the till without redeeming it."""
    try:
        _till_source(request)
        return CouponOut.of(coupons.status_of(request.app.state.ops, code, now=utc_now()))
    except SenError as exc:
        return _refusal(exc)


def _pool_out(ops: sa.Engine, pool: coupons.Pool) -> PoolOut:
    return PoolOut.of(pool, coupons.pool_stats(ops, pool.name))


@router.post("/api/coupon-pools", response_model=PoolOut, status_code=201,
             dependencies=[Depends(require_role(*MANAGE_COUPONS))])
def post_pool(body: PoolIn, ops: Ops) -> PoolOut:
    """A new pool: ``generated`` makes its codes, ``imported`` takes uploaded ones."""
    pool = coupons.create_pool(ops, body.name, body.title, body.kind, prefix=body.prefix,
                               length=body.length, offer=body.offer,
                               valid_days=body.valid_days)
    return _pool_out(ops, pool)


@router.get("/api/coupon-pools", response_model=list[PoolOut],
            dependencies=[Depends(require_role(*VIEW_COUPONS))])
def get_pools(ops: Ops) -> list[PoolOut]:
    """Every pool with its counts of codes issued, redeemed, expired and left."""
    return [_pool_out(ops, p) for p in coupons.list_pools(ops)]


def codes_from_csv(data: bytes) -> list[str]:
    """The first column of a CSV (``,``, ``;`` or tab), without a header row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # codes are ASCII; other columns may not be UTF-8
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r and r[0].strip()]
    if rows and rows[0][0].strip().lower() in _HEADER_CELLS:
        rows = rows[1:]
    return [r[0] for r in rows]


@router.post("/api/coupon-pools/{name}/codes", response_model=UploadOut,
             dependencies=[Depends(require_role(*MANAGE_COUPONS))])
async def upload_codes(name: str, ops: Ops,
                       file: Annotated[UploadFile, File(description="CSV, codes in the first "
                                                        "column; a header row is skipped.")],
                       ) -> UploadOut:
    """Add a retailer's own codes to an imported pool; counts of added, duplicate and
    invalid codes."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(f"The file is over {MAX_UPLOAD_BYTES // 1024 // 1024} MB; split "
                              "it and upload the parts.", field="file", rule="max_size")
    counts = await run_in_threadpool(coupons.import_codes, ops, name, codes_from_csv(data))
    return UploadOut(added=counts.added, duplicates=counts.duplicates, invalid=counts.invalid)
