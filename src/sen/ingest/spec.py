"""The event contract: Segment's spec, validated, turned into rows of the event log.

:func:`validate_event` is pure: a decoded JSON value in, an :class:`EventRow` or
a :class:`Rejection` out. Both the HTTP API and file imports use it, so an event
means the same thing whichever way it arrives.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

EVENT_TYPES = ("identify", "track", "page", "screen", "alias", "group")
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_ID_LENGTH = 255
# Fields of the spec that have columns of their own; anything else goes to `extra`.
_KNOWN = frozenset({
    "type", "messageId", "event", "name", "userId", "anonymousId", "previousId", "groupId",
    "timestamp", "originalTimestamp", "sentAt", "receivedAt", "properties", "traits",
    "context", "writeKey", "category",
})

Identifier = str | int


class EventIn(BaseModel):
    """One Segment-spec event as a client sends it."""

    model_config = ConfigDict(extra="allow", strict=False)

    type: Literal["identify", "track", "page", "screen", "alias", "group"]
    messageId: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    userId: Identifier | None = None
    anonymousId: Identifier | None = None
    previousId: Identifier | None = None
    groupId: Identifier | None = None
    event: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    name: str | None = Field(default=None, max_length=MAX_ID_LENGTH)
    category: str | None = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None
    sentAt: datetime | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None

    @field_validator("userId", "anonymousId", "previousId", "groupId")
    @classmethod
    def _ids_as_text(cls, value: Identifier | None) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        if not text:
            return None
        if len(text) > MAX_ID_LENGTH:
            raise ValueError(f"must be at most {MAX_ID_LENGTH} characters")
        return text

    @model_validator(mode="after")
    def _spec_rules(self) -> EventIn:
        if self.type == "alias":
            if not self.previousId:
                raise _rule("previousId", "required", "alias needs previousId (the old id)")
            if not self.userId:
                raise _rule("userId", "required", "alias needs userId (the new id)")
        elif not self.userId and not self.anonymousId:
            raise _rule("userId", "identity_required",
                        "every event needs userId or anonymousId; send at least one")
        if self.type == "track" and not (self.event and self.event.strip()):
            raise _rule("event", "required", "track needs the event name in `event`")
        if self.type == "group" and not self.groupId:
            raise _rule("groupId", "required", "group needs groupId")
        return self


class _RuleBroken(ValueError):
    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field, self.rule = field, rule
        super().__init__(message)


def _rule(field: str, rule: str, message: str) -> _RuleBroken:
    return _RuleBroken(field, rule, message)


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


def message_key(message_id: str) -> int:
    """The 64-bit dedupe key of a messageId.

    The first 8 bytes of its MD5, little-endian: DuckDB's
    ``md5_number_upper(message_id)`` computes the same, so bulk loads can
    dedupe inside the engine and the HTTP path in Python.
    """
    return int.from_bytes(hashlib.md5(message_id.encode()).digest()[:8], "little")


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # the spec says ISO-8601 with zone; a bare one is read as UTC
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


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


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _merge_context(batch_context: dict[str, Any] | None, own: dict[str, Any] | None):
    if not batch_context:
        return own
    return {**batch_context, **(own or {})}


def _from_pydantic(exc: PydanticValidationError) -> Rejection:
    err = exc.errors(include_url=False)[0]
    ctx = err.get("ctx") or {}
    broken = ctx.get("error")
    if isinstance(broken, _RuleBroken):
        return Rejection(broken.field, broken.rule, str(broken))
    field = ".".join(str(p) for p in err["loc"]) or None
    return Rejection(field, err["type"], err["msg"])


def validate_event(
    raw: Any,
    *,
    source: str,
    received_at: datetime,
    forced_type: str | None = None,
    batch_context: dict[str, Any] | None = None,
    batch_sent_at: datetime | None = None,
    load_id: str | None = None,
    encoded_size: int | None = None,
) -> EventRow | Rejection:
    """Check one decoded event against the spec and return its event-log row.

    ``received_at`` is naive UTC. ``forced_type`` is the type implied by a
    single-event endpoint (``/v1/track``). ``encoded_size`` is the event's size
    in bytes when the caller knows it; otherwise it is measured.
    """
    if not isinstance(raw, dict):
        return Rejection(None, "object_required", "an event must be a JSON object")
    if forced_type is not None:
        raw = {**raw, "type": forced_type}
    size = encoded_size if encoded_size is not None else len(orjson.dumps(raw))
    if size > MAX_EVENT_BYTES:
        return Rejection(None, "max_event_size",
                         f"the event is {size} bytes; the limit is {MAX_EVENT_BYTES} (32 KB)")
    try:
        ev = EventIn.model_validate(raw)
    except PydanticValidationError as exc:
        return _from_pydantic(exc)
    client_ts = _naive_utc(ev.timestamp or ev.originalTimestamp)
    sent_at = _naive_utc(ev.sentAt) or _naive_utc(batch_sent_at)
    extra = {k: v for k, v in (ev.model_extra or {}).items() if k not in _KNOWN}
    if ev.category is not None:
        extra["category"] = ev.category
    message_id = ev.messageId or f"sen-{uuid.uuid4()}"
    return (
        message_id,
        message_key(message_id),
        ev.type,
        ev.event,
        ev.name,
        ev.userId,
        ev.anonymousId,
        ev.previousId,
        ev.groupId,
        source,
        corrected_timestamp(client_ts, sent_at, received_at),
        client_ts,
        sent_at,
        received_at,
        _json(ev.properties),
        _json(ev.traits),
        _json(_merge_context(batch_context, ev.context)),
        _json(extra) if extra else None,
        load_id,
    )


def utc_now() -> datetime:
    """Now, as naive UTC (how the event log stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


__all__ = [
    "EVENT_TYPES", "MAX_BATCH_BYTES", "MAX_EVENT_BYTES", "EventIn", "EventRow", "Rejection",
    "corrected_timestamp", "message_key", "timedelta", "utc_now", "validate_event",
]
