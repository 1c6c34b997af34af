"""The privacy API: export and erase, for admins and support agents, with confirmation.

A real app on temporary stores (SQLite and PostgreSQL), its writer running, driven
through httpx's ASGI transport; the customers are those of the profile tests.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from sen.config import Settings
from sen.identity import profiles, resolver
from sen.web import create_app
from sen.web.api import privacy as privacy_api
from sen.web.tokens import create_token
from sen.web.users import create_user
from tests.web import customers

pytestmark = pytest.mark.anyio
ROLES = ("admin", "marketer", "analyst", "support")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Shop:
    def __init__(self, app, tokens: dict[str, str], lan: str) -> None:  # noqa: ANN001
        self.app, self.tokens, self.lan = app, tokens, lan

    def client(self, role: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://sen.test", headers=headers)


@pytest.fixture
async def shop(tmp_path: Path, ops_url: str) -> AsyncIterator[Shop]:
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=ops_url,
                              secret_key="test-secret", identity_interval_s=0,
                              traits_interval_s=0, profile_events_interval_s=0,
                              segments_interval_s=0))
    if not any(getattr(r, "path", "").endswith("/erase") for r in app.routes):
        app.include_router(privacy_api.router)
    async with app.router.lifespan_context(app):
        state = app.state
        for events, source in customers.everyone():
            state.writer.write_sync(customers.rows(events, source))
        state.writer.run_exclusive(lambda: resolver.rebuild(state.analytics))
        tokens = {role: create_token(state.ops, create_user(state.ops, role, "mật-khẩu-đủ-dài",
                                                            role), "test")[1]
                  for role in ROLES}
        (lan,) = profiles.lookup(state.analytics.cursor(), "phone", customers.LAN_PHONE)
        yield Shop(app, tokens, lan["profile_id"])


async def test_only_admins_and_support_agents_handle_requests(shop: Shop) -> None:
    path = f"/api/profiles/{shop.lan}"
    for role in ("marketer", "analyst"):
        async with shop.client(role) as c:
            assert (await c.get(f"{path}/export")).status_code == 403
            r = await c.post(f"{path}/erase", json={"confirm": shop.lan})
            assert r.status_code == 403 and "admin or support" in r.json()["error"]["message"]
    async with shop.client(None) as c:
        assert (await c.get(f"{path}/export")).status_code == 401
        assert (await c.post(f"{path}/erase", json={"confirm": shop.lan})).status_code == 401
    async with shop.client("support") as c:  # nothing was erased
        assert (await c.get(f"/api/profiles/lookup?phone={customers.LAN_PHONE}")).json()


async def test_support_downloads_her_data_as_json_or_zip(shop: Shop) -> None:
    async with shop.client("support") as c:
        r = await c.get(f"/api/profiles/{shop.lan}/export")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["content-disposition"].startswith(
            f'attachment; filename="sen-{shop.lan}-')
        doc = r.json()
        assert doc["sections"]["profile"][0]["phone"] == customers.LAN_E164
        assert {e["message_id"] for e in doc["sections"]["events"]} >= {"lan-w2", "lan-p2"}
        z = await c.get(f"/api/profiles/{shop.lan}/export", params={"format": "zip"})
        assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
            assert orjson.loads(archive.read("personal-data.json"))["profile_id"] == shop.lan
        bad = await c.get(f"/api/profiles/{shop.lan}/export", params={"format": "pdf"})
        assert bad.status_code == 400
        assert (await c.get("/api/profiles/p_0000000000000000/export")).status_code == 404


async def test_erasing_needs_the_profile_id_typed_again(shop: Shop) -> None:
    path = f"/api/profiles/{shop.lan}/erase"
    async with shop.client("admin") as c:
        assert (await c.post(path)).status_code == 400
        assert (await c.post(path, json={})).status_code == 400
        wrong = await c.post(path, json={"confirm": "p_0000000000000000"})
        assert wrong.status_code == 400
        assert (wrong.json()["error"]["field"], wrong.json()["error"]["rule"]) == \
            ("confirm", "confirmation")
        assert (await c.get(f"/api/profiles/lookup?phone={customers.LAN_PHONE}")).json()
        done = await c.post(path, json={"confirm": shop.lan})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["profile_id"] == shop.lan and not body["already_erased"]
        assert body["removed"]["analytics"]["events"] == 5
        assert (await c.get(f"/api/profiles/lookup?phone={customers.LAN_PHONE}")).json() == []
        assert (await c.get(f"/api/profiles/{shop.lan}")).status_code == 404
        gone = await c.get(f"/api/profiles/{shop.lan}/export")
        assert gone.status_code == 404 and "erased on" in gone.json()["error"]["hint"]
        again = await c.post(path, json={"confirm": shop.lan})
        assert again.status_code == 200 and again.json()["already_erased"]
