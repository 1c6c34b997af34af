"""A real Sen app on temporary stores, driven through httpx's ASGI transport.

The app's own lifespan opens the stores, exactly as under `sen serve`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sen.config import Settings
from sen.identity import resolver
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
    """The app on temporary stores. Identity, traits, events by profile and segments
    run only when a test asks for them (their intervals are 0 unless given), so what a
    test sees does not depend on the updaters' timing."""
    settings.setdefault("identity_interval_s", 0)
    settings.setdefault("traits_interval_s", 0)
    settings.setdefault("profile_events_interval_s", 0)
    settings.setdefault("segments_interval_s", 0)
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


def commit(web: Web, events: list[dict], source: str) -> None:
    """Store events through the app's own writer, decoded as /v1 decodes them."""
    from . import customers

    web.app.state.writer.write_sync(customers.rows(events, source))


def rebuild(web: Web) -> None:
    """Resolve identity over the whole log, on the writer thread as the server does."""
    engine = web.app.state.analytics
    web.app.state.writer.run_exclusive(lambda: resolver.rebuild(engine))


async def eventually(check: Any, tries: int = 200, pause: float = 0.05) -> Any:
    """``check()`` once it is truthy (the server's jobs run on their own clocks), or its
    last answer after ``tries``."""
    import asyncio

    for _ in range(tries):
        answer = check()
        if answer:
            return answer
        await asyncio.sleep(pause)
    return answer


def traits_with_orders(web: Web) -> int:
    """How many profiles the trait jobs have seen buy."""
    return web.app.state.analytics.cursor().execute(
        "SELECT count(*) FROM profile_traits WHERE orders > 0").fetchall()[0][0]


@asynccontextmanager
async def logged_in(web: Web, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a session of ``username`` that sends its CSRF token."""
    async with web.client() as client:
        client.headers["X-CSRF-Token"] = await web.login(client, username)
        yield client


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Web]:
    """The app with every customer of :mod:`tests.web.customers` resolved, and one
    user per role, named after it."""
    from . import customers

    async with running(tmp_path) as web:
        for events, source in customers.everyone():
            commit(web, events, source)
        rebuild(web)
        for role in ("admin", "marketer", "analyst", "support"):
            web.user(role, role)
        yield web


# -- headless Chromium (tests marked `browser`) ----------------------------------------

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1000")


@pytest.fixture
def browser(tmp_path: Path):  # noqa: ANN201
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
