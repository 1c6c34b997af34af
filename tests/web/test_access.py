"""Logging in, roles and API tokens through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sen.web.users import disable_user

from .conftest import PASSWORD, csrf_of

pytestmark = pytest.mark.anyio


async def test_login_with_the_right_password_opens_the_overview(web_any):
    web_any.user("lan", "marketer", display_name="Nguyễn Thị Lan")
    async with web_any.client() as c:
        assert (await c.get("/")).headers["location"] == "/login?next=/"
        page = await c.get("/login")
        r = await c.post("/login", data={"username": "lan", "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text), "next": "/tokens"})
        assert (r.status_code, r.headers["location"]) == (303, "/tokens")
        home = await c.get("/")
        assert home.status_code == 200 and "Nguyễn Thị Lan" in home.text
        assert (await c.get("/api/me")).json()["username"] == "lan"


@pytest.mark.parametrize("username, password", [("lan", "sai-mat-khau"), ("ai-do", PASSWORD)])
async def test_bad_credentials_show_the_form_again_without_a_session(web_any, username,
                                                                     password):
    web_any.user("lan", "marketer")
    async with web_any.client() as c:
        page = await c.get("/login")
        r = await c.post("/login", data={"username": username, "password": password,
                                         "csrf_token": csrf_of(page.text)})
        assert r.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu." in r.text
        assert (await c.get("/api/me")).status_code == 401


async def test_login_without_the_forms_csrf_token_is_refused(web_any):
    web_any.user("lan", "marketer")
    async with web_any.client() as c:
        await c.get("/login")
        r = await c.post("/login", data={"username": "lan", "password": PASSWORD})
        assert r.status_code == 400
        assert (await c.get("/api/me")).status_code == 401


async def test_login_never_redirects_off_site(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        page = await c.get("/login")
        r = await c.post("/login", data={"username": "lan", "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text),
                                         "next": "//evil.example/"})
        assert r.headers["location"] == "/"


async def test_disabled_user_cannot_log_in_and_is_logged_out_at_once(web_any):
    lan = web_any.user("lan", "marketer")
    async with web_any.client() as c:
        await web_any.login(c, "lan")
        disable_user(web_any.ops, lan.id)
        assert (await c.get("/api/me")).status_code == 401
        assert (await c.get("/")).headers["location"].startswith("/login")
        page = await c.get("/login")
        r = await c.post("/login", data={"username": "lan", "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text)})
        assert r.status_code == 401 and "Tài khoản này đã bị khóa." in r.text


async def test_logout_is_a_post_with_the_csrf_token(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        csrf = await web.login(c, "lan")
        assert (await c.get("/logout")).status_code == 405
        forged = await c.post("/logout")
        assert forged.status_code == 403 and "Biểu mẫu đã cũ" in forged.text
        assert (await c.get("/api/me")).status_code == 200, "a forged logout must not work"
        r = await c.post("/logout", data={"csrf_token": csrf})
        assert (r.status_code, r.headers["location"]) == (303, "/login")
        assert (await c.get("/api/me")).status_code == 401


async def test_marketer_cannot_create_users_or_sources(web_any):
    web_any.user("lan", "marketer")
    async with web_any.client() as c:
        csrf = await web_any.login(c, "lan")
        headers = {"X-CSRF-Token": csrf}
        r = await c.post("/api/users", headers=headers,
                         json={"username": "minh", "password": PASSWORD, "role": "admin"})
        assert r.status_code == 403
        assert r.json()["error"]["type"] == "PermissionDeniedError"
        r = await c.post("/api/sources", headers=headers, json={"name": "web", "kind": "web"})
        assert r.status_code == 403
        page = await c.get("/users")
        assert page.status_code == 403 and "Vai trò của bạn không được phép" in page.text
        assert (await c.get("/api/sources")).status_code == 200


async def test_support_agents_do_not_see_write_keys(web):
    web.user("hoa", "support")
    async with web.client() as c:
        await web.login(c, "hoa")
        assert (await c.get("/api/sources")).status_code == 403
        assert (await c.get("/sources")).status_code == 403
        assert 'href="/sources"' not in (await c.get("/")).text


async def test_admin_creates_a_user_who_can_then_log_in(web_any):
    web_any.user("admin", "admin")
    async with web_any.client() as c:
        csrf = await web_any.login(c, "admin")
        r = await c.post("/api/users", headers={"X-CSRF-Token": csrf},
                         json={"username": "minh", "password": PASSWORD, "role": "analyst",
                               "display_name": "Trần Minh"})
        assert r.status_code == 201 and r.json()["role"] == "analyst"
        assert "password" not in str(r.json())
        listed = (await c.get("/api/users")).json()
        assert [u["username"] for u in listed] == ["admin", "minh"]
    async with web_any.client() as c:
        await web_any.login(c, "minh")


@pytest.mark.parametrize("body, field", [
    ({"username": "minh", "password": "short", "role": "analyst"}, "password"),
    ({"username": "minh", "password": PASSWORD, "role": "owner"}, "role"),
    ({"username": "minh", "password": PASSWORD, "role": "analyst", "is_root": True},
     "is_root"),
])
async def test_bad_user_input_is_a_400_naming_the_field(web, body, field):
    web.user("admin", "admin")
    async with web.client() as c:
        csrf = await web.login(c, "admin")
        r = await c.post("/api/users", headers={"X-CSRF-Token": csrf}, json=body)
        assert r.status_code == 400
        error = r.json()["error"]
        assert error["type"] == "ValidationError" and error["field"] == field


async def test_admin_disables_a_user_through_the_api(web):
    web.user("admin", "admin")
    lan = web.user("lan", "marketer")
    async with web.client() as c:
        csrf = await web.login(c, "admin")
        r = await c.patch(f"/api/users/{lan.id}", headers={"X-CSRF-Token": csrf},
                          json={"disabled": True})
        assert r.json()["disabled"] is True
        assert (await c.patch("/api/users/999", headers={"X-CSRF-Token": csrf},
                              json={"disabled": True})).status_code == 404


async def test_session_writes_without_csrf_token_are_refused(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        await web.login(c, "lan")
        r = await c.post("/api/tokens", json={"name": "x"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
        r = await c.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "guess"})
        assert r.status_code == 403
        assert (await c.get("/api/tokens")).json() == []


async def test_token_create_use_revoke(web_any):
    web_any.user("lan", "marketer")
    async with web_any.client() as c:
        csrf = await web_any.login(c, "lan")
        r = await c.post("/api/tokens", headers={"X-CSRF-Token": csrf}, json={"name": "POS"})
        assert r.status_code == 201
        created = r.json()
    secret, token_id = created["secret"], created["token"]["id"]
    async with web_any.client(secret) as api:
        me = await api.get("/api/me")
        assert me.status_code == 200 and me.json()["username"] == "lan"
        [listed] = (await api.get("/api/tokens")).json()
        assert listed["last_used_at"] is not None and "secret" not in listed
        assert listed["prefix"] == secret[:12]
        # Bearer requests need no CSRF token.
        assert (await api.post("/api/tokens", json={"name": "second"})).status_code == 201
        r = await api.delete(f"/api/tokens/{token_id}")
        assert r.status_code == 200 and r.json()["active"] is False
        r = await api.get("/api/me")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["type"] == "AuthError"


async def test_tokens_cannot_be_revoked_by_another_user(web):
    lan = web.user("lan", "marketer")
    web.user("minh", "admin")
    from sen.web.tokens import create_token

    token, secret = create_token(web.ops, lan, "lan's")
    _, minh_secret = create_token(web.ops, web.user("hoa", "analyst"), "hoa's")
    async with web.client(minh_secret) as api:
        assert (await api.delete(f"/api/tokens/{token.id}")).status_code == 404
    async with web.client(secret) as api:
        assert (await api.get("/api/me")).status_code == 200


@pytest.mark.parametrize("header", ["Bearer sen_nope", "Bearer ", "Basic bGFuOng="])
async def test_unknown_or_missing_credentials_are_401(web, header):
    async with web.client() as c:
        r = await c.get("/api/me", headers={"Authorization": header})
        assert r.status_code == 401


async def test_tokens_page_shows_a_new_secret_once_and_revokes(web):
    web.user("lan", "marketer")
    async with web.client() as c:
        csrf = await web.login(c, "lan")
        r = await c.post("/tokens", data={"name": "Báo cáo", "csrf_token": csrf})
        assert r.status_code == 200 and 'id="token-secret"' in r.text
        secret = r.text.split('id="token-secret">')[1].split("<")[0]
        again = await c.get("/tokens")
        assert secret not in again.text and secret[:12] in again.text
        [token] = (await c.get("/api/tokens")).json()
        r = await c.post(f"/tokens/{token['id']}/revoke", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert (await c.get("/api/tokens")).json()[0]["active"] is False
    async with web.client(secret) as api:
        assert (await api.get("/api/me")).status_code == 401


async def test_admin_creates_a_source_and_gets_its_write_key(web_any):
    web_any.user("admin", "admin")
    async with web_any.client() as c:
        csrf = await web_any.login(c, "admin")
        r = await c.post("/api/sources", headers={"X-CSRF-Token": csrf},
                         json={"name": "pos-hcm", "kind": "pos"})
        assert r.status_code == 201
        key = r.json()["write_key"]
        assert web_any.app.state.write_keys.resolve(key) == "pos-hcm"
        dup = await c.post("/api/sources", headers={"X-CSRF-Token": csrf},
                           json={"name": "pos-hcm", "kind": "pos"})
        assert dup.status_code == 400
        assert (dup.json()["error"]["field"], dup.json()["error"]["rule"]) == ("name", "unique")
        bad = await c.post("/api/sources", headers={"X-CSRF-Token": csrf},
                           json={"name": "shop", "kind": "fax"})
        assert bad.status_code == 400 and bad.json()["error"]["field"] == "kind"
        assert [s["name"] for s in (await c.get("/api/sources")).json()] == ["pos-hcm"]
        page = await c.get("/sources")
        assert key in page.text and "POS cửa hàng" in page.text


async def test_sources_page_form_creates_or_explains(web):
    web.user("admin", "admin")
    async with web.client() as c:
        csrf = await web.login(c, "admin")
        r = await c.post("/sources", data={"name": "zalo-oa", "kind": "zalo", "csrf_token": csrf})
        assert r.status_code == 200 and 'id="source-created"' in r.text
        r = await c.post("/sources", data={"name": "Bad Name", "kind": "web",
                                           "csrf_token": csrf})
        assert r.status_code == 400 and 'id="form-error"' in r.text
        assert len((await c.get("/api/sources")).json()) == 1


async def test_imports_need_admin_or_analyst(web):
    pytest.importorskip("sen.ingest.imports_api")
    web.user("lan", "marketer")
    async with web.client() as c:
        csrf = await web.login(c, "lan")
        r = await c.post("/api/imports", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403
