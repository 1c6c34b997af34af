"""Renewing a Zalo Official Account's tokens (OAuth v4).

``POST {oauth}/v4/oa/access_token`` with header ``secret_key`` (the app's
secret) and form fields ``app_id``, ``grant_type=refresh_token`` and
``refresh_token``. The answer is ``{"access_token", "refresh_token",
"expires_in"}`` (``expires_in`` in seconds, as a string); a refusal carries an
``error`` code (with ``error_name`` / ``error_reason``) and no token. The
refresh token sent is dead afterwards either way, so the caller must store the
new pair before anything else (see :mod:`sen.messaging.providers.tokens`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from sen.errors import ProviderError
from sen.messaging.providers import wire
from sen.messaging.providers.tokens import TokenPair

if TYPE_CHECKING:
    from sen.messaging.providers.zalo import ZaloConfig, ZaloSecrets

KIND = "zalo"
PATH = "/v4/oa/access_token"
DEFAULT_LIFETIME = 90_000  # seconds, when Zalo does not say (25 hours)
REAUTHORIZE = ("Authorize the Official Account for the app again (Zalo for Developers) and "
               "enter the new refresh token as the provider's secret refresh_token, on the "
               "Channels page or with `sen messaging provider set`.")


def refresh(client: httpx.Client, config: ZaloConfig, secrets: ZaloSecrets,
            current: TokenPair, now: datetime) -> TokenPair:
    """The pair Zalo issues for ``current.refresh_token``; raises :class:`ProviderError`."""
    title = "Zalo OAuth"
    url = config.oauth_base_url.rstrip("/") + PATH
    response = wire.call(client, KIND, title, "POST", url,
                         headers={"secret_key": secrets.app_secret},
                         data={"app_id": config.app_id, "grant_type": "refresh_token",
                               "refresh_token": current.refresh_token})
    wire.check_status(response, KIND, title, auth_hint="Check app_id and the secret app_secret.")
    reply = wire.json_object(response, KIND, title)
    access, renewal = reply.get("access_token"), reply.get("refresh_token")
    if isinstance(access, str) and access and isinstance(renewal, str) and renewal:
        try:
            lifetime = int(reply.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        return TokenPair(access, renewal, now + timedelta(seconds=lifetime))
    code = reply.get("error")
    reason = (reply.get("error_reason") or reply.get("error_description")
              or reply.get("error_name") or reply.get("message") or "no token in the answer")
    raise ProviderError(f"Zalo refused to renew the access token (error {code}: {reason}).",
                        provider=KIND, code=None if code is None else str(code),
                        hint=REAUTHORIZE + " Check app_id and app_secret too.")
