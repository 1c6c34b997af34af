"""Google Ads Customer Match through the REST interface of ``OfflineUserDataJobService``.

Each :meth:`~GoogleCustomerMatch.add` or :meth:`~GoogleCustomerMatch.remove` is one job:

1. ``POST /v{N}/customers/{customer_id}/offlineUserDataJobs:create`` with
   ``{"job": {"type": "CUSTOMER_MATCH_USER_LIST",
   "customerMatchUserListMetadata": {"userList": "customers/{id}/userLists/{id}"}}}``,
   answered with the job's ``resourceName``;
2. ``POST /v{N}/{resourceName}:addOperations`` with
   ``{"operations": [{"create": {"userIdentifiers": [{"hashedEmail": …},
   {"hashedPhoneNumber": …}]}}]}`` (``remove`` instead of ``create`` to take
   people out), at most 100,000 identifiers per request;
3. ``POST /v{N}/{resourceName}:run``; Google processes the job in the background.

Headers: ``developer-token``, ``Authorization: Bearer <OAuth access token>``
and, when the account is reached through a manager account, ``login-customer-id``.
Hashes follow :func:`~sen.segments.audiences.normalise.google_email` and
:func:`~sen.segments.audiences.normalise.google_phone`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from sen.segments.audiences.errors import AudienceUploadError
from sen.segments.audiences.normalise import google_email, google_phone, sha256_hex
from sen.segments.audiences.sync import Member

MAX_IDENTIFIERS_PER_REQUEST = 100_000
_TRANSIENT_STATUSES = frozenset(
    {"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"}
)


def user_identifiers(member: Member) -> list[dict[str, str]]:
    """The ``userIdentifiers`` of one member: hashed email and hashed phone, where known."""
    email = google_email(member.email).value if member.email else None
    phone = google_phone(member.phone).value if member.phone else None
    identifiers = []
    if email:
        identifiers.append({"hashedEmail": sha256_hex(email)})
    if phone:
        identifiers.append({"hashedPhoneNumber": sha256_hex(phone)})
    return identifiers


class GoogleCustomerMatch:
    """One Customer Match user list in one Google Ads account.

    ``customer_id`` is the account that owns the list (dashes allowed);
    ``user_list_id`` the list's numeric id. ``access_token`` is an OAuth 2.0
    access token for the ``adwords`` scope, or a callable returning a fresh
    one (tokens live about an hour). ``login_customer_id`` is the manager
    account's id when access goes through one. ``consent`` is sent as the
    job's ``customerMatchUserListMetadata.consent`` when given, e.g.
    ``{"adUserData": "GRANTED", "adPersonalization": "GRANTED"}`` (Google
    requires it for people in the EEA).
    """

    name = "google"

    def __init__(
        self,
        customer_id: str,
        user_list_id: str,
        *,
        developer_token: str,
        access_token: str | Callable[[], str],
        login_customer_id: str | None = None,
        consent: Mapping[str, str] | None = None,
        api_version: str = "v26",
        base_url: str = "https://googleads.googleapis.com",
        max_identifiers_per_request: int = MAX_IDENTIFIERS_PER_REQUEST,
        client: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not 1 <= max_identifiers_per_request <= MAX_IDENTIFIERS_PER_REQUEST:
            raise ValueError(
                f"max_identifiers_per_request must be between 1 and {MAX_IDENTIFIERS_PER_REQUEST}"
            )
        self.customer_id = customer_id.replace("-", "")
        self.user_list = f"customers/{self.customer_id}/userLists/{user_list_id}"
        self.developer_token = developer_token
        self.access_token = access_token
        self.login_customer_id = login_customer_id.replace("-", "") if login_customer_id else None
        self.root = f"{base_url.rstrip('/')}/{api_version}"
        self.max_identifiers = max_identifiers_per_request
        self._owns_client = client is None
        self.client = client or httpx.Client(timeout=timeout)
        self.consent = dict(consent) if consent else None
        self.jobs: list[str] = []

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self.client.close()

    def add(self, members: Sequence[Member]) -> None:
        """Add members in one job (create, add operations, run)."""
        self._job("create", members)

    def remove(self, members: Sequence[Member]) -> None:
        """Remove members in one job."""
        self._job("remove", members)

    def operation_batches(self, kind: str, members: Sequence[Member]) -> list[list[dict[str, Any]]]:
        """The ``operations`` of each ``addOperations`` request, within the identifier limit."""
        batches: list[list[dict[str, Any]]] = [[]]
        count = 0
        for member in members:
            identifiers = user_identifiers(member)
            if not identifiers:
                continue
            if count + len(identifiers) > self.max_identifiers:
                batches.append([])
                count = 0
            batches[-1].append({kind: {"userIdentifiers": identifiers}})
            count += len(identifiers)
        return [batch for batch in batches if batch]

    def _job(self, kind: str, members: Sequence[Member]) -> None:
        batches = self.operation_batches(kind, members)
        if not batches:
            return
        metadata: dict[str, Any] = {"userList": self.user_list}
        if self.consent:
            metadata["consent"] = self.consent
        job = {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": metadata}
        create = f"customers/{self.customer_id}/offlineUserDataJobs:create"
        created = self._post(create, {"job": job})
        name = created["resourceName"]
        for operations in batches:
            self._post(f"{name}:addOperations", {"operations": operations})
        self._post(f"{name}:run", {})
        self.jobs.append(name)

    def _headers(self) -> dict[str, str]:
        token = self.access_token() if callable(self.access_token) else self.access_token
        headers = {"developer-token": self.developer_token, "Authorization": f"Bearer {token}"}
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.post(
                f"{self.root}/{path}",
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers={**self._headers(), "content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise AudienceUploadError(
                f"Google Ads could not be reached: {exc}.",
                provider="google",
                status=0,
                hint="Check the network, then run the sync again.",
                transient=True,
            ) from exc
        if response.status_code != 200:
            raise google_error(response)
        result: dict[str, Any] = response.json()
        return result


def _error_codes(error: dict[str, Any]) -> list[str]:
    """``category.VALUE`` for each GoogleAdsError in a REST error's details."""
    codes = []
    for detail in error.get("details") or []:
        for item in detail.get("errors") or []:
            for category, value in (item.get("errorCode") or {}).items():
                codes.append(f"{category}.{value}")
    return codes


