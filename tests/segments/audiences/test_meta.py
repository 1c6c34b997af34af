"""The Meta Custom Audiences client against a local server that speaks the Marketing API."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from sen.segments.audiences import AudienceUploadError, Member, MetaCustomAudience
from tests.segments.audiences.support import MEMBERS, digest


def client(url: str, **kwargs: object) -> MetaCustomAudience:
    return MetaCustomAudience("6123", "meta-token", base_url=url, session_ids=lambda: 42, **kwargs)


def test_the_request_body_matches_the_documented_format_byte_for_byte(meta_server) -> None:
    graph, url = meta_server
    client(url).add(MEMBERS)
    payload = (
        '{"schema":["EMAIL","PHONE"],"data":['
        f'["{digest("lan.nguyen@gmail.com")}","{digest("84912345678")}"],'
        f'["{digest("tran.van.b@yahoo.com.vn")}",""],'
        f'["","{digest("84384116370")}"]]}}'
    )
    session = '{"session_id":42,"batch_seq":1,"last_batch_flag":true,"estimated_num_total":3}'
    form = [("payload", payload), ("session", session), ("access_token", "meta-token")]
    expected = urlencode(form)
    [request] = graph.received
    assert (request.method, request.path) == ("POST", "/v25.0/6123/users")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.body == expected.encode()
    assert len(graph.audiences["6123"]) == 3


def test_remove_deletes_the_same_rows(meta_server) -> None:
    graph, url = meta_server
    meta = client(url)
    meta.add(MEMBERS)
    meta.remove(MEMBERS[:1])
    assert [r.method for r in graph.received] == ["POST", "DELETE"]
    assert graph.audiences["6123"] == {
        (digest("tran.van.b@yahoo.com.vn"), ""),
        ("", digest("84384116370")),
    }
    assert meta.responses[-1]["num_received"] == 1


def test_more_than_10000_rows_go_in_batches_of_one_session(meta_server) -> None:
    graph, url = meta_server
    members = [Member(f"p{i}", f"khach{i}@gmail.com", None) for i in range(10_001)]
    client(url).add(members)
    sessions = [r.body.split(b"&session=")[1].split(b"&")[0] for r in graph.received]
    assert [len(r.body) > 600_000 for r in graph.received] == [True, False]
    assert sessions == [
        urlencode({"": '{"session_id":42,"batch_seq":1,"last_batch_flag":false,'
                       '"estimated_num_total":10001}'})[1:].encode(),
        urlencode({"": '{"session_id":42,"batch_seq":2,"last_batch_flag":true,'
                       '"estimated_num_total":10001}'})[1:].encode(),
    ]
    assert len(graph.audiences["6123"]) == 10_001


def test_batch_size_cannot_exceed_the_documented_limit() -> None:
    with pytest.raises(ValueError, match="10000"):
        MetaCustomAudience("6123", "t", batch_size=10_001)


def test_the_local_server_refuses_what_meta_refuses(meta_server) -> None:
    """Unhashed values, unknown schema names and oversized batches are rejected."""
    _, url = meta_server
    session = '{"session_id":1,"batch_seq":1,"last_batch_flag":true}'

    def post(payload: str) -> dict:
        form = {"payload": payload, "session": session, "access_token": "meta-token"}
        response = httpx.post(f"{url}/v25.0/6123/users", data=form)
        assert response.status_code == 400
        return response.json()["error"]

    assert post('{"schema":["EMAIL"],"data":[["lan@gmail.com"]]}')["code"] == 100
    assert post('{"schema":["E_MAIL"],"data":[["' + digest("x") + '"]]}')["code"] == 100
    too_many = '{"schema":"EMAIL_SHA256","data":[' + ",".join([f'["{digest("x")}"]'] * 10_001)
    assert "10000" in post(too_many + "]}")["message"]


def test_an_expired_token_says_to_renew_it(meta_server) -> None:
    graph, url = meta_server
    graph.expired_tokens.add("old-token")
    meta = MetaCustomAudience("6123", "old-token", base_url=url)
    with pytest.raises(AudienceUploadError) as raised:
        meta.add(MEMBERS)
    error = raised.value
    assert (error.provider, error.status, error.code, error.transient) == ("meta", 400, "190/463",
                                                                          False)
    assert "Session has expired" in str(error)
    assert "Renew the access token" in str(error)


def test_a_server_error_is_transient(meta_server) -> None:
    graph, url = meta_server
    graph.fail_next.append(500)
    with pytest.raises(AudienceUploadError) as raised:
        client(url).add(MEMBERS)
    assert raised.value.transient
    assert "run the sync again later" in str(raised.value)


def test_an_unreachable_server_is_transient() -> None:
    meta = MetaCustomAudience("6123", "t", base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(AudienceUploadError) as raised:
        meta.add(MEMBERS)
    assert raised.value.transient and raised.value.status == 0
