"""Sen's errors become HTTP answers here, once, at the edge.

Every JSON error has the same shape, whichever layer raised it::

    {"error": {"type": "ValidationError", "message": "...", "hint": null,
               "field": "name", "rule": "unique"}}

Pages of the UI (requests whose route marked ``request.state.ui``) get a page
instead: a login redirect for 401, an error page for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from sen.errors import (
    AuthError,
    ConflictError,
    ImportError_,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    SenError,
    StoreLockedError,
    ValidationError,
)

# Most specific first: the first class the error is an instance of decides.
STATUS: tuple[tuple[type[SenError], int], ...] = (
    (StoreLockedError, 503),
    (PayloadTooLargeError, 413),
    (ValidationError, 400),
    (PermissionDeniedError, 403),
    (AuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ImportError_, 400),
    (SenError, 500),
)

# Paths answered in JSON even to a browser.
MACHINE_PATHS = ("/api/", "/v1/", "/healthz", "/metrics", "/static/", "/openapi.json")

HtmlRenderer = Callable[[Request, SenError, int], Response]


def status_for(exc: SenError) -> int:
    return next(code for cls, code in STATUS if isinstance(exc, cls))


def error_body(type_: str, message: str, *, hint: str | None = None,
               field: str | None = None, rule: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "hint": hint, "field": field,
                      "rule": rule}}


def sen_error_json(exc: SenError) -> JSONResponse:
    status = status_for(exc)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.transient:
        headers["Retry-After"] = "5"
    body = error_body(type(exc).__name__.rstrip("_"), exc.message, hint=exc.hint,
                      field=getattr(exc, "field", None), rule=getattr(exc, "rule", None))
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def request_error(exc: RequestValidationError) -> ValidationError:
    """FastAPI's request validation failure as Sen's ValidationError (its first problem)."""
    errors = exc.errors()
    if not errors:
        return ValidationError("The request is not valid.")
    first = errors[0]
    field = _field_path(tuple(first.get("loc", ())))
    return ValidationError(f"{field}: {first.get('msg', 'invalid')}", field=field,
                           rule=str(first.get("type", "invalid")))


def _browser_page(request: Request) -> bool:
    """A page a browser asked for outside the APIs (an unknown address, say)."""
    machine = request.url.path.startswith(MACHINE_PATHS)
    return not machine and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, html: HtmlRenderer) -> None:
    """Register the handlers; ``html`` renders errors of UI pages."""

    def answer(request: Request, exc: SenError) -> Response:
        if getattr(request.state, "ui", False) or _browser_page(request):
            return html(request, exc, status_for(exc))
        return sen_error_json(exc)

    async def on_sen_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SenError)
        return answer(request, exc)

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return answer(request, request_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return answer(request, NotFoundError(f"Nothing is at {request.url.path}."))
        return JSONResponse(error_body("HTTPError", str(exc.detail)),
                            status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(SenError, on_sen_error)
    app.add_exception_handler(RequestValidationError, on_request_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
