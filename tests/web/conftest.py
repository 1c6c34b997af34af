"""A real Sen app on temporary stores, driven through httpx's ASGI transport.

The app's own lifespan opens the stores, exactly as under `sen serve`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sen.config import Settings
from sen.web import create_app
from sen.web.users import User, create_user

PASSWORD = "mật-khẩu-đủ-dài"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
_FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def csrf_of(html: str) -> str:
    found = _CSRF.search(html) or _FORM_CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Web:
    """The app plus helpers to make users and log them in."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    @property
    def ops(self):  # noqa: ANN201
        return self.app.state.ops

    def user(self, username: str, role: str, **kw: object) -> User:
        return create_user(self.ops, username, PASSWORD, role, **kw)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://sen.test", headers=headers)

    async def login(self, client: httpx.AsyncClient, username: str,
                    password: str = PASSWORD) -> str:
        """Log in through the form; the session's CSRF token for later POSTs."""
        page = await client.get("/login")
        r = await client.post("/login", data={"username": username, "password": password,
                                              "csrf_token": csrf_of(page.text), "next": "/"})
        assert r.status_code == 303, r.text
        return csrf_of((await client.get("/tokens")).text)


@asynccontextmanager
async def running(tmp_path: Path, database_url: str | None = None,
                  **settings: object) -> AsyncIterator[Web]:
    """The app on temporary stores. Identity runs only when a test asks for it (its
    ``identity_interval_s`` is 0 unless given), so what a test sees does not depend on
    the updater's timing."""
    settings.setdefault("identity_interval_s", 0)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=database_url,
                              secret_key="test-secret", **settings))
    async with app.router.lifespan_context(app):
        yield Web(app)


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    """The app on SQLite (for tests where the operational backend does not matter)."""
    async with running(tmp_path) as w:
        yield w


@pytest.fixture
async def web_any(tmp_path: Path, ops_url: str) -> AsyncIterator[Web]:
    """The app on each operational backend in turn (SQLite, PostgreSQL)."""
    async with running(tmp_path, ops_url) as w:
        yield w
