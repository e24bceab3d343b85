"""The application factory: no engine or settings exist until `create_app` runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Final

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from mynapoint import __version__
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings, load_settings
from mynapoint.jobs.recovery import keep_recovering
from mynapoint.jobs.statistics import keep_refreshing
from mynapoint.logs import configure_logging
from mynapoint.services.audit import keep_publishing
from mynapoint.services.expiry import keep_purging
from mynapoint.web.admission import Admission
from mynapoint.web.api import (
    applications,
    auth,
    campaigns,
    citizens,
    health,
    operator_accounts,
    operator_events,
    payment_services,
    support_corners,
)
from mynapoint.web.errors import install_error_handlers
from mynapoint.web.inputs import check_path_and_query
from mynapoint.web.limits_body import BodyGate
from mynapoint.web.pages import corners, home, open_data, services
from mynapoint.web.pages import help as help_pages
from mynapoint.web.pages.citizen.routes import router as citizen_pages
from mynapoint.web.pages.ministry.routes import router as ministry_pages
from mynapoint.web.pages.operator.routes import router as operator_pages
from mynapoint.web.pages.staff.routes import router as staff_pages
from mynapoint.web.request_context import AccessLog, LocaleAndCookies
from mynapoint.web.security_headers import SecurityHeaders

HERE = Path(__file__).parent
# The API first (its order is the OpenAPI page's), then the pages.
ROUTERS = (
    health.router,
    campaigns.router,
    payment_services.router,
    support_corners.router,
    auth.router,
    citizens.router,
    applications.router,
    operator_accounts.router,
    operator_events.router,
    home.router,
    corners.router,
    services.router,
    help_pages.router,
    open_data.router,
    citizen_pages,
    staff_pages,
    ministry_pages,
    operator_pages,
)

NO_TELEMETRY: Final[TelemetryConfig] = {"tracing": False, "metrics": False, "logs": False}

VENDOR = "/static/vendor/swagger-ui"
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mynapoint API</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
<link rel="icon" href="{VENDOR}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""

DESCRIPTION = """\
マイナポイント platform API (v1). JSON over HTTP, UTF-8; timestamps carry a UTC
offset and rules are evaluated in JST. Every error body is
`{"error": {"code", "message", "details"}}`: branch on `code`.
"""


def _background_tasks(platform: Platform) -> list[asyncio.Task[None]]:
    return [
        # The audit log's head: published now if due, then at least daily (services/audit.py).
        asyncio.create_task(
            keep_publishing(platform.unit_of_work, platform.clock.now, platform.audit_key)
        ),
        # Expired challenges, sign-ins and code tries deleted, now and then every 10 minutes.
        asyncio.create_task(keep_purging(platform.unit_of_work, platform.clock.now)),
        # Upload jobs whose process died: resumed or failed, now and then every 30 s; when
        # `mynapoint worker` runs the jobs, the workers retry each other's (docs/JOBS.md).
        # The statistics' summary tables, now and then every statistics_refresh_seconds
        # (jobs/statistics.py); when `mynapoint worker` runs the jobs, the workers do it.
        *(
            [
                asyncio.create_task(keep_recovering(platform)),
                asyncio.create_task(keep_refreshing(platform)),
            ]
            if platform.settings.runs_jobs_inprocess
            else []
        ),
    ]


def create_worker_app() -> FastAPI:
    """The app of one worker process of `mynapoint serve --workers N` (uvicorn's factory): the
    settings from the environment, as the parent read them; the database checked, not migrated
    (the parent migrated it and seeded the demo once, before any worker started)."""
    configure_logging()
    return create_app(load_settings(), migrate=False)


def create_app(
    settings: Settings | None = None, platform: Platform | None = None, *, migrate: bool = True
) -> FastAPI:
    """Build the app. A given `platform` is used as is (tests); otherwise one is wired at start
    (`migrate` False: the database is only checked to be migrated)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = platform is None
        app.state.platform = platform or build_platform(
            settings or load_settings(), migrate=migrate
        )
        # The sync routes' thread pool, sized with admission control's shares (web/admission.py)
        # and the database pool, so that an admitted request finds a thread.
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            app.state.platform.settings.threads
        )
        tasks = _background_tasks(app.state.platform)
        try:
            yield
        finally:
            # Last started, first stopped: each lets the work under way finish first.
            for task in reversed(tasks):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            if owned:
                app.state.platform.engine.dispose()

    app = FastAPI(
        title="Mynapoint",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # The input policy's check of every path and query string (web/inputs.py).
        dependencies=[Depends(check_path_and_query)],
        # FastAPI's native OpenTelemetry looks for globally configured providers on every
        # request (three environment lookups: 4 % of a /healthz request, issue 13). The
        # platform configures none: what it reports is its JSON log (logs.py).
        telemetry=NO_TELEMETRY,
    )
    install_error_handlers(app)

    # Outermost last: the security headers go on every response, the access log sees every
    # refusal, admission control bounds the work in flight before anything else runs
    # (web/admission.py), and the body gate answers before anything reads a body
    # (web/limits_body.py).
    app.add_middleware(LocaleAndCookies)
    app.add_middleware(BodyGate, web_app=app)
    app.add_middleware(Admission, web_app=app)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # Swagger UI from the app's own pinned copy (no CDN), started by a static file so that
        # the page runs no inline script (web/security_headers.py).
        return HTMLResponse(DOCS_PAGE)

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
