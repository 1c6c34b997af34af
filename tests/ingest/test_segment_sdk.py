"""Segment's own Python library, pointed at Sen, delivers its events unchanged.

The server is real (uvicorn on 127.0.0.1). A flaky gateway in front of it lets
Sen store the first batches and then answers the library 503, as a load
balancer that times out would: the library retries the same batch, and every
event must still be stored exactly once.
"""

from __future__ import annotations

import pytest
from segment.analytics import Client
from tests.support import serve_in_thread

pytestmark = pytest.mark.slow


class FlakyGateway:
    """ASGI wrapper: passes requests to Sen, but hides the first ``fail`` batch answers."""

    def __init__(self, app, fail: int) -> None:
        self.app, self.fail = app, fail
        self.batch_requests = 0
        self.retry_headers: list[str] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != "/v1/batch":
            return await self.app(scope, receive, send)
        self.batch_requests += 1
        headers = dict(scope["headers"])
        if b"x-retry-count" in headers:
            self.retry_headers.append(headers[b"x-retry-count"].decode())
        if self.batch_requests > self.fail:
            return await self.app(scope, receive, send)

        async def swallow(message):  # Sen answers; the client never hears it
            pass

        await self.app(scope, receive, swallow)
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"gateway timeout"})


def _send_everything(client: Client) -> dict[str, str]:
    """Send identify, track, page, screen, alias and group calls; return messageId → kind."""
    sent: dict[str, str] = {}

    def note(kind, result):
        success, msg = result
        assert success
        sent[msg["messageId"]] = kind

    note("identify", client.identify("kh-001", {"name": "Trần Văn Hùng", "phone": "0912345678",
                                                 "email": "hung@example.vn"}))
    for i in range(120):
        note("track", client.track("kh-001", "Product Viewed",
                                   {"sku": f"SA-{i:03d}", "price": 1_250_000, "brand": "Sao"}))
    note("track", client.track(anonymous_id="anon-9", event="Product Added",
                               properties={"sku": "SA-001", "quantity": 1}))
    note("page", client.page("kh-001", "Giày nam", "Danh mục", {"path": "/giay-nam"}))
    note("screen", client.screen("kh-001", "App", "Giỏ hàng", {}))
    note("alias", client.alias("anon-9", "kh-001"))
    note("group", client.group("kh-001", "vip", {"tier": "gold"}))
    client.flush()
    return sent


@pytest.mark.parametrize("gzip", [False, True])
def test_official_sdk_events_are_stored_exactly_once_even_after_retries(stack, gzip):
    gateway = FlakyGateway(stack.app, fail=2)
    with serve_in_thread(gateway, lifespan="off") as url:
        client = Client(stack.web.write_key, host=url, gzip=gzip, upload_size=50,
                        max_retries=5, sync_mode=False, max_total_backoff_duration=30)
        sent = _send_everything(client)
        client.shutdown()
    assert len(sent) == 126
    assert gateway.retry_headers, "the library never retried; the test proves nothing"
    rows = stack.rows("SELECT message_id, type, count(*) OVER (PARTITION BY message_id) "
                      "FROM events")
    stored = {mid: kind for mid, kind, _ in rows}
    assert stored == sent
    assert all(n == 1 for _, _, n in rows)
    props = stack.rows("SELECT properties->>'$.sku', user_id, source FROM events "
                       "WHERE event = 'Product Viewed' ORDER BY properties->>'$.sku' LIMIT 1")
    assert props == [("SA-000", "kh-001", "web")]
    traits = stack.rows("SELECT traits->>'$.name', context->>'$.library.name' FROM events "
                        "WHERE type = 'identify'")
    assert traits == [("Trần Văn Hùng", "analytics-python")]
