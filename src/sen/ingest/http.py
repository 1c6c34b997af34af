"""Segment-compatible HTTP API: ``POST /v1/identify|track|page|screen|alias|group|batch``.

Authentication is Segment's: HTTP Basic with the source's write key as the user
name and an empty password (or ``writeKey`` in the body). Bodies may be gzip.
Limits are Segment's: 32 KB per event, 500 KB per batch. A request is answered
only after its events are committed (see :mod:`sen.ingest.writer`).

Status codes: 200 when the events are stored (a batch with some bad events
still answers 200 and lists each rejected one with its field and rule); 400
for bad JSON or a request whose every event broke a rule; 401 for a missing or
unknown write key; 413 over a size limit; 503 if the store could not commit
(SDKs retry, and the messageId dedupe makes the retry safe).
"""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sen.ingest.spec import (
    EVENT_TYPES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Rejection,
    RequestRejected,
    decode_batch,
    decode_single,
    event_json_schema,
    utc_now,
)
from sen.ingest.writer import WriteResult

router = APIRouter(tags=["Segment-compatible event API"])

_OK = b'{"success":true}'


def _json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class _RequestRefused(Exception):
    def __init__(self, status: int, kind: str, message: str, **extra: Any) -> None:
        self.status, self.kind, self.message, self.extra = status, kind, message, extra
        super().__init__(message)

    def response(self) -> Response:
        body = {"success": False, "error": {"type": self.kind, "message": self.message,
                                            **self.extra}}
        return _json_response(body, self.status)


