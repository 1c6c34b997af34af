"""The Segment-compatible /v1 API, end to end through real stores."""

from __future__ import annotations

import gzip
from datetime import datetime

import orjson
import pytest

from sen.ingest.spec import MAX_BATCH_BYTES, MAX_EVENT_BYTES

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _event(kind: str, n: int = 0, **extra) -> dict:
    base = {"messageId": f"m-{kind}-{n}", "userId": f"u{n}",
            "timestamp": "2026-11-20T03:00:00Z"}
    return {**base, **extra}


async def test_each_call_type_is_stored_with_its_fields(stack):
    calls = {
        "identify": _event("identify", traits={"name": "Nguyễn Thị Lan", "phone": "0912345678"}),
        "track": _event("track", event="Product Viewed",
                        properties={"sku": "SA-01", "price": 1250000}),
        "page": _event("page", name="Trang chủ", properties={"path": "/"}),
        "screen": _event("screen", name="Giỏ hàng"),
        "alias": {"messageId": "m-alias-0", "previousId": "anon-1", "userId": "u0"},
        "group": _event("group", groupId="vip-club", traits={"tier": "gold"}),
    }
    async with stack.client(stack.web.write_key) as client:
        for kind, body in calls.items():
            r = await client.post(f"/v1/{kind}", json=body)
            assert r.status_code == 200, r.text
            assert r.json() == {"success": True}
    rows = {r[0]: r for r in stack.rows(
        "SELECT type, event, name, user_id, previous_id, group_id, source, "
        "properties->>'$.price', traits->>'$.name' FROM events")}
    assert set(rows) == set(calls)
    assert rows["track"][1] == "Product Viewed" and rows["track"][7] == "1250000"
    assert rows["identify"][8] == "Nguyễn Thị Lan"
    assert rows["page"][2] == "Trang chủ"
    assert rows["alias"][4] == "anon-1" and rows["alias"][3] == "u0"
    assert rows["group"][5] == "vip-club"
    assert {r[6] for r in rows.values()} == {"web"}


async def test_same_message_id_twice_is_stored_once(stack):
    body = _event("track", event="Order Completed", properties={"order_id": "O1", "total": 100})
    async with stack.client(stack.web.write_key) as client:
        for _ in range(3):
            assert (await client.post("/v1/track", json=body)).status_code == 200
        r = await client.post("/v1/batch", json={"batch": [{**body, "type": "track"}] * 2})
        assert r.status_code == 200
    assert stack.rows("SELECT count(*) FROM events") == [(1,)]


async def test_dedupe_survives_a_restart_of_the_writer(stack):
    body = _event("track", event="Cart Viewed")
    async with stack.client(stack.web.write_key) as client:
        await client.post("/v1/track", json=body)
    stack.writer.stop()
    stack.writer.start()  # reloads the stored keys from the log
    async with stack.client(stack.web.write_key) as client:
        await client.post("/v1/track", json=body)
    assert stack.rows("SELECT count(*) FROM events") == [(1,)]


