"""A small app holding what the /v1/push routes need: the operational store (SQLite: the
store itself runs on both backends in tests/messaging/test_push.py), write keys, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from sen.config import Settings
from sen.demo.sandbox.serve import Served
from sen.ingest.sources import WriteKeys, create_source
from sen.store import operational
from sen.web.api import push as push_api
from sen.web.app import STATIC_DIR
from tests.web.api.subscriptions import WRITE_KEY


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = operational.connect(f"sqlite:///{tmp_path / 'ops.sqlite'}")
    yield engine
    engine.dispose()


@pytest.fixture
def app(ops: sa.Engine, tmp_path: Path) -> FastAPI:
    create_source(ops, "shop-web", "web", write_key=WRITE_KEY)
    app = FastAPI()
    app.include_router(push_api.router)
    app.state.ops = ops
    app.state.write_keys = WriteKeys(ops)
    app.state.settings = Settings(data_dir=tmp_path,
                                  encryption_key=Fernet.generate_key().decode())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[httpx.Client]:
    with Served(app) as served, httpx.Client(base_url=served.url) as c:
        yield c
