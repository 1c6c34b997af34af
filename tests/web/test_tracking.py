"""``GET /l/{code}`` through HTTP: a 302 at once with UTM and identity parameters, one
``Message Clicked`` in the log however often the link is opened, a bilingual 404 page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from sen.config import Settings
from sen.messaging.links import LinkSettings, link_code, link_key, save_link_settings
from sen.messaging.model import MESSAGE_CLICKED
from sen.store.secrets import SecretBox
from sen.web.api import tracking
from tests.messaging.stores import MessagingStore

pytestmark = pytest.mark.anyio
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
PREVIEW = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path, ops):
    with MessagingStore(tmp_path, ops) as s:
        yield s


@pytest.fixture
def app(store, tmp_path) -> FastAPI:
    app = FastAPI()
    app.include_router(tracking.router)
    app.state.ops = store.ops
    app.state.settings = Settings(data_dir=tmp_path / "data")
    return app


def client(app: FastAPI, ua: str = PHONE) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s.shop.vn",
                             headers={"User-Agent": ua})


def key_of(app: FastAPI) -> bytes:
    return link_key(app.state.ops, SecretBox.for_settings(app.state.settings))


async def test_a_link_redirects_at_once_and_counts_one_click(app, store):
    save_link_settings(store.ops, LinkSettings(identity_domains=["shop.vn"]))
    mid = store.message(links=["https://shop.vn/ao-dai?size=M#mua"], record="u:KH01",
                        campaign="tet", template="tet-sms", variant="B")
    code = link_code(mid, 0, key_of(app))
    async with client(app) as c:
        first = await c.get(f"/l/{code}")
        again = await c.get(f"/l/{code}")
    async with client(app, PREVIEW) as c:
        preview = await c.get(f"/l/{code}")
        head = await c.head(f"/l/{code}")
    for r in (first, again, preview, head):
        assert r.status_code == 302
        assert r.headers["cache-control"] == "no-store, private"
    location = first.headers["location"]
    assert location.startswith("https://shop.vn/ao-dai?size=M&") and location.endswith("#mua")
    assert dict(parse_qsl(urlsplit(location).query)) == {
        "size": "M", "utm_source": "sen", "utm_medium": "sms", "utm_campaign": "tet",
        "utm_content": "tet-sms/B", "ajs_uid": "KH01"}
    assert "ajs_uid" not in preview.headers["location"]  # a scanner is never identified

    store.relay()
    (event,) = store.log(MESSAGE_CLICKED)
    assert event["user_id"] == "KH01" and event["message_id"] == f"clicked:{mid}:0"
    assert event["properties"]["message_id"] == mid
    assert event["properties"]["campaign_id"] == "tet"
    assert event["properties"]["url"] == "https://shop.vn/ao-dai?size=M#mua"


async def test_punctuation_glued_to_the_link_is_forgiven(app, store):
    mid = store.message(links=["https://shop.vn/"])
    code = link_code(mid, 0, key_of(app))
    async with client(app) as c:
        r = await c.get(f"/l/{code}).")
    assert r.status_code == 302 and r.headers["location"].startswith("https://shop.vn/?utm_")


@pytest.mark.parametrize("code", ["khongtontai1", "x", "1A" + "0" * 6])
async def test_an_unknown_code_gets_a_small_page_in_both_languages(app, store, code):
    store.message(links=["https://shop.vn/"])
    async with client(app) as c:
        r = await c.get(f"/l/{code}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Liên kết không hợp lệ" in r.text and "This link is not valid" in r.text
    for internal in ("Traceback", "sen.", "messages", "sqlalchemy", "Error"):
        assert internal not in r.text


async def test_a_store_that_cannot_open_the_key_answers_a_neutral_page(app, store, tmp_path):
    store.message(links=["https://shop.vn/"])
    key_of(app)  # the key is sealed with this data folder's box...
    app.state.settings = Settings(data_dir=tmp_path / "another")  # ...which is now lost
    async with client(app) as c:
        r = await c.get("/l/abcdefgh")
    assert r.status_code == 503 and "Tạm thời không mở được" in r.text
    assert "decrypt" not in r.text and "SEN_ENCRYPTION_KEY" not in r.text
