"""Google Ads access tokens renewed with a refresh token, against a local token endpoint."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from sen.config import Settings
from sen.segments import saved
from sen.segments.audiences import AudienceUploadError, links
from sen.segments.audiences.oauth import RefreshingAccessToken
from tests.segments.audiences.test_links import AS_OF, stores  # noqa: F401
from tests.support import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def token_for(oauth, url: str, clock: Clock | None = None, **kw) -> RefreshingAccessToken:  # noqa: ANN001
    return RefreshingAccessToken(kw.pop("client_id", oauth.client_id),
                                 kw.pop("client_secret", oauth.client_secret),
                                 kw.pop("refresh_token", "1//refresh"), token_url=url,
                                 clock=clock or Clock(), **kw)


def test_a_token_is_fetched_once_and_renewed_a_minute_before_it_expires(google_oauth):
    oauth, url = google_oauth
    clock = Clock()
    token = token_for(oauth, url, clock)
    assert token() == token() == "ya29.issued-1"
    sent = oauth.received[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(sent.body.decode())) == {
        "grant_type": "refresh_token", "client_id": oauth.client_id,
        "client_secret": oauth.client_secret, "refresh_token": "1//refresh"}
    clock.now += 3599 - 61  # still more than a minute left
    assert token() == "ya29.issued-1"
    clock.now += 2
    assert token() == "ya29.issued-2" and token.fetched == 2


@pytest.mark.parametrize("change, code, words, transient", [
    ({"refresh_token": "1//revoked"}, "invalid_grant", "SEN_GOOGLE_ADS_REFRESH_TOKEN", False),
    ({"client_secret": "wrong"}, "invalid_client", "SEN_GOOGLE_ADS_CLIENT_SECRET", False),
])
def test_a_refused_refresh_says_what_to_renew(google_oauth, change, code, words, transient):
    oauth, url = google_oauth
    with pytest.raises(AudienceUploadError) as caught:
        token_for(oauth, url, **change)()
    assert (caught.value.code, caught.value.transient) == (code, transient)
    assert words in caught.value.hint
    assert str(caught.value).startswith(f"Google refused to renew the access token ({code})")


def test_an_unavailable_endpoint_is_transient(google_oauth):
    oauth, url = google_oauth
    oauth.fail_next.append(503)
    with pytest.raises(AudienceUploadError) as caught:
        token_for(oauth, url)()
    assert caught.value.transient and caught.value.status == 503
    with pytest.raises(AudienceUploadError) as caught:
        token_for(oauth, f"http://127.0.0.1:{free_port()}/token")()
    assert caught.value.transient and caught.value.status == 0
    assert "could not be reached" in str(caught.value)


def test_a_server_syncs_all_day_on_one_refresh_token(stores, google_server,  # noqa: F811
                                                      google_oauth):
    engine, ops = stores
    ads, ads_url = google_server
    oauth, token_url = google_oauth
    ads.access_token = "never-this-one"  # only tokens the endpoint issued are accepted
    settings = Settings(google_ads_customer_id="1234567890", google_ads_developer_token="dev-token",
                        google_ads_client_id=oauth.client_id,
                        google_ads_client_secret=oauth.client_secret,
                        google_ads_refresh_token="1//refresh",
                        google_oauth_token_url=token_url, google_ads_url=ads_url)
    link = links.save_link(ops, links.AudienceLink(
        name="g", segment="bought-30d", destination="google", audience_id="555"))
    saved.run(engine, saved.get(ops, "bought-30d"), as_of=AS_OF)
    first = links.sync(engine, link, settings=settings)
    assert (first.status, first.added) == ("ok", 2), first.error
    engine.execute("UPDATE profiles SET email = 'lan@yahoo.com.vn' WHERE profile_id = 'p_hoa'")
    second = links.sync(engine, link, settings=settings)
    assert (second.status, second.added, second.removed) == ("ok", 1, 1), second.error
    assert oauth.issued == ["ya29.issued-1"]  # one access token served both syncs
    bearer = {r.headers["authorization"] for r in ads.received}
    assert bearer == {"Bearer ya29.issued-1"}
