"""The web application: stores opened once, routers, sessions, metrics, errors.

``create_app`` builds the app; the stores open in its lifespan, so importing
this module or building an app touches no files. What the lifespan puts on
``app.state``:

==================  =========================================================
``settings``        :class:`sen.config.Settings` (set at creation)
``analytics``       :class:`sen.store.analytics.DuckDBEngine` on the data dir
``ops``             SQLAlchemy engine of the operational store (migrated)
``write_keys``      :class:`sen.ingest.sources.WriteKeys` cache
``writer``          the event writer (``sen.ingest.writer.EventWriter``), started
``identity``        :class:`sen.identity.jobs.IdentityUpdater`: folds new events
                    into profiles every ``identity_interval_s`` on the writer thread
``traits``          :class:`sen.traits.jobs.TraitsUpdater`: recomputes changed
                    profiles' traits every ``traits_interval_s``, everyone daily
``profile_events``  :class:`sen.segments.jobs.ProfileEventsUpdater`: events by
                    profile, every ``profile_events_interval_s``
``segments``        :class:`sen.segments.jobs.SegmentsRunner`: saved segments due
                    a refresh, checked every ``segments_interval_s``
``audiences``       :class:`sen.segments.jobs.AudienceSyncer`: audience links whose
                    segment ran, synced every ``audience_sync_interval_s``
``messaging``       :class:`sen.messaging.runtime.Messaging`: consent, templates,
                    campaigns, providers and the dispatcher wired to these stores
``messaging_jobs``  :class:`sen.messaging.jobs.MessagingJobs`: dispatch, the event
                    relay, consent from new data, coupons redeemed in orders
==================  =========================================================

Counts of stored and rejected events reach ``/metrics`` from the writer's
commit hook, per source.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse

import sen
from sen.config import Settings, get_settings
from sen.identity.jobs import IdentityUpdater
from sen.ingest.http import SegmentFastPath
from sen.ingest.http import router as segment_router
from sen.ingest.imports_api import router as imports_router
from sen.ingest.sources import WriteKeys
from sen.ingest.writer import EventWriter
from sen.messaging.jobs import MessagingJobs
from sen.messaging.runtime import Messaging
from sen.segments.jobs import AudienceSyncer, ProfileEventsUpdater, SegmentsRunner
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.traits.jobs import TraitsUpdater
from sen.web import (
    audiences_api,
    demo_ui,
    error_handlers,
    profiles_api,
    profiles_ui,
    segments_api,
    segments_ui,
    traits_api,
    traits_fields_api,
    traits_runs_api,
    traits_ui,
    ui,
)
from sen.web.api import campaigns as campaigns_api
from sen.web.api import coupons as coupons_api
from sen.web.api import hooks, management, tracking
from sen.web.api import messaging as messaging_api
from sen.web.api import privacy as privacy_api
from sen.web.api import push as push_api
from sen.web.api import templates as templates_api
from sen.web.auth import RUN_IMPORTS, require_role
from sen.web.metrics import (
    MetricsMiddleware,
    metrics_endpoint,
    record_ingested,
    record_rejected,
    record_request,
)
from sen.web.pages import campaigns as campaign_pages
from sen.web.pages import channel_policy, channels, unsubscribe
from sen.web.pages import templates as template_pages

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "sen_session"
SESSION_MAX_AGE = 14 * 24 * 3600


def _record_commit(counts: dict[str, tuple[int, int]]) -> None:
    for source, (stored, rejected) in counts.items():
        record_ingested(stored, source)
        record_rejected(rejected, source)


def _start_writer(settings: Settings, analytics: DuckDBEngine) -> EventWriter:
    writer = EventWriter(analytics, flush_interval_ms=settings.flush_interval_ms,
                         max_events=settings.flush_max_events, on_commit=_record_commit)
    return writer.start()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open both stores and the writer for the app's lifetime, close them after."""
    settings: Settings = app.state.settings
    analytics = DuckDBEngine(settings.analytics_path)
    try:
        ops = await run_in_threadpool(operational.connect, settings.operational_url)
    except BaseException:
        analytics.close()
        raise
    app.state.analytics, app.state.ops = analytics, ops
    app.state.write_keys = WriteKeys(ops)
    app.state.writer = _start_writer(settings, analytics)
    app.state.identity = IdentityUpdater(app.state.writer, analytics,
                                         settings.identity_interval_s).start()
    app.state.traits = TraitsUpdater(app.state.writer, analytics, settings.traits_interval_s,
                                     settings.traits_refresh_interval_s).start()
    app.state.profile_events = ProfileEventsUpdater(
        app.state.writer, analytics, settings.profile_events_interval_s).start()
    app.state.segments = SegmentsRunner(app.state.writer, analytics, ops,
                                        settings.segments_interval_s).start()
    app.state.audiences = AudienceSyncer(app.state.writer, analytics, ops, settings,
                                         settings.audience_sync_interval_s).start()
    app.state.messaging = Messaging(settings, analytics, ops)
    app.state.messaging_jobs = MessagingJobs(app.state.messaging, app.state.writer,
                                             settings).start()
    try:
        yield
    finally:
        # The updaters' runs go through the writer, so they stop first.
        await run_in_threadpool(app.state.messaging_jobs.stop)
        await run_in_threadpool(app.state.audiences.stop)
        await run_in_threadpool(app.state.segments.stop)
        await run_in_threadpool(app.state.profile_events.stop)
        await run_in_threadpool(app.state.traits.stop)
        await run_in_threadpool(app.state.identity.stop)
        await run_in_threadpool(app.state.writer.stop)
        analytics.close()
        ops.dispose()