def _read_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The request body, un-gzipped, refusing anything over ``limit`` bytes."""
    if encoding and encoding.lower() == "gzip":
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise _RequestRefused(400, "invalid_gzip",  # noqa: B904 - shown to the client
                                  f"The body says Content-Encoding: gzip but is not gzip: {exc}.")
    if len(raw) > limit:
        raise _RequestRefused(
            413, "payload_too_large",
            f"The body is over {limit // 1024} KB, the limit for this call. "
            "Send fewer events per batch.", limit_bytes=limit)
    return raw


def _write_key(request: Request) -> str | None:
    """The write key from HTTP Basic (its user name), if the request has one."""
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            user = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user.split(":", 1)[0] or None
    return None


async def _read(request: Request, limit: int) -> bytes:
    return _read_body(await request.body(), request.headers.get("content-encoding"), limit)


def _source(request: Request, raw: bytes) -> str:
    key = _write_key(request)
    if key is None:  # browsers' analytics.js puts it in the body (no CORS preflight)
        key = _write_key_in_body(raw)
    if not key:
        raise _RequestRefused(
            401, "missing_write_key",
            "No write key. Send it as the HTTP Basic user name (empty password), "
            "as Segment's libraries do.")
    source = request.app.state.write_keys.resolve(key)
    if source is None:
        raise _RequestRefused(
            401, "unknown_write_key",
            "This write key is unknown or its source is disabled. Copy the key from "
            "Sen's Sources page.")
    return source


def _write_key_in_body(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


def _quarantine_row(received_at: datetime, source: str, position: int | None,
                    rejection: Rejection, payload: bytes) -> tuple:
    return (received_at, source, None, position, rejection.field, rejection.reason,
            payload.decode("utf-8", errors="replace"))


async def _store(request: Request, rows: list[tuple], rejects: list[tuple]) -> WriteResult:
    try:
        return await request.app.state.writer.write(rows, rejects)
    except Exception as exc:  # noqa: BLE001 - the client must retry; nothing was stored
        raise _RequestRefused(503, "store_unavailable",  # noqa: B904 - shown to the client
                              f"The events were not stored ({exc}); retry the same request.")


async def _refuse_body(request: Request, err: RequestRejected, raw: bytes, source: str,
                       received: datetime) -> None:
    """Quarantine a body that is not an event or a batch at all, and answer 400."""
    rej = err.rejection
    await _store(request, [], [_quarantine_row(received, source, None, rej, raw)])
    kind = "invalid_json" if rej.rule == "invalid_json" else "invalid_batch"
    raise _RequestRefused(400, kind, rej.message, field=rej.field, rule=rej.rule)


async def _handle_single(request: Request, kind: str) -> Response:
    raw = await _read(request, MAX_EVENT_BYTES)
    source = _source(request, raw)
    received = utc_now()
    try:
        result = decode_single(raw, source=source, received_at=received, forced_type=kind)
    except RequestRejected as err:
        await _refuse_body(request, err, raw, source, received)
    if isinstance(result, Rejection):
        await _store(request, [], [_quarantine_row(received, source, None, result, raw)])
        raise _RequestRefused(400, "invalid_event", result.reason, field=result.field,
                              rule=result.rule)
    await _store(request, [result], [])
    return Response(_OK, media_type="application/json")


async def _handle_batch(request: Request) -> Response:
    raw = await _read(request, MAX_BATCH_BYTES)
    source = _source(request, raw)
    received = utc_now()
    try:
        results = decode_batch(raw, source=source, received_at=received)
    except RequestRejected as err:
        await _refuse_body(request, err, raw, source, received)
    rows = [r for r in results if not isinstance(r, Rejection)]
    report: list[dict[str, Any]] = []
    rejects: list[tuple] = []
    if len(rows) < len(results):
        items = orjson.loads(raw).get("batch", [])
        for i, r in enumerate(results):
            if isinstance(r, Rejection):
                item = items[i]
                rejects.append(_quarantine_row(received, source, i, r, orjson.dumps(item)))
                mid = item.get("messageId") if isinstance(item, dict) else None
                report.append({"index": i, "messageId": mid, **r.as_dict()})
    outcome = await _store(request, rows, rejects)
    if not rows and rejects:
        raise _RequestRefused(400, "invalid_events", "Every event in the batch broke a rule.",
                              accepted=0, rejected=report)
    if not report:
        return Response(_OK, media_type="application/json")
    return _json_response({"success": True, "accepted": len(rows), "inserted": outcome.inserted,
                           "duplicates": outcome.duplicates, "rejected": report})


def _endpoint(kind: str):
    async def handler(request: Request) -> Response:
        try:
            return await _handle_single(request, kind)
        except _RequestRefused as refused:
            return refused.response()

    handler.__name__ = f"segment_{kind}"
    handler.__doc__ = (f"Record a Segment `{kind}` call. Auth: HTTP Basic, write key as user "
                       f"name. Max 32 KB.")
    return handler


def _documented_body(batch: bool) -> dict[str, Any]:
    """OpenAPI request bodies from the same struct that decodes events."""
    event = event_json_schema()["$defs"]["WireEvent"]
    schema = event if not batch else {
        "type": "object", "required": ["batch"],
        "properties": {"batch": {"type": "array", "items": event},
                       "context": {"type": "object"}, "sentAt": {"type": "string"}}}
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


for _kind in EVENT_TYPES:
    router.add_api_route(f"/v1/{_kind}", _endpoint(_kind), methods=["POST"],
                         name=f"segment_{_kind}", response_class=Response,
                         openapi_extra=_documented_body(batch=False))


@router.post("/v1/batch", response_class=Response, name="segment_batch",
             openapi_extra=_documented_body(batch=True))
@router.post("/v1/import", response_class=Response, name="segment_import",
             include_in_schema=False)
async def batch(request: Request) -> Response:
    """Record many events at once (Segment `batch`). Max 500 KB; each event max 32 KB."""
    try:
        return await _handle_batch(request)
    except _RequestRefused as refused:
        return refused.response()


HANDLERS: dict[str, Any] = {f"/v1/{kind}": _endpoint(kind) for kind in EVENT_TYPES}
HANDLERS["/v1/batch"] = HANDLERS["/v1/import"] = batch


class SegmentFastPath:
    """ASGI middleware: ``POST /v1/...`` straight to its handler.

    Event calls need none of the session, CSRF or dependency machinery the UI and
    management API go through; skipping it is worth several percent of a core at
    tens of thousands of events a second. The handlers are the ones the router
    registers (and documents), so behaviour is the same either way. ``on_request``
    is called with (route, status, seconds) for metrics, since the app's own
    middleware is skipped.
    """

    def __init__(self, app: Any, on_request: Any = None) -> None:
        self.app = app
        self.on_request = on_request

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = HANDLERS.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)
        if self.on_request is not None:
            self.on_request(scope["path"], response.status_code, time.perf_counter() - began)
