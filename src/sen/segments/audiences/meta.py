"""Meta (Facebook, Instagram) Custom Audiences from a customer list.

Members go to ``POST /v{N}/{audience_id}/users`` and leave through
``DELETE`` on the same edge, as form fields:

* ``payload``: ``{"schema": ["EMAIL", "PHONE"], "data": [[email_sha256, phone_sha256], ...]}``,
  the multi-key form; an unknown key is an empty string;
* ``session``: ``{"session_id", "batch_seq", "last_batch_flag", "estimated_num_total"}``
  so Meta can tell which batches of one upload arrived;
* ``access_token``.

At most 10,000 rows go in one request. Hashes follow
:func:`~sen.segments.audiences.normalise.meta_email` and
:func:`~sen.segments.audiences.normalise.meta_phone`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from sen.segments.audiences.errors import AudienceUploadError
from sen.segments.audiences.normalise import meta_email, meta_phone, sha256_hex
from sen.segments.audiences.sync import Member

MAX_ROWS = 10_000
SCHEMA = ("EMAIL", "PHONE")
# Graph API codes that mean "wait and try again" (service, throttling, audience rate limit).
_TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80003})


def meta_row(member: Member) -> list[str]:
    """The ``[email_sha256, phone_sha256]`` row for one member ("" where unknown)."""
    email = meta_email(member.email).value if member.email else None
    phone = meta_phone(member.phone).value if member.phone else None
    return [sha256_hex(email) if email else "", sha256_hex(phone) if phone else ""]


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class MetaCustomAudience:
    """One customer-list Custom Audience, written through the Marketing API.

    ``access_token`` is a system user's (or user's) token with
    ``ads_management`` on the ad account. ``base_url`` points elsewhere in
    tests; ``session_ids`` makes session ids predictable there too.
    """

    name = "meta"

    def __init__(
        self,
        audience_id: str,
        access_token: str,
        *,
        api_version: str = "v25.0",
        base_url: str = "https://graph.facebook.com",
        batch_size: int = MAX_ROWS,
        client: httpx.Client | None = None,
        session_ids: Callable[[], int] | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_ROWS:
            raise ValueError(f"batch_size must be between 1 and {MAX_ROWS}")
        self.audience_id = audience_id
        self.access_token = access_token
        self.url = f"{base_url.rstrip('/')}/{api_version}/{audience_id}/users"
        self.batch_size = batch_size
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=timeout)
        self.session_ids = session_ids or (lambda: secrets.randbits(63))
        self.responses: list[dict[str, Any]] = []

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self.client.close()

    def add(self, members: Sequence[Member]) -> None:
        """Add members, in one upload session of batches of at most ``batch_size`` rows."""
        self._upload("POST", members)

    def remove(self, members: Sequence[Member]) -> None:
        """Remove members, batched like :meth:`add`."""
        self._upload("DELETE", members)

    def requests(self, members: Sequence[Member]) -> list[dict[str, str]]:
        """The form fields of each request that uploads ``members`` (one session)."""
        rows = [row for row in map(meta_row, members) if any(row)]
        session_id = self.session_ids()
        batches = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        return [
            {
                "payload": _compact({"schema": list(SCHEMA), "data": batch}),
                "session": _compact(
                    {
                        "session_id": session_id,
                        "batch_seq": seq,
                        "last_batch_flag": seq == len(batches),
                        "estimated_num_total": len(rows),
                    }
                ),
                "access_token": self.access_token,
            }
            for seq, batch in enumerate(batches, start=1)
        ]

    def _upload(self, method: str, members: Sequence[Member]) -> None:
        for form in self.requests(members):
            try:
                response = self.client.request(method, self.url, data=form)
            except httpx.HTTPError as exc:
                raise AudienceUploadError(
                    f"Meta could not be reached: {exc}.",
                    provider="meta",
                    status=0,
                    hint="Check the network, then run the sync again.",
                    transient=True,
                ) from exc
            if response.status_code != 200:
                raise meta_error(response)
            self.responses.append(response.json())


def meta_error(response: httpx.Response) -> AudienceUploadError:
    """Translate a Graph API error body into a Sen error that says what to do."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    text = error.get("error_user_msg") or error.get("message") or response.reason_phrase
    label = f"{code}/{subcode}" if subcode else str(code)
    status = response.status_code
    message = f"Meta refused the audience upload (HTTP {status}, code {label}): {text}"
    common: dict[str, Any] = {"provider": "meta", "status": response.status_code, "code": label}
    if code in (190, 102):
        hint = (
            "Renew the access token (a system user token from Business Settings does not "
            "expire) and give the new one to MetaCustomAudience(access_token=...)."
        )
        return AudienceUploadError(message, hint=hint, **common)
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        hint = (
            "Give the token's user the ads_management permission and access to the ad "
            "account that owns this audience."
        )
        return AudienceUploadError(message, hint=hint, **common)
    if code in _TRANSIENT_CODES or error.get("is_transient") or response.status_code >= 500:
        hint = "Meta is busy or throttling; run the sync again later."
        return AudienceUploadError(message, hint=hint, transient=True, **common)
    hint = "Check the audience id and that it is a customer-list Custom Audience."
    return AudienceUploadError(message, hint=hint, **common)
