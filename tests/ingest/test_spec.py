"""The event contract as pure functions: bytes in, rows or rejections out."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from sen.ingest.spec import (
    MAX_EVENT_BYTES,
    Envelope,
    Rejection,
    RequestRejected,
    corrected_timestamp,
    decode_batch,
    decode_event,
    decode_single,
    parse_utc,
)
from sen.store.schema import EVENT_COLUMNS

NOW = datetime(2026, 11, 24, 3, 0, 0)
ENV = Envelope("web", NOW)


def row(event: dict, **kw) -> dict:
    result = decode_event(orjson.dumps(event), ENV, **kw)
    assert not isinstance(result, Rejection), result
    return dict(zip(EVENT_COLUMNS, result, strict=True))


@pytest.mark.parametrize("text, expected", [
    ("2026-11-20T03:15:42.123Z", datetime(2026, 11, 20, 3, 15, 42, 123000)),
    ("2026-11-20T10:15:42+07:00", datetime(2026, 11, 20, 3, 15, 42)),
    ("2026-11-20T03:15:42", datetime(2026, 11, 20, 3, 15, 42)),
    ("2026-11-20", datetime(2026, 11, 20)),
])
def test_times_become_naive_utc(text, expected):
    assert parse_utc(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "20/11/2026", "2026-13-01T00:00:00Z", ""])
def test_bad_times_are_refused(text):
    with pytest.raises(ValueError):
        parse_utc(text)


def test_skew_correction_follows_segment():
    ts, sent = datetime(2030, 1, 1, 12, 0, 0), datetime(2030, 1, 1, 12, 0, 10)
    assert corrected_timestamp(ts, sent, NOW) == datetime(2026, 11, 24, 2, 59, 50)
    assert corrected_timestamp(ts, None, NOW) == ts
    assert corrected_timestamp(None, sent, NOW) == NOW


def test_unknown_top_level_keys_are_kept_in_extra():
    r = row({"type": "track", "event": "X", "userId": "u", "loyaltyTier": "gold",
             "integrations": {}})
    assert orjson.loads(r["extra"]) == {"loyaltyTier": "gold"}


def test_a_non_empty_integrations_is_kept_and_an_empty_one_is_not():
    assert row({"type": "track", "event": "X", "userId": "u", "integrations": {}})["extra"] is None
    kept = row({"type": "track", "event": "X", "userId": "u",
                "integrations": {"Zalo": False}})["extra"]
    assert orjson.loads(kept) == {"integrations": {"Zalo": False}}


def test_nested_objects_are_stored_as_the_client_sent_them():
    r = row({"type": "identify", "userId": "u",
             "traits": {"name": "Nguyễn Thị Lan", "tags": ["vip", 1]}})
    assert orjson.loads(r["traits"]) == {"name": "Nguyễn Thị Lan", "tags": ["vip", 1]}
    assert r["properties"] is None


def test_numeric_ids_become_text_and_blank_ids_none():
    r = row({"type": "track", "event": "X", "userId": 12345, "anonymousId": "  "})
    assert (r["user_id"], r["anonymous_id"]) == ("12345", None)


def test_the_endpoint_type_wins_over_the_body():
    r = decode_single(b'{"type": "page", "event": "X", "userId": "u"}', source="web",
                      received_at=NOW, forced_type="track")
    assert r[2] == "track"
    r = decode_single(b'{"event": "X", "userId": "u"}', source="web", received_at=NOW,
                      forced_type="track")
    assert r[2] == "track"


def test_missing_message_id_gets_a_generated_one():
    assert row({"type": "track", "event": "X", "userId": "u"})["message_id"].startswith("sen-")


def test_event_over_32_kb_is_refused_by_size():
    big = orjson.dumps({"type": "track", "event": "X", "userId": "u",
                        "properties": {"b": "x" * MAX_EVENT_BYTES}})
    result = decode_event(big, ENV)
    assert isinstance(result, Rejection) and result.rule == "max_event_size"


@pytest.mark.parametrize("body, rule", [
    (b"{nope", "invalid_json"),
    (b'{"events": []}', "batch_required"),
    (b'[1, 2]', "batch_required"),
])
def test_bodies_that_are_not_batches(body, rule):
    with pytest.raises(RequestRejected) as err:
        decode_batch(body, source="web", received_at=NOW)
    assert err.value.rejection.rule == rule


def test_batch_keeps_order_and_reports_each_bad_event():
    body = orjson.dumps({"batch": [
        {"type": "track", "event": "A", "userId": "u", "messageId": "1"},
        {"type": "track", "userId": "u", "messageId": "2"},
        {"type": "identify", "anonymousId": "a", "messageId": "3", "traits": {"x": 1}},
    ], "sentAt": "2026-11-24T02:59:59Z", "context": {"library": {"name": "lib"}}})
    results = decode_batch(body, source="web", received_at=NOW)
    assert [type(r).__name__ for r in results] == ["tuple", "Rejection", "tuple"]
    assert results[1].field == "event"
    assert orjson.loads(results[2][16]) == {"library": {"name": "lib"}}
    assert results[2][12] == datetime(2026, 11, 24, 2, 59, 59)


def test_unknown_keys_and_integrations_are_kept_together():
    r = row({"type": "track", "event": "X", "userId": "u", "loyaltyTier": "gold",
             "integrations": {"Zalo": False}})
    assert orjson.loads(r["extra"]) == {"loyaltyTier": "gold", "integrations": {"Zalo": False}}


@pytest.mark.parametrize("field", ["properties", "traits", "context"])
def test_each_object_field_is_named_when_it_is_not_an_object(field):
    result = decode_event(orjson.dumps({"type": "track", "event": "X", "userId": "u",
                                        field: [1, 2]}), ENV)
    assert isinstance(result, Rejection)
    assert (result.field, result.rule) == (field, "object_required")
