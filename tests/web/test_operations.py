"""Health check, Prometheus metrics and the JSON error shape."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sen.errors import (
    AuthError,
    ImportError_,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    SenError,
    StoreError,
    StoreLockedError,
    ValidationError,
)
from sen.web.error_handlers import status_for
from sen.web.metrics import REGISTRY, record_ingested, record_rejected
from sen.web.tokens import create_token

pytestmark = pytest.mark.anyio


async def test_healthz_is_ok_when_both_stores_answer(web):
    async with web.client() as c:
        r = await c.get("/healthz")
    assert r.status_code == 200
    assert r.json()["stores"] == {"analytics": "ok", "operational": "ok"}


async def test_healthz_is_503_naming_the_store_that_fails(web, tmp_path):
    good = web.app.state.ops
    web.app.state.ops = sa.create_engine(f"sqlite:///{tmp_path}/no/such/dir/ops.sqlite")
    try:
        async with web.client() as c:
            r = await c.get("/healthz")
    finally:
        web.app.state.ops.dispose()
        web.app.state.ops = good
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["stores"]["analytics"] == "ok" and body["stores"]["operational"] != "ok"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_by_route_template_and_status(web):
    lan = web.user("lan", "marketer")
    _, secret = create_token(web.ops, lan, "t")
    labels = dict(method="DELETE", route="/api/tokens/{token_id}", status="404")
    before = _sample("sen_http_requests_total", **labels)
    async with web.client(secret) as c:
        for token_id in (998, 999):
            assert (await c.delete(f"/api/tokens/{token_id}")).status_code == 404
        text = (await c.get("/metrics")).text
    assert _sample("sen_http_requests_total", **labels) == before + 2
    assert 'route="/api/tokens/998"' not in text
    assert "sen_http_request_duration_seconds_bucket" in text


async def test_metrics_expose_sens_event_counters(web):
    before = _sample("sen_events_ingested_total", source="web-test")
    record_ingested(3, "web-test")
    record_rejected(2, "web-test")
    record_ingested(0, "web-test")
    async with web.client() as c:
        r = await c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "# TYPE sen_events_ingested_total counter" in r.text
    assert "# TYPE sen_events_rejected_total counter" in r.text
    assert _sample("sen_events_ingested_total", source="web-test") == before + 3
    assert 'sen_events_rejected_total{source="web-test"}' in r.text


@pytest.mark.parametrize("exc, status", [
    (ValidationError("x"), 400), (PayloadTooLargeError("x"), 413), (AuthError("x"), 401),
    (PermissionDeniedError("x"), 403), (NotFoundError("x"), 404),
    (StoreLockedError("x"), 503), (StoreError("x"), 500), (ImportError_("x"), 400),
    (SenError("x"), 500),
])
def test_each_error_has_its_status(exc, status):
    assert status_for(exc) == status


async def test_errors_are_json_with_type_message_hint_field_rule(web):
    def locked() -> None:
        raise StoreLockedError("Another process holds the analytical store.", hint="Stop it.")

    def invalid() -> None:
        raise ValidationError("Bad phone.", field="traits.phone", rule="phone")

    web.app.add_api_route("/test/locked", locked)
    web.app.add_api_route("/test/invalid", invalid)
    async with web.client() as c:
        r = await c.get("/test/locked")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json() == {"error": {"type": "StoreLockedError",
                                      "message": "Another process holds the analytical store.",
                                      "hint": "Stop it.", "field": None, "rule": None}}
        r = await c.get("/test/invalid")
        assert r.status_code == 400
        assert (r.json()["error"]["field"], r.json()["error"]["rule"]) == ("traits.phone",
                                                                           "phone")
        r = await c.get("/no/such/page")
        assert r.status_code == 404 and r.json()["error"]["type"] == "NotFoundError"
        r = await c.get("/no/such/page", headers={"Accept": "text/html"})
        assert r.status_code == 404 and "Không tìm thấy trang." in r.text
        r = await c.get("/api/nothing", headers={"Accept": "text/html"})
        assert r.status_code == 404 and r.json()["error"]["type"] == "NotFoundError"


async def test_openapi_documents_the_management_api(web):
    async with web.client() as c:
        assert (await c.get("/docs")).status_code == 200
        paths = (await c.get("/openapi.json")).json()["paths"]
    assert {"/api/me", "/api/tokens", "/api/tokens/{token_id}", "/api/users", "/api/sources",
            "/api/overview", "/healthz"} <= set(paths)
    assert "/login" not in paths


async def test_event_counters_follow_what_the_event_api_stored(web):
    from sen.ingest.sources import create_source

    key = create_source(web.ops, "metrics-web", "web").write_key
    web.app.state.write_keys.refresh()
    stored = _sample("sen_events_ingested_total", source="metrics-web")
    rejected = _sample("sen_events_rejected_total", source="metrics-web")
    batch = [{"type": "track", "event": "Product Viewed", "userId": "kh-1",
              "messageId": f"metric-{i}"} for i in range(4)] + [{"type": "track"}]
    async with web.client() as c:
        r = await c.post("/v1/batch", json={"batch": batch}, auth=(key, ""))
        assert r.status_code == 200
        await c.post("/v1/batch", json={"batch": batch[:2]}, auth=(key, ""))  # duplicates
    assert _sample("sen_events_ingested_total", source="metrics-web") == stored + 4
    assert _sample("sen_events_rejected_total", source="metrics-web") == rejected + 1


async def test_event_calls_take_the_fast_path_and_are_still_counted(web):
    from sen.ingest.sources import create_source

    key = create_source(web.ops, "fast-web", "web").write_key
    web.app.state.write_keys.refresh()
    ok = dict(method="POST", route="/v1/track", status="200")
    bad = dict(method="POST", route="/v1/track", status="401")
    before_ok, before_bad = _sample("sen_http_requests_total", **ok), \
        _sample("sen_http_requests_total", **bad)
    async with web.client() as c:
        r = await c.post("/v1/track", json={"userId": "kh-9", "event": "Cart Viewed"},
                         auth=(key, ""))
        assert r.status_code == 200 and r.json() == {"success": True}
        assert "set-cookie" not in r.headers  # no session machinery on event calls
        assert (await c.post("/v1/track", json={"userId": "x", "event": "y"})).status_code == 401
        assert (await c.get("/v1/track")).status_code == 405  # other methods: the router
    assert _sample("sen_http_requests_total", **ok) == before_ok + 1
    assert _sample("sen_http_requests_total", **bad) == before_bad + 1