def _check(name: str, probe: Any) -> tuple[str, bool]:
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure means the store is down
        return f"{name}: {type(exc).__name__}: {exc}", False
    return "ok", True


def store_health(analytics: DuckDBEngine, ops: sa.Engine) -> tuple[dict[str, str], bool]:
    """Ask each store a trivial question; the answers and whether all were fine."""
    def ask_ops() -> None:
        with ops.connect() as con:
            con.execute(sa.text("SELECT 1")).scalar_one()

    results = {"analytics": _check("analytics", lambda: analytics.scalar("SELECT 1")),
               "operational": _check("operational", ask_ops)}
    return {k: msg for k, (msg, _) in results.items()}, all(ok for _, ok in results.values())


async def healthz(request: Request) -> JSONResponse:
    """200 when both stores answer, 503 (with which one failed) when not."""
    stores, ok = await run_in_threadpool(store_health, request.app.state.analytics,
                                         request.app.state.ops)
    return JSONResponse({"status": "ok" if ok else "unavailable", "version": sen.__version__,
                         "stores": stores}, status_code=200 if ok else 503)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Sen web app: Segment-compatible ``/v1``, management ``/api``, the UI."""
    settings = settings or get_settings()
    app = FastAPI(title="Sen", version=sen.__version__, lifespan=lifespan, docs_url="/docs",
                  description="Customer data platform: event ingestion (Segment-compatible "
                  "/v1), management API (/api, Bearer tokens) and the marketer UI.")
    app.state.settings = settings
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE, same_site="lax")
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SegmentFastPath, on_request=record_request)  # outermost
    error_handlers.install(app, ui.error_page)

    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["operations"])
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], tags=["operations"],
                      include_in_schema=False)
    app.include_router(management.router)
    app.include_router(profiles_api.router)
    app.include_router(traits_fields_api.router)
    app.include_router(traits_api.router)
    app.include_router(traits_runs_api.router)
    app.include_router(segments_api.router)
    app.include_router(audiences_api.router)
    app.include_router(campaigns_api.router)
    app.include_router(templates_api.router)
    app.include_router(messaging_api.router)
    app.include_router(coupons_api.router)
    app.include_router(push_api.router)
    app.include_router(privacy_api.router)
    app.include_router(tracking.router)
    app.include_router(hooks.router)
    app.include_router(segment_router)
    app.include_router(imports_router, dependencies=[Depends(require_role(*RUN_IMPORTS))])
    app.include_router(ui.router)
    app.include_router(profiles_ui.router)
    app.include_router(traits_ui.router)
    app.include_router(segments_ui.router)
    app.include_router(unsubscribe.router)
    app.include_router(channels.router)
    app.include_router(channel_policy.router)
    app.include_router(template_pages.router)
    app.include_router(campaign_pages.router)
    app.include_router(demo_ui.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
