"""Google Ads access tokens from an OAuth 2.0 refresh token, renewed before they expire.

An access token for the Google Ads API lasts about an hour, so a server that
syncs audiences all day cannot be given one. It is given the OAuth client's id
and secret and a refresh token (issued once, when an account owner consented
to the ``adwords`` scope), and asks the token endpoint for a new access token
when the one it holds is about to expire: RFC 6749 section 6, a form-encoded
``POST`` with ``grant_type=refresh_token``, answered with JSON
``{"access_token", "expires_in", "token_type": "Bearer"}`` or an error such as
``{"error": "invalid_grant", "error_description": …}``.

:class:`RefreshingAccessToken` is a callable, which is what
:class:`~sen.segments.audiences.google.GoogleCustomerMatch` takes as its
``access_token``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from sen.segments.audiences.errors import AudienceUploadError

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
_HINTS = {
    "invalid_grant": "The refresh token was revoked, expired or unused for six months: let an "
                     "account owner consent again and set SEN_GOOGLE_ADS_REFRESH_TOKEN.",
    "invalid_client": "Check SEN_GOOGLE_ADS_CLIENT_ID and SEN_GOOGLE_ADS_CLIENT_SECRET: they "
                      "must be the OAuth client that the refresh token was issued to.",
    "unauthorized_client": "The OAuth client may not use refresh tokens; use a Desktop or Web "
                           "client from the Google Cloud console.",
}


class RefreshingAccessToken:
    """An access token for the Google Ads API, fetched with a refresh token and kept
    until ``margin_s`` before it expires. Safe to call from several threads."""

    def __init__(self, client_id: str, client_secret: str, refresh_token: str, *,
                 token_url: str = GOOGLE_TOKEN_URL, client: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic, margin_s: float = 60.0,
                 timeout: float = 30.0) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.refresh_token, self.token_url = refresh_token, token_url
        self.client = client or httpx.Client(timeout=timeout)
        self.clock, self.margin_s = clock, margin_s
        self.fetched = 0  # how many access tokens were asked for
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._expires_at - self.margin_s:
                self._token, lifetime = self._fetch()
                self._expires_at = self.clock() + lifetime
            return self._token

    def _fetch(self) -> tuple[str, float]:
        form = {"grant_type": "refresh_token", "client_id": self.client_id,
                "client_secret": self.client_secret, "refresh_token": self.refresh_token}
        try:
            response = self.client.post(self.token_url, data=form,
                                        headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise AudienceUploadError(f"Google's OAuth token endpoint could not be reached: "
                                      f"{exc}.", provider="google", status=0,
                                      hint="Check the network, then run the sync again.",
                                      transient=True) from exc
        self.fetched += 1
        body = _json(response)
        if response.status_code != 200:
            error = str(body.get("error") or response.status_code)
            detail = body.get("error_description") or response.reason_phrase
            raise AudienceUploadError(
                f"Google refused to renew the access token ({error}): {detail}",
                provider="google", status=response.status_code, code=error,
                hint=_HINTS.get(error, "Run the sync again later."),
                transient=response.status_code == 429 or response.status_code >= 500)
        token, lifetime = body.get("access_token"), body.get("expires_in", 3600)
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            raise AudienceUploadError("Google's OAuth token endpoint answered without an "
                                      "access token.", provider="google",
                                      status=response.status_code, transient=True,
                                      hint="Run the sync again later.")
        return token, float(lifetime)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
