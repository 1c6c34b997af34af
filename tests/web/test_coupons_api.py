"""Coupon routes: redeeming and checking at the till with a write key, pools for
marketers with a bearer token; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import PlainTextResponse

from sen.config import Settings
from sen.ingest.sources import WriteKeys, create_source
from sen.messaging.coupons import create_pool, import_codes, issue
from sen.messaging.coupons.codes import ALPHABET
from sen.messaging.events import utc_now
from sen.messaging.model import COUPON_REDEEMED
from sen.web import error_handlers
from sen.web.api import coupons as coupons_api
from sen.web.tokens import create_token
from sen.web.users import create_user
from tests.messaging.stores import MessagingStore

pytestmark = pytest.mark.anyio
PW = "mật-khẩu-đủ-dài"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path, ops):
    with MessagingStore(tmp_path, ops) as s:
        yield s


class Till:
    """A small app with the coupon routes, and the keys and tokens to call them."""

    def __init__(self, store: MessagingStore) -> None:
        ops = store.ops
        self.store = store
        self.app = FastAPI()
        self.app.include_router(coupons_api.router)
        error_handlers.install(self.app, lambda _r, exc, status: PlainTextResponse(
            exc.message, status_code=status))
        self.app.state.ops = ops
        self.app.state.settings = Settings(data_dir=store.tmp / "data")
        self.pos = create_source(ops, "pos-q1", "pos").write_key
        self.web = create_source(ops, "web", "web").write_key
        self.app.state.write_keys = WriteKeys(ops)
        self.tokens = {role: create_token(ops, create_user(ops, role, PW, role), "t")[1]
                       for role in ("admin", "marketer", "analyst")}

    def client(self, *, key: str | None = None, role: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://sen.test", headers=headers,
                                 auth=(key, "") if key else None)

    def coupon(self, pool: str = "tet", valid_days: int | None = 30) -> tuple[int, str]:
        create_pool(self.store.ops, pool, pool, valid_days=valid_days, offer="Giảm 50.000đ")
        mid = self.store.message(record="u:KH01", campaign="tet")
        with self.store.ops.begin() as con:
            return mid, issue(con, pool, message_id=mid, profile_id="p-1", record="u:KH01",
                              campaign="tet", now=utc_now()).code


@pytest.fixture
def till(store) -> Till:
    return Till(store)


async def test_only_server_side_keys_may_redeem(till):
    _, code = till.coupon()
    body = {"code": code, "order_id": "HD001", "store": "Q1"}
    async with till.client() as c:
        r = await c.post("/v1/coupons/redeem", json=body)
    assert r.status_code == 401 and "write key" in r.json()["error"]["hint"]
    async with till.client(key="sk_unknown") as c:
        assert (await c.post("/v1/coupons/redeem", json=body)).status_code == 401
    async with till.client(key=till.web) as c:
        r = await c.post("/v1/coupons/redeem", json=body)
        assert r.status_code == 403 and "published" in r.json()["error"]["message"]
        assert (await c.get(f"/v1/coupons/{code}")).status_code == 403


async def test_redeem_repeat_and_refuse_a_second_order(till, store):
    mid, code = till.coupon()
    body = {"code": code.lower(), "order_id": "HD001", "store": "Q1",
            "timestamp": "2025-01-22T10:30:00"}  # no zone: the retailer's (UTC+7)
    async with till.client(key=till.pos) as c:
        first = await c.post("/v1/coupons/redeem", json=body)
        again = await c.post("/v1/coupons/redeem", json=body)
        other = await c.post("/v1/coupons/redeem",
                             json=body | {"order_id": "HD002", "store": "Q3"})
        check = await c.get(f"/v1/coupons/{code}")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "coupon": code, "pool": "tet", "offer": "Giảm 50.000đ", "order_id": "HD001",
        "store": "Q1", "channel": "store", "source": "pos-q1",
        "redeemed_at": "2025-01-22T03:30:00Z", "repeated": False, "message_id": mid,
        "campaign": "tet", "journey": None}
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert other.status_code == 409
    error = other.json()["error"]
    assert "22/01/2025 10:30 at store Q1, order HD001" in error["message"]
    assert error["details"] == {"code": code, "redeemed_at": "2025-01-22T03:30:00Z",
                                "store": "Q1", "order_id": "HD001", "channel": "store",
                                "source": "pos-q1"}
    assert check.json()["status"] == "redeemed"
    assert check.json()["redeemed"] == {"redeemed_at": "2025-01-22T03:30:00Z",
                                        "order_id": "HD001", "store": "Q1"}
    store.relay()
    (event,) = store.log(COUPON_REDEEMED)
    assert event["user_id"] == "KH01" and event["properties"]["source"] == "pos-q1"


async def test_unknown_mistyped_and_expired_codes(till):
    _, code = till.coupon(valid_days=1)
    slip = code[:-1] + next(c for c in ALPHABET if c != code[-1])
    later = (utc_now() + timedelta(days=3)).isoformat() + "Z"
    async with till.client(key=till.pos) as c:
        unknown = await c.post("/v1/coupons/redeem", json={"code": "FREESHIP", "order_id": "1"})
        mistyped = await c.post("/v1/coupons/redeem", json={"code": slip, "order_id": "1"})
        expired = await c.post("/v1/coupons/redeem",
                               json={"code": code, "order_id": "1", "timestamp": later})
        valid = await c.get(f"/v1/coupons/{code}")
        check_slip = await c.get(f"/v1/coupons/{slip}")
        bad_body = await c.post("/v1/coupons/redeem", json={"code": code})
    assert unknown.status_code == 404
    assert mistyped.status_code == 422
    assert "check the code, a character looks mistyped" in mistyped.json()["error"]["message"]
    assert expired.status_code == 410 and "expires_at" in expired.json()["error"]["details"]
    assert valid.status_code == 200 and valid.json()["status"] == "valid"
    assert valid.json()["offer"] == "Giảm 50.000đ"
    assert check_slip.status_code == 422
    assert bad_body.status_code == 400 and bad_body.json()["error"]["field"] == "order_id"


async def test_marketers_make_pools_and_upload_codes(till):
    pool = {"name": "hara", "title": "Mã Haravan", "kind": "imported", "offer": "Giảm 10%"}
    async with till.client(role="analyst") as c:
        assert (await c.post("/api/coupon-pools", json=pool)).status_code == 403
    async with till.client(role="marketer") as c:
        made = await c.post("/api/coupon-pools", json=pool)
        again = await c.post("/api/coupon-pools", json=pool)
        gen = await c.post("/api/coupon-pools", json={"name": "tet", "prefix": "TET"})
        bad = await c.post("/api/coupon-pools", json={"name": "x", "prefix": "SALE"})
        csv = "Code;Ghi chú\nHARA-0001;một\nhara-0002;hai\nHARA-0001;lặp\n;\nCÓ DẤU;x\n"
        up = await c.post("/api/coupon-pools/hara/codes",
                          files={"file": ("ma.csv", csv.encode(), "text/csv")})
        wrong_kind = await c.post("/api/coupon-pools/tet/codes",
                                  files={"file": ("ma.csv", b"ABC\n", "text/csv")})
        missing = await c.post("/api/coupon-pools/nope/codes",
                               files={"file": ("ma.csv", b"ABC\n", "text/csv")})
    assert made.status_code == 201 and made.json()["available"] == 0
    assert again.status_code == 400 and again.json()["error"]["rule"] == "unique"
    assert gen.status_code == 201 and gen.json()["prefix"] == "TET"
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "prefix"
    assert up.status_code == 200 and up.json() == {"added": 2, "duplicates": 1, "invalid": 1}
    assert wrong_kind.status_code == 400 and missing.status_code == 404
    async with till.client(role="analyst") as c:
        listed = (await c.get("/api/coupon-pools")).json()
    assert [(p["name"], p["codes"], p["available"]) for p in listed] == [
        ("hara", 2, 2), ("tet", 0, None)]


def test_codes_from_csv_take_the_first_column_and_skip_a_header():
    assert coupons_api.codes_from_csv("mã\nA1\nB2\n".encode()) == ["A1", "B2"]
    assert coupons_api.codes_from_csv(b"A1,x\r\nB2,y\r\n") == ["A1", "B2"]
    assert coupons_api.codes_from_csv(b"\xef\xbb\xbfcode\tnote\nA1\tn\n") == ["A1"]


async def test_a_retailer_code_with_a_slash_can_be_checked(till):
    create_pool(till.store.ops, "hara", "Haravan", "imported", offer="Giảm 10%")
    import_codes(till.store.ops, "hara", ["HR/2025/01"])
    async with till.client(key=till.pos) as c:
        r = await c.get("/v1/coupons/hr%2F2025%2F01")
    assert r.status_code == 200 and r.json()["coupon"] == "HR/2025/01"
    assert r.json()["status"] == "valid" and r.json()["offer"] == "Giảm 10%"
