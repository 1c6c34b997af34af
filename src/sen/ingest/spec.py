"""The event contract: Segment's spec, checked, turned into rows of the event log.

Events are decoded with msgspec straight from the request bytes into typed
structs; ``properties``, ``traits`` and ``context`` stay as the client's own
JSON text (:class:`msgspec.Raw`) and go into the log without being rebuilt as
Python objects. That is what lets one Python process check and store well over
50,000 events a second (pydantic took ~10 µs an event here, msgspec ~1.3 µs);
every other input to Sen is a pydantic model.

Everything here is pure: bytes in, :data:`EventRow` tuples or
:class:`Rejection` out. The HTTP API and file imports share it, so an event
means the same whichever way it arrives.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
import orjson

EVENT_TYPES = ("identify", "track", "page", "screen", "alias", "group")
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_LENGTH = 255

Id = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)] | int
Text = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]
Time = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_NULL = msgspec.Raw(b"null")


def _null() -> msgspec.Raw:
    return _NULL


class WireEvent(msgspec.Struct, forbid_unknown_fields=True):
    """One Segment-spec event as a client sends it.

    Unknown top-level keys are not refused: the decoder falls back to a slower
    path that keeps the event's whole text in the ``extra`` column.
    """

    type: Literal["identify", "track", "page", "screen", "alias", "group"]
    messageId: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)] | None = None
    userId: Id | None = None
    anonymousId: Id | None = None
    previousId: Id | None = None
    groupId: Id | None = None
    event: Text | None = None
    name: Text | None = None
    category: str | None = None
    timestamp: Time | None = None
    originalTimestamp: Time | None = None
    sentAt: Time | None = None
    receivedAt: str | None = None
    properties: msgspec.Raw = msgspec.field(default_factory=_null)
    traits: msgspec.Raw = msgspec.field(default_factory=_null)
    context: msgspec.Raw = msgspec.field(default_factory=_null)
    # Keys Segment's libraries send that Sen has no column for: kept only if not empty.
    integrations: msgspec.Raw = msgspec.field(default_factory=_null)
    writeKey: str | None = None
    channel: str | None = None
    version: Any = None
    _metadata: msgspec.Raw = msgspec.field(default_factory=_null, name="_metadata")


class _Batch(msgspec.Struct):
    batch: list[msgspec.Raw]
    context: msgspec.Raw = msgspec.field(default_factory=_null)
    sentAt: str | None = None
    writeKey: str | None = None


_KNOWN_KEYS = frozenset(f.encode_name for f in msgspec.structs.fields(WireEvent))
_event_decoder = msgspec.json.Decoder(WireEvent)
_batch_decoder = msgspec.json.Decoder(_Batch)
_dict_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one event was refused: the field (dotted path), the rule, and a sentence."""

    field: str | None
    rule: str
    message: str

    @property
    def reason(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


EventRow = tuple  # in the order of sen.store.schema.EVENT_COLUMNS


class RequestRejected(ValueError):
    """A whole body was refused (not JSON, not a batch); carries the Rejection."""

    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection
        super().__init__(rejection.reason)


def message_key(message_id: str) -> int:
    """The 64-bit dedupe key of a messageId.

    The first 8 bytes of its MD5, little-endian: DuckDB's
    ``md5_number_upper(message_id)`` computes the same, so bulk loads can
    dedupe inside the engine and the HTTP path in Python.
    """
    return int.from_bytes(hashlib.md5(message_id.encode()).digest()[:8], "little")


def parse_utc(text: str) -> datetime:
    """An ISO-8601 time as naive UTC; a time without a zone is read as UTC.

    Raises ``ValueError`` for anything else. The ``...Z`` form every Segment
    library sends takes the fast path.
    """
    if text[-1:] in ("Z", "z"):
        parsed = datetime.fromisoformat(text[:-1])
        if parsed.tzinfo is None:
            return parsed
    else:
        parsed = datetime.fromisoformat(text)
    offset = parsed.utcoffset()
    return parsed if offset is None else parsed.replace(tzinfo=None) - offset


def corrected_timestamp(
    timestamp: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When the event happened, corrected for the device's clock.

    As Segment does: ``timestamp = receivedAt - (sentAt - timestamp)`` when the
    client sent both, so a phone whose clock is an hour off still lands in the
    right hour. Without ``sentAt`` the client's timestamp is trusted; without
    either, the time it was received.
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp
    return received_at - (sent_at - timestamp)


def utc_now() -> datetime:
    """Now, as naive UTC (how the event log stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


# -- errors -----------------------------------------------------------------------
_PATH = re.compile(r" - at `\$(?:\[\d+\])?\.?([^`]*)`$")
_RULES = (
    ("Invalid enum value", "literal_error"),
    ("Object missing required field", "required"),
    ("of length >=", "string_too_short"),
    ("of length <=", "string_too_long"),
    ("Expected `", "type_error"),
    ("JSON is malformed", "invalid_json"),
    ("Input data was truncated", "invalid_json"),
)


def _from_msgspec(exc: msgspec.DecodeError) -> Rejection:
    text = str(exc)
    match = _PATH.search(text)
    field = match.group(1) if match and match.group(1) else None
    message = _PATH.sub("", text)
    if field is None and message.startswith("Object missing required field"):
        field = message.split("`")[1]
    rule = next((r for prefix, r in _RULES if prefix in message), "invalid")
    if field is None and rule == "type_error":
        return Rejection(None, "object_required", "an event must be a JSON object")
    if field == "type" and rule == "literal_error":
        message = "type must be one of " + ", ".join(EVENT_TYPES)
    return Rejection(field, rule, message)


def _rule(ev: WireEvent) -> Rejection | None:
    """The rules across fields that a type alone cannot say."""
    if ev.type == "alias":
        if not _present(ev.previousId):
            return Rejection("previousId", "required", "alias needs previousId (the old id)")
        if not _present(ev.userId):
            return Rejection("userId", "required", "alias needs userId (the new id)")
    elif not _present(ev.userId) and not _present(ev.anonymousId):
        return Rejection("userId", "identity_required",
                         "every event needs userId or anonymousId; send at least one")
    if ev.type == "track" and not (ev.event and ev.event.strip()):
        return Rejection("event", "required", "track needs the event name in `event`")
    if ev.type == "group" and not _present(ev.groupId):
        return Rejection("groupId", "required", "group needs groupId")
    return None


def _present(value: str | int | None) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def _id_text(value: str | int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return str(value)


# -- rows -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Envelope:
    """What every event of one request shares."""

    source: str
    received_at: datetime
    batch_context: bytes | None = None
    batch_sent_at: datetime | None = None
    load_id: str | None = None


def _time(ev: WireEvent, name: str) -> datetime | None:
    text = getattr(ev, name)
    if text is None:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        raise _TimeError(Rejection(
            name, "datetime_parsing",
            f"{text!r} is not an ISO-8601 time such as 2026-11-20T03:15:42.123Z")) from None


class _TimeError(ValueError):
    def __init__(self, rejection: Rejection) -> None:
        self.rejection = rejection


class _NotAnObject(ValueError):
    def __init__(self, field: str) -> None:
        self.field = field


def _json_bytes(raw: msgspec.Raw, field: str) -> bytes | None:
    """The client's own JSON text of an object field (UTF-8 bytes; Arrow checks them)."""
    if raw is _NULL:
        return None
    data = bytes(raw)
    if data[:1] == b"{":
        return data
    if data == b"null":
        return None
    raise _NotAnObject(field)


def _context(own: msgspec.Raw, batch_context: bytes | None) -> bytes | None:
    if not batch_context:
        return _json_bytes(own, "context")
    merged = orjson.loads(batch_context)
    mine = _json_bytes(own, "context")
    if mine is not None:
        merged.update(orjson.loads(mine))
    return orjson.dumps(merged)


def _extra(ev: WireEvent, unknown: dict[str, Any] | None) -> str | None:
    """Top-level keys without a column of their own, and a non-empty ``integrations``."""
    kept = dict(unknown or {})
    if ev.integrations is not _NULL and bytes(ev.integrations) not in (b"{}", b"null"):
        kept["integrations"] = orjson.loads(bytes(ev.integrations))
    return orjson.dumps(kept).decode() if kept else None


def _row(ev: WireEvent, env: Envelope, unknown: dict[str, Any] | None
         ) -> EventRow | Rejection:
    broken = _rule(ev)
    if broken is not None:
        return broken
    try:
        client_ts = _time(ev, "timestamp")
        if client_ts is None:
            client_ts = _time(ev, "originalTimestamp")
        sent_at = _time(ev, "sentAt") or env.batch_sent_at
    except _TimeError as err:
        return err.rejection
    try:
        properties = _json_bytes(ev.properties, "properties")
        traits = _json_bytes(ev.traits, "traits")
        context = _context(ev.context, env.batch_context)
    except _NotAnObject as err:
        return Rejection(err.field, "object_required", "must be a JSON object ({...})")
    message_id = ev.messageId or f"sen-{uuid.uuid4()}"
    return (
        message_id,
        None,  # message_key: the writer computes it for the whole batch at once
        ev.type,
        ev.event,
        ev.name,
        _id_text(ev.userId),
        _id_text(ev.anonymousId),
        _id_text(ev.previousId),
        _id_text(ev.groupId),
        env.source,
        corrected_timestamp(client_ts, sent_at, env.received_at),
        client_ts,
        sent_at,
        env.received_at,
        properties,
        traits,
        context,
        _extra(ev, unknown),
        env.load_id,
    )


def _decode_slow(raw: bytes | msgspec.Raw, forced_type: str | None
                 ) -> tuple[WireEvent, dict[str, Any] | None]:
    """For an event with keys Sen has no column for (kept in ``extra``), or whose
    single-event endpoint implies a type the body omits or contradicts."""
    fields = _dict_decoder.decode(raw)
    if forced_type is not None:
        fields["type"] = msgspec.Raw(_encode(forced_type))
    known = {k: v for k, v in fields.items() if k in _KNOWN_KEYS}
    unknown = {k: orjson.loads(bytes(v)) for k, v in fields.items() if k not in _KNOWN_KEYS}
    ev = _event_decoder.decode(_encode(known))
    return ev, (unknown or None)


def decode_event(raw: bytes | msgspec.Raw, env: Envelope, forced_type: str | None = None
                 ) -> EventRow | Rejection:
    """One event's JSON bytes → its event-log row, or why it was refused."""
    if len(raw) > MAX_EVENT_BYTES:
        return Rejection(None, "max_event_size",
                         f"the event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES} (32 KB)")
    try:
        try:
            ev = _event_decoder.decode(raw)
            unknown = None
            if forced_type is not None and ev.type != forced_type:
                ev = msgspec.structs.replace(ev, type=forced_type)
        except msgspec.ValidationError as exc:
            text = str(exc)
            if "unknown field" not in text and (forced_type is None or "`type`" not in text):
                raise
            ev, unknown = _decode_slow(raw, forced_type)
    except msgspec.DecodeError as exc:
        return _from_msgspec(exc)
    return _row(ev, env, unknown)


def decode_single(raw: bytes, *, source: str, received_at: datetime, forced_type: str,
                  load_id: str | None = None) -> EventRow | Rejection:
    """The body of ``/v1/<type>``: one event whose type the path gives."""
    try:
        _dict_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        if not isinstance(exc, msgspec.ValidationError):
            raise RequestRejected(Rejection(None, "invalid_json",
                                            f"The body is not valid JSON: {exc}")) from None
        raise RequestRejected(Rejection(None, "object_required",
                                        "The body must be one JSON object (an event).")) from None
    return decode_event(raw, Envelope(source, received_at, load_id=load_id), forced_type)


def decode_batch(raw: bytes, *, source: str, received_at: datetime,
                 load_id: str | None = None) -> list[EventRow | Rejection]:
    """The body of ``/v1/batch``: every event's row or rejection, in order.

    Raises :class:`RequestRejected` when the body itself is not a batch.
    """
    try:
        body = _batch_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise RequestRejected(Rejection(
            "batch", "batch_required",
            f"A batch must be a JSON object with a `batch` array of events ({exc}).")) from None
    except msgspec.DecodeError as exc:
        raise RequestRejected(Rejection(None, "invalid_json",
                                        f"The body is not valid JSON: {exc}")) from None
    sent_at = None
    if body.sentAt:
        try:
            sent_at = parse_utc(body.sentAt)
        except ValueError:
            sent_at = None
    ctx = bytes(body.context) if body.context is not _NULL else None
    if ctx is not None and not ctx.startswith(b"{"):
        ctx = None
    env = Envelope(source, received_at, ctx, sent_at, load_id)
    return [decode_event(item, env) for item in body.batch]


def validate_event(raw: Any, *, source: str, received_at: datetime,
                   load_id: str | None = None) -> EventRow | Rejection:
    """:func:`decode_event` for an event already decoded to Python (files, tests)."""
    if not isinstance(raw, dict):
        return Rejection(None, "object_required", "an event must be a JSON object")
    return decode_event(orjson.dumps(raw), Envelope(source, received_at, load_id=load_id))


def event_json_schema() -> dict[str, Any]:
    """JSON Schema of one event, for the OpenAPI documentation."""
    return msgspec.json.schema(WireEvent)


__all__ = [
    "EVENT_TYPES", "MAX_BATCH_BYTES", "MAX_EVENT_BYTES", "MAX_ID_LENGTH", "Envelope",
    "EventRow", "Rejection", "RequestRejected", "WireEvent", "corrected_timestamp",
    "decode_batch", "decode_event", "decode_single", "event_json_schema", "message_key",
    "parse_utc", "utc_now", "validate_event",
]
