"""Web Push in headless Chromium: a shop's page subscribes through sen-push.js, Sen pushes,
and the service worker shows the notification.

The shop and Sen run on two origins, so the page's calls to Sen are real cross-origin
requests. Chromium cannot reach a real push service here, so the page's
``PushManager.subscribe`` hands back a subscription made by the test (a P-256 key pair
and an auth secret, pointing at the sandbox push service) and records what it was
asked; the push the sandbox receives is decrypted with that key and delivered to the
service worker through the DevTools protocol, as the browser's push service would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import http_ece
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sen.demo.sandbox.push import PushService
from sen.demo.sandbox.serve import Served
from sen.messaging import push
from sen.messaging.model import Channel, OutgoingMessage, Purpose
from sen.messaging.providers import build
from sen.messaging.vapid import b64url_decode
from sen.store.secrets import SecretBox
from tests.web.api.subscriptions import WRITE_KEY, Browser

pytestmark = pytest.mark.browser
STATIC = Path(__file__).parents[3] / "src" / "sen" / "web" / "static"

PAGE = """<!doctype html><html><body><button id="notify">Nhận thông báo</button>
<script>localStorage.setItem('ajs_anonymous_id', JSON.stringify('anon-shop-7'));
window.asked = null; window.sub = null;
PushManager.prototype.getSubscription = () => Promise.resolve(window.sub);
PushManager.prototype.subscribe = function (options) {
  window.asked = Array.from(new Uint8Array(options.applicationServerKey));
  const made = SUBSCRIPTION;
  window.sub = {endpoint: made.endpoint, options: options, toJSON: () => made,
                unsubscribe: () => { window.sub = null; return Promise.resolve(true); }};
  return Promise.resolve(window.sub);
};</script>
<script src="SEN/static/push/sen-push.js"></script>
<script>SenPush.init({host: 'SEN', writeKey: 'KEY'});</script></body></html>"""


def shop_app(sen_url: str, subscription: dict) -> Starlette:
    page = (PAGE.replace("SEN", sen_url).replace("KEY", WRITE_KEY)
            .replace("SUBSCRIPTION", json.dumps(subscription)))
    worker = (STATIC / "push" / "sen-push-sw.js").read_text()

    async def index(_request) -> HTMLResponse:  # noqa: ANN001
        return HTMLResponse(page)

    async def service_worker(_request) -> Response:  # noqa: ANN001
        return Response(worker, media_type="text/javascript")

    return Starlette(routes=[Route("/", index), Route("/sen-push-sw.js", service_worker)])


@pytest.fixture
def sen(app) -> Iterator[str]:  # noqa: ANN001
    """Sen's routes and its static files (sen-push.js) on their own origin."""
    with Served(app) as served:
        yield served.url


def run(driver, script: str):  # noqa: ANN001, ANN201
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {script}).then(done, (e) => done('ERROR ' + e));")


SHOWN = ("navigator.serviceWorker.ready.then(async (r) => {"
         " for (let i = 0; i < 10; i++) {"
         "  const ns = await r.getNotifications();"
         "  if (ns.length) return ns.map(n => [n.title, n.body, n.tag, n.data]);"
         "  await new Promise(ok => setTimeout(ok, 100)); }"
         " return []; })")


def deliver(driver, origin: str, data: str) -> list:  # noqa: ANN001
    """Hand ``data`` to the origin's service worker as its push service would; what it shows.

    Right after ``ServiceWorker.enable`` Chromium sometimes drops a delivery without a
    word, so it is tried again; the notification's tag keeps a repeat from doubling it.
    The registration is the profile's first, id 0."""
    driver.execute_cdp_cmd("ServiceWorker.enable", {})
    for _ in range(10):
        driver.execute_cdp_cmd("ServiceWorker.deliverPushMessage", {
            "origin": origin + "/", "registrationId": "0", "data": data})
        if shown := run(driver, SHOWN):
            return shown
    return []


def test_a_visitor_subscribes_and_sees_what_sen_pushes(browser, app, sen) -> None:
    service = PushService()
    with Served(service.app()) as push_served:
        key = push.vapid_keys(app.state.ops, SecretBox.for_settings(app.state.settings))
        visitor = Browser(service.subscribe(push_served.url, key.public_key))
        with Served(shop_app(sen, visitor.to_json())) as shop:
            browser.get(shop.url + "/")
            browser.execute_cdp_cmd("Browser.grantPermissions", {
                "origin": shop.url, "permissions": ["notifications"]})
            assert run(browser, "SenPush.subscribe()")["ok"] is True
            asked = browser.execute_script("return window.asked")

            [sub] = push.live_subscriptions(app.state.ops, ["a:anon-shop-7"])
            assert sub.endpoint == visitor.endpoint and sub.source == "shop-web"
            assert bytes(asked) == b64url_decode(key.public_key)  # Sen's VAPID key

            sender = build("webpush", "web-push", {"subject": "mailto:ops@shop.vn"}, {},
                           vapid=key)
            sender.send(OutgoingMessage(
                id=3, key="c:3:a:anon-shop-7:push", channel=Channel.PUSH,
                purpose=Purpose.ADVERTISING, address=sub.endpoint,
                data=sub.message_data({"title": "Giảm 30% hôm nay",
                                       "body": "Chỉ đến 22:00", "url": f"{sen}/l/Xy7"})))
            sender.close()
            plain = http_ece.decrypt(service.received[0].body, private_key=visitor.key,
                                     auth_secret=visitor.auth, version="aes128gcm")

            shown = deliver(browser, shop.url, plain.decode())

            assert run(browser, "SenPush.unsubscribe()") == {"ok": True}
            assert push.live_subscriptions(app.state.ops, ["a:anon-shop-7"]) == []
    assert shown == [["Giảm 30% hôm nay", "Chỉ đến 22:00", "c:3:a:anon-shop-7:push",
                      {"url": f"{sen}/l/Xy7"}]]