async def test_gzip_body_is_accepted(stack):
    payload = gzip.compress(orjson.dumps({"batch": [
        {**_event("track", i, event="Product Added"), "type": "track"} for i in range(5)]}))
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", content=payload,
                              headers={"Content-Encoding": "gzip",
                                       "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert stack.rows("SELECT count(*) FROM events") == [(5,)]


async def test_sent_at_corrects_a_skewed_device_clock(stack):
    # The phone's clock is 2 hours fast: it stamped the event 10 s before it sent it.
    body = _event("track", event="App Opened", timestamp="2030-01-01T12:00:00Z",
                  sentAt="2030-01-01T12:00:10Z")
    before = datetime.utcnow()
    async with stack.client(stack.web.write_key) as client:
        assert (await client.post("/v1/track", json=body)).status_code == 200
    after = datetime.utcnow()
    ts, original, received = stack.rows(
        "SELECT timestamp, original_timestamp, received_at FROM events")[0]
    assert original == datetime(2030, 1, 1, 12, 0, 0)
    assert (received - ts).total_seconds() == pytest.approx(10, abs=1e-3)
    assert before <= received <= after


async def test_batch_context_and_sent_at_apply_to_every_event(stack):
    body = {"batch": [{**_event("track", i, event="Product Viewed"), "type": "track",
                       "context": {"page": {"path": f"/p/{i}"}}} for i in range(3)],
            "context": {"library": {"name": "analytics-python"}},
            "sentAt": "2026-11-20T03:00:05Z"}
    async with stack.client(stack.web.write_key) as client:
        assert (await client.post("/v1/batch", json=body)).status_code == 200
    rows = stack.rows("SELECT context->>'$.library.name', context->>'$.page.path', sent_at "
                      "FROM events ORDER BY message_id")
    assert [r[0] for r in rows] == ["analytics-python"] * 3
    assert [r[1] for r in rows] == ["/p/0", "/p/1", "/p/2"]
    assert {r[2] for r in rows} == {datetime(2026, 11, 20, 3, 0, 5)}


async def test_write_key_in_body_is_accepted(stack):
    body = {**_event("track", event="X"), "writeKey": stack.app_source.write_key}
    async with stack.client() as client:
        assert (await client.post("/v1/track", json=body)).status_code == 200
    assert stack.rows("SELECT source FROM events") == [("app",)]


@pytest.mark.parametrize("key, kind", [(None, "missing_write_key"),
                                       ("sk_nope", "unknown_write_key")])
async def test_missing_or_unknown_write_key_is_401(stack, key, kind):
    async with stack.client(key) as client:
        r = await client.post("/v1/track", json=_event("track", event="X"))
    assert r.status_code == 401
    assert r.json()["error"]["type"] == kind
    assert stack.rows("SELECT count(*) FROM events") == [(0,)]


async def test_disabled_source_is_refused(stack):
    from sen.ingest.sources import set_enabled

    set_enabled(stack.ops, "web", False)
    stack.app.state.write_keys.refresh()
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/track", json=_event("track", event="X"))
    assert r.status_code == 401


async def test_malformed_json_is_400_and_quarantined(stack):
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/track", content=b'{"userId": "u1", "event": ',
                              headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_json"
    assert "not valid JSON" in r.json()["error"]["message"]
    (reason, payload), = stack.rows("SELECT reason, payload FROM quarantine")
    assert "invalid_json" in reason and payload.startswith('{"userId"')


@pytest.mark.parametrize("body, field, rule", [
    ({"event": "X"}, "userId", "identity_required"),
    ({"userId": "u", "event": "X", "timestamp": "yesterday"}, "timestamp",
     "datetime_parsing"),
    ({"userId": "u", "event": "X", "properties": ["not", "an", "object"]}, "properties",
     "object_required"),
    ({"userId": "u"}, "event", "required"),
    ({"userId": "u", "event": "X", "messageId": ""}, "messageId", "string_too_short"),
    ({"userId": {"id": 1}, "event": "X"}, "userId", None),
])
async def test_wrong_input_names_the_field_and_rule(stack, body, field, rule):
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/track", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["field"].split(".")[0] == field
    if rule:
        assert err["rule"] == rule
    assert err["message"]
    assert stack.rows("SELECT count(*) FROM events") == [(0,)]
    assert stack.rows("SELECT count(*) FROM quarantine") == [(1,)]


async def test_alias_and_group_need_their_ids(stack):
    async with stack.client(stack.web.write_key) as client:
        a = await client.post("/v1/alias", json={"userId": "u1"})
        g = await client.post("/v1/group", json={"userId": "u1"})
    assert (a.status_code, a.json()["error"]["field"]) == (400, "previousId")
    assert (g.status_code, g.json()["error"]["field"]) == (400, "groupId")


async def test_oversize_event_and_batch_are_413(stack):
    big = _event("track", event="X", properties={"blob": "x" * MAX_EVENT_BYTES})
    async with stack.client(stack.web.write_key) as client:
        single = await client.post("/v1/track", json=big)
        many = [{**_event("track", i, event="X"), "type": "track",
                 "properties": {"blob": "y" * 20_000}} for i in range(30)]
        batch = await client.post("/v1/batch", json={"batch": many})
        bomb = gzip.compress(b" " * (MAX_BATCH_BYTES + 10))
        gz = await client.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
    assert single.status_code == 413 and batch.status_code == 413 and gz.status_code == 413
    assert "32 KB" in single.json()["error"]["message"]
    assert stack.rows("SELECT count(*) FROM events") == [(0,)]


async def test_oversize_event_inside_a_batch_is_rejected_alone(stack):
    events = [{**_event("track", 0, event="X"), "type": "track"},
              {**_event("track", 1, event="X"), "type": "track",
               "properties": {"blob": "z" * (MAX_EVENT_BYTES + 1)}}]
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", json={"batch": events})
    assert r.status_code == 200
    assert r.json()["rejected"][0]["rule"] == "max_event_size"
    assert stack.rows("SELECT count(*) FROM events") == [(1,)]


async def test_mixed_batch_accepted_plus_rejected_equals_sent(stack):
    good = [{**_event("track", i, event="Product Viewed"), "type": "track"} for i in range(7)]
    bad = [
        {"type": "track", "event": "No identity", "messageId": "b0"},
        {"type": "launch", "userId": "u", "messageId": "b1"},
        {"type": "identify", "userId": "u", "traits": "gold", "messageId": "b2"},
        "not an object",
        {"type": "track", "event": "X", "userId": "u", "messageId": "b4",
         "timestamp": "31/12/2025"},
        {"type": "alias", "userId": "u", "messageId": "b5"},
    ]
    sent = good[:3] + bad[:3] + good[3:] + bad[3:]
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", json={"batch": sent})
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] + len(body["rejected"]) == len(sent)
    assert body["accepted"] == len(good)
    by_index = {x["index"]: x for x in body["rejected"]}
    assert set(by_index) == {3, 4, 5, 10, 11, 12}
    assert by_index[3]["rule"] == "identity_required"
    assert by_index[4]["field"] == "type"
    assert by_index[5]["field"] == "traits"
    assert by_index[10]["rule"] == "object_required"
    assert by_index[11]["field"] == "timestamp"
    assert by_index[12]["field"] == "previousId"
    assert all(x["message"] for x in body["rejected"])
    stored = stack.rows("SELECT count(*) FROM events")[0][0]
    quarantined = stack.rows("SELECT position, reason FROM quarantine ORDER BY position")
    assert stored + len(quarantined) == len(sent)
    assert [q[0] for q in quarantined] == [3, 4, 5, 10, 11, 12]
    assert all(q[1] for q in quarantined)


