"""Local stand-ins for the Meta Marketing API and the Google Ads REST API.

They accept only what the documentation describes (schema names, 64-character
lower-case hex hashes, batch limits, tokens and headers) and answer refusals
with each API's documented error body, so a client that passes here sends the
shapes the real APIs expect. Each records the raw requests it received and the
audience it holds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HEX64 = re.compile(r"[0-9a-f]{64}")
META_KEYS = {"EXTERN_ID", "EMAIL", "PHONE", "GEN", "DOBY", "DOBM", "DOBD", "LN", "FN", "FI",
             "CT", "ST", "ZIP", "MADID", "COUNTRY"}
META_SINGLE = {"EMAIL_SHA256", "PHONE_SHA256", "MOBILE_ADVERTISER_ID"}


def _failure(fail_next: list[int], failures: dict[int, int], number: int) -> int | None:
    """The status to fail request ``number`` with, if a test asked for one."""
    if fail_next:
        return fail_next.pop(0)
    return failures.pop(number, None)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class MetaGraph:
    """Custom Audience ``/users`` edge. ``audiences`` maps an audience id to its rows."""

    token: str = "meta-token"
    expired_tokens: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)  # request number → HTTP status
    received: list[Received] = field(default_factory=list)
    audiences: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{version}/{audience_id}/users", self.users,
                                       methods=["POST", "DELETE"])])

    @staticmethod
    def error(status: int, code: int, message: str, *, subcode: int | None = None,
              kind: str = "OAuthException", transient: bool = False) -> JSONResponse:
        body: dict[str, Any] = {"message": message, "type": kind, "code": code,
                                "fbtrace_id": "AbCdEfGhIjK"}
        if subcode is not None:
            body["error_subcode"] = subcode
        if transient:
            body["is_transient"] = True
        return JSONResponse({"error": body}, status_code=status)

    async def users(self, request: Request) -> JSONResponse:
        raw = await request.body()
        self.received.append(Received(request.method, request.url.path,
                                      dict(request.headers), raw))
        if status := _failure(self.fail_next, self.failures, len(self.received) - 1):
            return self.error(status, 2, "An unexpected error has occurred. Please retry your "
                              "request later.", transient=True)
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self.error(400, 100, "(#100) Expected form-encoded parameters")
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        token = form.get("access_token")
        if token in self.expired_tokens:
            return self.error(400, 190, "Error validating access token: Session has expired on "
                              "Monday, 23-Nov-26 10:00:00 PST.", subcode=463)
        if token != self.token:
            return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        try:
            payload = json.loads(form["payload"])
            session = json.loads(form["session"])
        except (KeyError, ValueError):
            return self.error(400, 100, "(#100) The parameters payload and session are required")
        if problem := self._check(payload, session):
            return self.error(400, 100, f"(#100) {problem}", kind="OAuthException")
        rows = {tuple(row) for row in payload["data"]}
        audience = self.audiences.setdefault(request.path_params["audience_id"], set())
        if request.method == "POST":
            audience |= rows
        else:
            audience -= rows
        return JSONResponse({
            "audience_id": request.path_params["audience_id"],
            "session_id": str(session["session_id"]),
            "num_received": len(payload["data"]),
            "num_invalid_entries": 0,
            "invalid_entry_samples": {},
        })

    @staticmethod
    def _check(payload: Any, session: Any) -> str | None:
        schema = payload.get("schema") if isinstance(payload, dict) else None
        keys = schema if isinstance(schema, list) else [schema]
        if not keys or not (set(keys) <= META_KEYS or (len(keys) == 1 and keys[0] in META_SINGLE)):
            return f"Invalid schema: {schema!r}"
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            return "data must be a non-empty list of rows"
        if len(data) > 10_000:
            return "Too many users in one request: at most 10000 are allowed"
        for row in data:
            if not isinstance(row, list) or len(row) != len(keys):
                return "Each row must have one value per schema key"
            if any(v != "" and not HEX64.fullmatch(v) for v in row) or not any(row):
                return "Data is not hashed as SHA-256 lower-case hex"
        if not (isinstance(session, dict) and isinstance(session.get("session_id"), int)
                and isinstance(session.get("batch_seq"), int) and session["batch_seq"] >= 1
                and isinstance(session.get("last_batch_flag"), bool)):
            return "session needs session_id, batch_seq and last_batch_flag"
        return None


@dataclass
class Job:
    customer_id: str
    user_list: str
    operations: list[dict[str, Any]] = field(default_factory=list)
    ran: bool = False


@dataclass
class GoogleAds:
    """``OfflineUserDataJobService`` over REST. ``lists`` maps a user list to its identifiers."""

    developer_token: str = "dev-token"
    access_token: str = "google-token"
    issued_tokens: set[str] = field(default_factory=set)  # by GoogleOAuth, also valid
    expired_tokens: set[str] = field(default_factory=set)
    login_customer_id: str | None = None
    fail_next: list[int] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)  # request number → HTTP status
    received: list[Received] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    lists: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["POST"])])

    @staticmethod
    def error(status: int, grpc: str, message: str, codes: list[dict[str, str]]) -> JSONResponse:
        failure = {
            "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
            "errors": [{"errorCode": code, "message": message} for code in codes],
            "requestId": "r-1",
        }
        body = {"code": status, "message": message, "status": grpc, "details": [failure]}
        return JSONResponse({"error": body}, status_code=status)

    def invalid(self, message: str, code: dict[str, str]) -> JSONResponse:
        return self.error(400, "INVALID_ARGUMENT", message, [code])

    async def handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        self.received.append(Received("POST", request.url.path, dict(request.headers), raw))
        if status := _failure(self.fail_next, self.failures, len(self.received) - 1):
            return self.error(status, "UNAVAILABLE", "The service is currently unavailable.",
                              [{"internalError": "TRANSIENT_ERROR"}])
        if refused := self._auth(request):
            return refused
        try:
            body = json.loads(raw)
        except ValueError:
            return self.invalid("Invalid JSON payload received.", {"requestError": "BAD_REQUEST"})
        path = request.path_params["path"]
        if m := re.fullmatch(r"v26/customers/(\d+)/offlineUserDataJobs:create", path):
            return self._create(m[1], body)
        if m := re.fullmatch(r"v26/(customers/\d+/offlineUserDataJobs/\d+):addOperations", path):
            return self._add_operations(m[1], body)
        if m := re.fullmatch(r"v26/(customers/\d+/offlineUserDataJobs/\d+):run", path):
            return self._run(m[1])
        return JSONResponse({"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}},
                            status_code=404)

    def _auth(self, request: Request) -> JSONResponse | None:
        bearer = request.headers.get("authorization", "")
        token = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None
        if token in self.expired_tokens:
            return self.error(401, "UNAUTHENTICATED", "The OAuth token in the request has expired.",
                              [{"authenticationError": "OAUTH_TOKEN_EXPIRED"}])
        if token != self.access_token and token not in self.issued_tokens:
            return self.error(401, "UNAUTHENTICATED", "Request is missing required authentication "
                              "credential.", [{"authenticationError": "OAUTH_TOKEN_INVALID"}])
        if request.headers.get("developer-token") != self.developer_token:
            return self.error(401, "UNAUTHENTICATED", "The developer token is not valid.",
                              [{"authenticationError": "DEVELOPER_TOKEN_INVALID"}])
        if self.login_customer_id and request.headers.get("login-customer-id") != \
                self.login_customer_id:
            return self.error(403, "PERMISSION_DENIED", "User doesn't have permission to access "
                              "customer.", [{"authorizationError": "USER_PERMISSION_DENIED"}])
        return None

    def _create(self, customer_id: str, body: Any) -> JSONResponse:
        job = body.get("job") if isinstance(body, dict) else None
        user_list = ((job or {}).get("customerMatchUserListMetadata") or {}).get("userList", "")
        if not job or job.get("type") != "CUSTOMER_MATCH_USER_LIST":
            return self.invalid("The job type is not supported.",
                                {"offlineUserDataJobError": "INVALID_JOB_TYPE"})
        if not re.fullmatch(rf"customers/{customer_id}/userLists/\d+", user_list):
            return self.invalid("The user list is not valid.",
                                {"offlineUserDataJobError": "INVALID_USER_LIST_ID"})
        consent = job["customerMatchUserListMetadata"].get("consent", {})
        if any(k not in ("adUserData", "adPersonalization") or v not in ("GRANTED", "DENIED")
               for k, v in consent.items()):
            return self.invalid("Invalid consent.", {"fieldError": "INVALID_VALUE"})
        name = f"customers/{customer_id}/offlineUserDataJobs/{len(self.jobs) + 1001}"
        self.jobs[name] = Job(customer_id, user_list)
        return JSONResponse({"resourceName": name})

    def _add_operations(self, name: str, body: Any) -> JSONResponse:
        job = self.jobs.get(name)
        if job is None or job.ran:
            return self.invalid("The job cannot take operations.",
                                {"offlineUserDataJobError": "INVALID_OFFLINE_USER_DATA_JOB"})
        operations = body.get("operations") if isinstance(body, dict) else None
        if not isinstance(operations, list) or not operations:
            return self.invalid("operations is required.", {"fieldError": "REQUIRED"})
        total = 0
        for op in operations:
            kinds = list(op) if isinstance(op, dict) else []
            if kinds not in (["create"], ["remove"]):
                return self.invalid("An operation must be create or remove.",
                                    {"mutateError": "OPERATION_NOT_SUPPORTED"})
            identifiers = next(iter(op.values())).get("userIdentifiers")
            if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= 20:
                return self.invalid("Maximum number of user identifiers allowed per request is "
                                    "100,000 and per operation is 20.",
                                    {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"})
            total += len(identifiers)
            for identifier in identifiers:
                if not isinstance(identifier, dict) or len(identifier) != 1 or \
                        next(iter(identifier)) not in ("hashedEmail", "hashedPhoneNumber"):
                    return self.invalid("Exactly one identifier must be set.",
                                        {"offlineUserDataJobError": "INVALID_USER_IDENTIFIER"})
                if not HEX64.fullmatch(str(next(iter(identifier.values())))):
                    return self.invalid("The SHA256 encoded value is malformed.",
                                        {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"})
        if total > 100_000:
            return self.invalid("Maximum number of user identifiers allowed per request is "
                                "100,000 and per operation is 20.",
                                {"offlineUserDataJobError": "TOO_MANY_USER_IDENTIFIERS"})
        job.operations.extend(operations)
        return JSONResponse({})

    def _run(self, name: str) -> JSONResponse:
        job = self.jobs.get(name)
        if job is None or job.ran:
            return self.invalid("The job cannot be run.",
                                {"offlineUserDataJobError": "INVALID_OFFLINE_USER_DATA_JOB"})
        job.ran = True
        members = self.lists.setdefault(job.user_list, set())
        for op in job.operations:
            kind, data = next(iter(op.items()))
            for identifier in data["userIdentifiers"]:
                item = next(iter(identifier.items()))
                if kind == "create":
                    members.add(item)
                else:
                    members.discard(item)
        return JSONResponse({"name": f"customers/{job.customer_id}/operations/{name[-4:]}"})


@dataclass
class GoogleOAuth:
    """Google's OAuth 2.0 token endpoint, for the refresh-token grant (RFC 6749 section 6).

    A form-encoded ``POST /token`` with ``grant_type=refresh_token``, the client's id
    and secret and a refresh token gets ``{"access_token", "expires_in", "scope",
    "token_type": "Bearer"}``; a refusal is ``{"error", "error_description"}`` with
    400 (``invalid_grant``, ``unsupported_grant_type``) or 401 (``invalid_client``).
    Issued tokens are added to ``ads.issued_tokens`` when an ``ads`` server is given.
    """

    client_id: str = "sen-client.apps.googleusercontent.com"
    client_secret: str = "sen-secret"
    refresh_tokens: set[str] = field(default_factory=lambda: {"1//refresh"})
    lifetime: int = 3599
    ads: GoogleAds | None = None
    fail_next: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/token", self.token, methods=["POST"])])

    @staticmethod
    def refuse(status: int, error: str, description: str) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description},
                            status_code=status)

    async def token(self, request: Request) -> JSONResponse:
        raw = await request.body()
        self.received.append(Received(request.method, request.url.path,
                                      dict(request.headers), raw))
        if self.fail_next:
            return JSONResponse({"error": "internal_failure"}, status_code=self.fail_next.pop(0))
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return self.refuse(400, "invalid_request", "Bad Request")
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        if form.get("grant_type") != "refresh_token":
            return self.refuse(400, "unsupported_grant_type",
                               f"Invalid grant_type: {form.get('grant_type', '')}")
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id,
                                                                   self.client_secret):
            return self.refuse(401, "invalid_client", "The OAuth client was not found.")
        if form.get("refresh_token") not in self.refresh_tokens:
            return self.refuse(400, "invalid_grant", "Token has been expired or revoked.")
        token = f"ya29.issued-{len(self.issued) + 1}"
        self.issued.append(token)
        if self.ads is not None:
            self.ads.issued_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": self.lifetime,
                             "scope": "https://www.googleapis.com/auth/adwords",
                             "token_type": "Bearer"})
