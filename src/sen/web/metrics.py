"""Prometheus metrics: HTTP requests by route template, and Sen's own counters.

Sen keeps its own registry rather than the process-wide default, so importing
another library that registers metrics cannot clash with Sen's names, and
creating many apps in one process (tests) never registers a name twice.

Other packages increment the counters through :func:`record_ingested` and
:func:`record_rejected`.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

EVENTS_INGESTED = Counter(
    "sen_events_ingested", "Events accepted into the event log, by source.",
    ["source"], registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "sen_events_rejected", "Events refused (invalid, too large, unknown write key), by source.",
    ["source"], registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "sen_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "sen_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNMATCHED = "<unmatched>"


def record_ingested(count: int, source: str) -> None:
    """Count ``count`` events stored for ``source``."""
    if count:
        EVENTS_INGESTED.labels(source=source).inc(count)


def record_rejected(count: int, source: str) -> None:
    """Count ``count`` events refused; use source ``"unknown"`` when the key was bad."""
    if count:
        EVENTS_REJECTED.labels(source=source).inc(count)


def record_request(route: str, status: int, seconds: float, method: str = "POST") -> None:
    """Count one request answered outside MetricsMiddleware (the event API's fast path)."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/tokens/{token_id}``), never the raw path.

    Raw paths would give every id its own time series.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    # A mount (the static files) sets root_path to its prefix; anything else is a 404.
    return str(scope.get("root_path") or UNMATCHED)


class MetricsMiddleware:
    """Pure ASGI middleware timing each HTTP request and counting its status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        began = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_template(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - began)


def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` in Prometheus' text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
