"""The Google Customer Match client against a local server that speaks the Google Ads REST API."""

from __future__ import annotations

import json

import httpx
import pytest

from sen.segments.audiences import AudienceUploadError, GoogleCustomerMatch, Member
from tests.segments.audiences.support import MEMBERS, digest


def client(url: str, **kwargs: object) -> GoogleCustomerMatch:
    options: dict = {"developer_token": "dev-token", "access_token": "google-token", **kwargs}
    return GoogleCustomerMatch("123-456-7890", "555", base_url=url, **options)


def test_the_requests_match_the_documented_format_byte_for_byte(google_server) -> None:
    ads, url = google_server
    client(url).add(MEMBERS)
    create, add, run = ads.received
    job = "customers/1234567890/offlineUserDataJobs/1001"
    assert create.path == "/v26/customers/1234567890/offlineUserDataJobs:create"
    assert create.body == (
        b'{"job":{"type":"CUSTOMER_MATCH_USER_LIST","customerMatchUserListMetadata":'
        b'{"userList":"customers/1234567890/userLists/555"}}}'
    )
    assert add.path == f"/v26/{job}:addOperations"
    assert add.body == (
        '{"operations":['
        f'{{"create":{{"userIdentifiers":[{{"hashedEmail":"{digest("lan.nguyen@gmail.com")}"}},'
        f'{{"hashedPhoneNumber":"{digest("+84912345678")}"}}]}}}},'
        f'{{"create":{{"userIdentifiers":[{{"hashedEmail":"{digest("tran.van.b@yahoo.com.vn")}"}}]}}}},'
        f'{{"create":{{"userIdentifiers":[{{"hashedPhoneNumber":"{digest("+84384116370")}"}}]}}}}]}}'
    ).encode()
    assert (run.path, run.body) == (f"/v26/{job}:run", b"{}")
    for request in ads.received:
        assert request.headers["developer-token"] == "dev-token"
        assert request.headers["authorization"] == "Bearer google-token"
        assert request.headers["content-type"] == "application/json"
        assert "login-customer-id" not in request.headers
    assert ads.lists["customers/1234567890/userLists/555"] == {
        ("hashedEmail", digest("lan.nguyen@gmail.com")),
        ("hashedPhoneNumber", digest("+84912345678")),
        ("hashedEmail", digest("tran.van.b@yahoo.com.vn")),
        ("hashedPhoneNumber", digest("+84384116370")),
    }


def test_remove_is_a_job_of_remove_operations(google_server) -> None:
    ads, url = google_server
    google = client(url)
    google.add(MEMBERS)
    google.remove(MEMBERS[:1])
    operations = json.loads(ads.received[-2].body)["operations"]
    assert list(operations[0]) == ["remove"]
    assert len(ads.lists["customers/1234567890/userLists/555"]) == 2
    assert google.jobs == [
        "customers/1234567890/offlineUserDataJobs/1001",
        "customers/1234567890/offlineUserDataJobs/1002",
    ]


def test_operations_are_split_at_the_identifier_limit(google_server) -> None:
    ads, url = google_server
    client(url, max_identifiers_per_request=3).add(MEMBERS)
    adds = [r for r in ads.received if r.path.endswith(":addOperations")]
    sizes = [len(json.loads(r.body)["operations"]) for r in adds]
    assert sizes == [2, 1]  # 2 + 1 identifiers, then 1


@pytest.mark.slow
def test_the_default_limit_is_100000_identifiers_per_request() -> None:
    members = [Member(f"p{i}", f"khach{i}@gmail.com", None) for i in range(100_001)]
    batches = client("http://unused").operation_batches("create", members)
    assert [len(b) for b in batches] == [100_000, 1]
    with pytest.raises(ValueError):
        client("http://unused", max_identifiers_per_request=100_001)


def test_consent_is_sent_in_the_job_metadata(google_server) -> None:
    ads, url = google_server
    client(url, consent={"adUserData": "GRANTED", "adPersonalization": "GRANTED"}).add(MEMBERS)
    assert ads.received[0].body == (
        b'{"job":{"type":"CUSTOMER_MATCH_USER_LIST","customerMatchUserListMetadata":'
        b'{"userList":"customers/1234567890/userLists/555",'
        b'"consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}}}'
    )


def test_login_customer_id_is_sent_when_set(google_server) -> None:
    ads, url = google_server
    ads.login_customer_id = "9876543210"
    with pytest.raises(AudienceUploadError) as raised:
        client(url).add(MEMBERS)
    assert raised.value.code == "authorizationError.USER_PERMISSION_DENIED"
    assert "login_customer_id" in str(raised.value)
    client(url, login_customer_id="987-654-3210").add(MEMBERS)
    assert ads.received[-1].headers["login-customer-id"] == "9876543210"


def test_an_expired_token_says_to_renew_it(google_server) -> None:
    ads, url = google_server
    ads.expired_tokens.add("old-token")
    with pytest.raises(AudienceUploadError) as raised:
        client(url, access_token="old-token").add(MEMBERS)
    error = raised.value
    assert (error.provider, error.status, error.transient) == ("google", 401, False)
    assert error.code == "authenticationError.OAUTH_TOKEN_EXPIRED"
    assert "Renew the access token" in str(error)


def test_the_access_token_may_be_a_callable(google_server) -> None:
    ads, url = google_server
    calls = []

    def fresh() -> str:
        calls.append(1)
        return "google-token"

    client(url, access_token=fresh).add(MEMBERS)
    assert len(calls) == 3


def test_a_server_error_is_transient(google_server) -> None:
    ads, url = google_server
    ads.fail_next.append(503)
    with pytest.raises(AudienceUploadError) as raised:
        client(url).add(MEMBERS)
    assert raised.value.transient
    assert "run the sync again later" in str(raised.value)


def test_the_local_server_refuses_unhashed_identifiers(google_server) -> None:
    ads, url = google_server
    headers = {"developer-token": "dev-token", "Authorization": "Bearer google-token"}
    created = httpx.post(
        f"{url}/v26/customers/1234567890/offlineUserDataJobs:create",
        json={"job": {"type": "CUSTOMER_MATCH_USER_LIST",
                      "customerMatchUserListMetadata": {"userList":
                                                        "customers/1234567890/userLists/555"}}},
        headers=headers,
    ).json()["resourceName"]
    response = httpx.post(
        f"{url}/v26/{created}:addOperations",
        json={"operations": [{"create": {"userIdentifiers": [{"hashedEmail": "lan@gmail.com"}]}}]},
        headers=headers,
    )
    assert response.status_code == 400
    [failure] = response.json()["error"]["details"]
    assert failure["errors"][0]["errorCode"] == {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"}