async def test_batch_of_only_bad_events_is_400_with_every_reason(stack):
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", json={"batch": [{"type": "track"}, 5]})
    assert r.status_code == 400
    assert len(r.json()["error"]["rejected"]) == 2
    assert stack.rows("SELECT count(*) FROM quarantine") == [(2,)]


async def test_batch_without_batch_array_is_400(stack):
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", json={"events": []})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "batch"


async def test_store_failure_is_503_and_nothing_half_written(stack):
    stack.engine.execute("DROP TABLE events")
    async with stack.client(stack.web.write_key) as client:
        r = await client.post("/v1/batch", json={"batch": [
            {**_event("track", 0, event="X"), "type": "track"}, {"type": "track"}]})
    assert r.status_code == 503
    assert "retry" in r.json()["error"]["message"]
    # The quarantine write was in the same transaction and was rolled back too.
    assert stack.rows("SELECT count(*) FROM quarantine") == [(0,)]


async def test_order_completed_reaches_the_orders_projection(stack):
    body = _event("track", event="Order Completed", properties={
        "order_id": "W-1001", "total": 2_500_000, "currency": "VND", "channel": "web",
        "products": [{"sku": "SA-01-40", "price": 2_500_000, "quantity": 1, "brand": "Sao"}]})
    async with stack.client(stack.web.write_key) as client:
        assert (await client.post("/v1/track", json=body)).status_code == 200
    assert stack.rows("SELECT order_id, total, channel FROM orders") == [
        ("W-1001", 2_500_000, "web")]
    assert stack.rows("SELECT sku, price FROM order_items") == [("SA-01-40", 2_500_000)]




async def test_openapi_documents_the_event_bodies(stack):
    async with stack.client() as client:
        spec = (await client.get("/openapi.json")).json()
    track = spec["paths"]["/v1/track"]["post"]["requestBody"]["content"]["application/json"]
    assert "userId" in track["schema"]["properties"]
    batch = spec["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["schema"]["properties"]["batch"]["items"]["properties"]["type"]["enum"]


async def test_a_key_made_elsewhere_is_found_but_bad_keys_do_not_hammer_the_store(stack):
    from sen.ingest.sources import create_source

    keys = stack.app.state.write_keys
    keys._refreshed_at = 0.0  # the last refresh was long ago
    pos = create_source(stack.ops, "pos-hcm", "pos")  # as another process would
    assert keys.resolve(pos.write_key) == "pos-hcm"
    stack.ops.dispose()  # a refresh now would reconnect; count the connections made
    connects = []
    from sqlalchemy import event

    event.listen(stack.ops, "connect", lambda *a: connects.append(1))
    for i in range(50):
        assert keys.resolve(f"sk_bad_{i}") is None
    assert len(connects) == 0
