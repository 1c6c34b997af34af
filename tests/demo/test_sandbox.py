"""The provider sandboxes themselves, spoken to over HTTP as documented: the inbox and
fault endpoints the demo uses, the documented refusals, and callbacks that retry."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sen.demo.sandbox import (
    BackgroundServer,
    EsmsSandbox,
    SpeedSmsSandbox,
    ZaloSandbox,
    serve_in_thread,
)
from sen.demo.sandbox.common import now
from sen.demo.sandbox.courier import Courier
from tests.messaging.providers.support import Catcher

SINGLE = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
BULK = "/MainService.svc/json/SendMultipleSMSBrandname_json/"
AUTH = {"ApiKey": "esms-api-key", "SecretKey": "esms-secret", "Brandname": "SENSHOES"}


def care(phone: str = "0912345678", **more) -> dict:
    return AUTH | {"Phone": phone, "Content": "Don hang da giao", "SmsType": "2"} | more


def test_the_inbox_and_faults_are_reachable_over_http() -> None:
    box = EsmsSandbox()
    with serve_in_thread(box.app()) as url, httpx.Client(base_url=url) as http:
        assert http.post(SINGLE, json=care(RequestId="r1")).json()["CodeResult"] == "100"
        assert http.post("/_sandbox/faults", json={"kind": "500", "times": 2}).json() == {
            "ok": True}
        assert [http.post(SINGLE, json=care()).status_code for _ in range(3)] == [500, 500, 200]
        assert http.post("/_sandbox/faults", json={"kind": "nonsense"}).status_code == 400
        inbox = http.get("/_sandbox/messages").json()
        assert inbox["counts"] == {"0912345678": 2}
        assert inbox["messages"][0]["request_id"] == "r1"
        http.post("/_sandbox/reset")
        assert http.get("/_sandbox/messages").json()["messages"] == []
    box.close()


def test_esms_refuses_as_documented() -> None:
    box = EsmsSandbox()
    with serve_in_thread(box.app()) as url, httpx.Client(base_url=url) as http:
        def code(path: str, body: dict) -> str:
            return http.post(path, json=body).json()["CodeResult"]

        assert code(SINGLE, care(ApiKey="x")) == "101"
        assert code(SINGLE, care(Brandname="OTHER")) == "104"
        assert code(SINGLE, care(SmsType="1")) == "118"  # no single advertising documented
        assert code(SINGLE, care(SmsType="")) == "300"
        assert code(SINGLE, care("12345")) == "108"
        phones = [f"09{i:08d}" for i in range(5001)]
        ad = AUTH | {"Content": "[QC] Sale", "SmsType": "1"}
        assert code(BULK, ad | {"Phones": phones[:29] + phones[:5]}) == "107"
        assert code(BULK, ad | {"Phones": phones}) == "120"
        assert code(BULK, ad | {"Phones": phones[:30], "RequestId": "b1"}) == "100"
        assert http.post(BULK, json=ad | {"Phones": phones[:30], "RequestId": "b1"}).json() == {
            "CodeResult": "124", "CountRegenerate": 0, "ErrorMessage": "Request exist 1"}
        assert http.post(SINGLE, content=b"not json").json() == {"error": "Invalid request"}
    box.close()


def test_esms_request_ids_block_repeats_for_24_hours() -> None:
    box = EsmsSandbox()
    with serve_in_thread(box.app()) as url, httpx.Client(base_url=url) as http:
        assert http.post(SINGLE, json=care(RequestId="r1")).json()["CodeResult"] == "100"
        assert http.post(SINGLE, json=care(RequestId="r1")).json()["CodeResult"] == "124"
        box.request_ids["r1"] = now() - timedelta(hours=24, seconds=1)
        assert http.post(SINGLE, json=care(RequestId="r1")).json()["CodeResult"] == "100"
    assert box.count("0912345678") == 2
    box.close()


def test_speedsms_wants_basic_auth_and_limits_the_rate() -> None:
    box = SpeedSmsSandbox(limit=1)
    body = {"to": ["84912345678"], "content": "Hi", "sms_type": 3, "sender": "SENSHOES"}
    with serve_in_thread(box.app()) as url, httpx.Client(base_url=url) as http:
        assert http.post("/index.php/sms/send", json=body).status_code == 401
        ok = http.post("/index.php/sms/send", json=body, auth=("speedsms-token", "x"))
        assert ok.json()["status"] == "success"
        limited = http.post("/index.php/sms/send", json=body, auth=("speedsms-token", "x"))
        assert limited.status_code == 429 and limited.json()["message"] == "Rate limit exceeded."
        assert 1 <= int(limited.headers["X-Rate-Limit-Reset"]) <= 60
    box.close()


def test_zalo_refresh_tokens_work_once_and_tokens_expire() -> None:
    box = ZaloSandbox()
    access, refresh = box.issue_tokens()
    form = {"app_id": box.app_id, "grant_type": "refresh_token", "refresh_token": refresh}
    body = {"phone": "84912345678", "template_id": "231455", "tracking_id": "t",
            "template_data": {"customer_name": "A", "order_code": "B", "status": "C"}}
    with serve_in_thread(box.app()) as url, httpx.Client(base_url=url) as http:
        def send(token: str) -> int:
            return http.post("/message/template", json=body,
                             headers={"access_token": token}).json()["error"]

        assert send(access) == 0
        renewed = http.post("/v4/oa/access_token", data=form,
                            headers={"secret_key": box.app_secret}).json()
        assert set(renewed) == {"access_token", "refresh_token", "expires_in"}
        again = http.post("/v4/oa/access_token", data=form,
                          headers={"secret_key": box.app_secret}).json()
        assert "access_token" not in again and again["error"] < 0
        wrong = http.post("/v4/oa/access_token", data=form | {
            "refresh_token": renewed["refresh_token"]}, headers={"secret_key": "x"}).json()
        assert "access_token" not in wrong
        box.expire_tokens()
        assert send(renewed["access_token"]) == -124
    box.close()


def test_callbacks_are_retried_until_the_receiver_answers() -> None:
    catcher = Catcher(fail_first=2)
    courier = Courier(attempts=5)
    with serve_in_thread(catcher.app()) as url:
        courier.schedule(0, "GET", url + "/hook", params={"a": "1"})
        assert courier.wait_idle(15)
    courier.close()
    assert [status for _, _, status in courier.sent] == [500, 500, 200]
    assert catcher.caught[0].query == {"a": "1"}


def test_a_background_server_starts_and_stops() -> None:
    box = EsmsSandbox()
    server = BackgroundServer(box.app()).start()
    try:
        assert httpx.get(server.url + "/_sandbox/messages").status_code == 200
    finally:
        server.stop()
        box.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_sandbox/messages")
