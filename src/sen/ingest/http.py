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
import zlib
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sen.ingest.spec import (
    EVENT_TYPES,
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    Rejection,
    utc_now,
    validate_event,
)

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
            raise _RequestRefused(400, "invalid_gzip",
                                  f"The body says Content-Encoding: gzip but is not gzip: {exc}.")
    if len(raw) > limit:
        raise _RequestRefused(
            413, "payload_too_large",
            f"The body is over {limit // 1024} KB, the limit for this call. "
            "Send fewer events per batch.", limit_bytes=limit)
    return raw


def _write_key(request: Request, body: Any) -> str | None:
    """The write key from HTTP Basic (user name) or, failing that, the body."""
    auth = request.headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            user = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user.split(":", 1)[0] or None
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        return body["writeKey"]
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _quarantine_row(received_at: datetime, source: str, position: int | None,
                    rejection: Rejection, payload: Any) -> tuple:
    text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return (received_at, source, None, position, rejection.field, rejection.reason,
            text[: MAX_BATCH_BYTES])


async def _decode(request: Request, limit: int) -> tuple[bytes, Any]:
    raw = _read_body(await request.body(), request.headers.get("content-encoding"), limit)
    try:
        return raw, orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return raw, exc


def _source(request: Request, body: Any) -> str:
    key = _write_key(request, body)
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


async def _store(request: Request, rows: list[tuple], rejects: list[tuple]):
    try:
        return await request.app.state.writer.write(rows, rejects)
    except Exception as exc:  # noqa: BLE001 - the client must retry; nothing was stored
        raise _RequestRefused(503, "store_unavailable",
                              f"The events were not stored ({exc}); retry the same request.")


async def _handle_single(request: Request, kind: str) -> Response:
    raw, body = await _decode(request, MAX_EVENT_BYTES)
    source = _source(request, body if isinstance(body, dict) else None)
    received = utc_now()
    if isinstance(body, orjson.JSONDecodeError):
        rej = Rejection(None, "invalid_json", f"The body is not valid JSON: {body}")
        await _store(request, [], [_quarantine_row(received, source, None, rej,
                                                   raw.decode(errors="replace"))])
        raise _RequestRefused(400, "invalid_json", rej.message)
    result = validate_event(body, source=source, received_at=received, forced_type=kind,
                            encoded_size=len(raw))
    if isinstance(result, Rejection):
        await _store(request, [], [_quarantine_row(received, source, None, result, body)])
        raise _RequestRefused(400, "invalid_event", result.reason, field=result.field,
                              rule=result.rule)
    await _store(request, [result], [])
    return Response(_OK, media_type="application/json")


async def _handle_batch(request: Request) -> Response:
    raw, body = await _decode(request, MAX_BATCH_BYTES)
    source = _source(request, body if isinstance(body, dict) else None)
    received = utc_now()
    if isinstance(body, orjson.JSONDecodeError) or not isinstance(body, dict) \
            or not isinstance(body.get("batch"), list):
        why = (f"The body is not valid JSON: {body}" if isinstance(body, orjson.JSONDecodeError)
               else "A batch must be a JSON object with a `batch` array of events.")
        rej = Rejection("batch", "batch_required", why)
        await _store(request, [], [_quarantine_row(received, source, None, rej,
                                                   raw.decode(errors="replace"))])
        raise _RequestRefused(400, "invalid_batch", why, field="batch")
    context = body.get("context") if isinstance(body.get("context"), dict) else None
    sent_at = _parse_time(body.get("sentAt"))
    rows: list[tuple] = []
    rejects: list[tuple] = []
    report: list[dict[str, Any]] = []
    for i, item in enumerate(body["batch"]):
        result = validate_event(item, source=source, received_at=received,
                                batch_context=context, batch_sent_at=sent_at)
        if isinstance(result, Rejection):
            rejects.append(_quarantine_row(received, source, i, result, item))
            mid = item.get("messageId") if isinstance(item, dict) else None
            report.append({"index": i, "messageId": mid, **result.as_dict()})
        else:
            rows.append(result)
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


for _kind in EVENT_TYPES:
    router.add_api_route(f"/v1/{_kind}", _endpoint(_kind), methods=["POST"],
                         name=f"segment_{_kind}", response_class=Response)


@router.post("/v1/batch", response_class=Response, name="segment_batch")
@router.post("/v1/import", response_class=Response, name="segment_import",
             include_in_schema=False)
async def batch(request: Request) -> Response:
    """Record many events at once (Segment `batch`). Max 500 KB; each event max 32 KB."""
    try:
        return await _handle_batch(request)
    except _RequestRefused as refused:
        return refused.response()
