"""``/demo/inboxes``: outside the demo, with sandboxes stopped, and with one running."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sen.demo.sandbox import EsmsSandbox, ZaloSandbox, free_port, serve_in_thread
from sen.demo.sandboxes import SETTINGS_KEY
from sen.messaging.settings import write_value
from sen.web.demo_ui import received

from .conftest import Web, logged_in

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 12, 1, 3, 0)


def listed(web: Web, inboxes: list[dict[str, str]]) -> None:
    with web.ops.begin() as con:
        write_value(con, SETTINGS_KEY, json.dumps(inboxes), now=NOW)


@pytest.mark.parametrize(("channel", "entry", "shown"), [
    ("sms", {"phone": "0912345678", "text": "[QC] Lan oi", "at": "2026-12-01T03:00:00",
             "extra": {"brandname": "VELAMOC"}}, ("0912345678", "VELAMOC", "[QC] Lan oi")),
    ("zalo", {"phone": "84912345678", "text": '{"customer_name": "Lan", "voucher_code": "VM2"}',
              "at": "2026-12-01T03:00:00", "extra": {"template_id": "402871"}},
     ("84912345678", "402871", "customer_name: Lan · voucher_code: VM2")),
    ("email", {"to": ["lan@example.vn"], "subject": "[QC] Quà", "text": "Chào Lan",
               "at": "2026-12-01T03:00:00"}, ("lan@example.vn", "[QC] Quà", "Chào Lan")),
    ("zalo", {"phone": "84912345678", "text": "not json", "at": "bad"},
     ("84912345678", "", "not json")),
])
def test_each_sandbox_entry_reads_as_the_recipient_sees_it(channel, entry, shown) -> None:
    got = received(channel, entry)
    assert (got.to, got.title, got.text) == shown
    assert got.at == (None if entry["at"] == "bad" else datetime(2026, 12, 1, 3, 0))


async def test_outside_the_demo_the_page_says_so(web: Web) -> None:
    web.user("lan", "marketer")
    async with logged_in(web, "lan") as client:
        page = await client.get("/demo/inboxes")
    assert page.status_code == 200 and 'id="no-demo"' in page.text
    assert "refresh" not in page.headers


async def test_a_running_sandbox_is_listed_and_a_stopped_one_says_so(web: Web) -> None:
    esms, zalo = EsmsSandbox(), ZaloSandbox()
    esms.record("0912345678", "[QC] Lan oi, ma VM2", None, "sms-1", brandname="VELAMOC")
    esms.record("0987654321", "[QC] Minh oi, ma VM3", None, "sms-2", brandname="VELAMOC")
    web.user("lan", "analyst")
    with serve_in_thread(esms.app()) as url:
        listed(web, [
            {"provider": "esms-demo", "channel": "sms", "title": "eSMS",
             "url": f"{url}/_sandbox/messages"},
            {"provider": "zalo-demo", "channel": "zalo", "title": "Zalo ZNS",
             "url": f"http://127.0.0.1:{free_port()}/_sandbox/messages"}])
        async with logged_in(web, "lan") as client:
            page = await client.get("/demo/inboxes?lang=en")
    zalo.close()
    text = page.text
    assert page.status_code == 200 and page.headers["refresh"] == "5"
    esms_part = text[text.index('id="inbox-esms-demo"'):text.index('id="inbox-zalo-demo"')]
    assert esms_part.index("Minh oi") < esms_part.index("Lan oi")  # newest first
    assert 'data-provider="esms-demo"><span class="label">eSMS · esms-demo</span>' \
           '<span class="value" data-value="2">' in text
    assert "This sandbox is not running" in text[text.index('id="inbox-zalo-demo"'):]


async def test_the_page_needs_a_login(web: Web) -> None:
    async with web.client() as client:
        page = await client.get("/demo/inboxes")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