def _hint(status: int, codes: list[str]) -> tuple[str, bool]:
    """What to do about an error, and whether it is transient."""
    joined = " ".join(codes)
    if status == 401 or "authenticationError" in joined:
        return (
            "Renew the access token: refresh it with the OAuth refresh token and give "
            "GoogleCustomerMatch a fresh one (access_token may be a callable that does this).",
            False,
        )
    if "DEVELOPER_TOKEN" in joined:
        return "Check the developer token in the Google Ads API Center and its access level.", False
    if "USER_PERMISSION_DENIED" in joined:
        return (
            "Set login_customer_id to the manager account through which the token's user "
            "reaches this account.",
            False,
        )
    if "TOO_MANY_USER_IDENTIFIERS" in joined:
        return "Lower max_identifiers_per_request.", False
    if "CONCURRENT_MODIFICATION" in joined or status == 429 or status >= 500:
        return "Google Ads is busy with this list or throttling; run the sync again later.", True
    return (
        "Check the customer id, the user list id and that the list is a Customer Match list.",
        False,
    )


def google_error(response: httpx.Response) -> AudienceUploadError:
    """Translate a Google Ads REST error body into a Sen error that says what to do."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    codes = _error_codes(error)
    text = error.get("message") or response.reason_phrase
    hint, transient = _hint(response.status_code, codes)
    transient = transient or error.get("status") in _TRANSIENT_STATUSES
    label = ", ".join(codes) or str(error.get("status") or response.status_code)
    return AudienceUploadError(
        f"Google Ads refused the Customer Match upload "
        f"(HTTP {response.status_code}, {label}): {text}",
        provider="google",
        status=response.status_code,
        code=codes[0] if codes else error.get("status"),
        hint=hint,
        transient=transient,
    )
