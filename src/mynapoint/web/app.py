"""The application factory: no engine or settings exist until `create_app` runs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from mynapoint import __version__
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings, load_settings
from mynapoint.services.audit import keep_publishing
from mynapoint.web import i18n
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
from mynapoint.web.csrf import CSRF_COOKIE
from mynapoint.web.errors import install_error_handlers
from mynapoint.web.pages import corners, home, services
from mynapoint.web.pages import help as help_pages
from mynapoint.web.pages.citizen.routes import router as citizen_pages
from mynapoint.web.pages.staff.routes import router as staff_pages
from mynapoint.web.uploads import keep_recovering

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
    citizen_pages,
    staff_pages,
)
access_log = logging.getLogger("mynapoint.access")

DESCRIPTION = """\
マイナポイント platform API (v1). JSON over HTTP, UTF-8; timestamps carry a UTC
offset and rules are evaluated in JST. Every error body is
`{"error": {"code", "message", "details"}}`: branch on `code`.
"""


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """Build the app. A given `platform` is used as is (tests); otherwise one is wired at start."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = platform is None
        app.state.platform = platform or build_platform(settings or load_settings())
        # The audit log's head: published now if due, then at least daily (services/audit.py).
        publishing = asyncio.create_task(
            keep_publishing(app.state.platform.unit_of_work, app.state.platform.clock.now)
        )
        # Upload jobs whose process died: resumed or failed, now and then every 30 s.
        recovering = asyncio.create_task(keep_recovering(app.state.platform))
        try:
            yield
        finally:
            recovering.cancel()
            with suppress(asyncio.CancelledError):
                await recovering
            publishing.cancel()
            with suppress(asyncio.CancelledError):
                await publishing
            if owned:
                app.state.platform.engine.dispose()

    app = FastAPI(
        title="Mynapoint",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def log_access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The path only: query strings and headers may carry what must never be logged.
        started = time.perf_counter()
        response = await call_next(request)
        access_log.info(
            "%s %s %s",
            request.method,
            request.url.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    @app.middleware("http")
    async def locale_and_csrf_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The reader's language for everything this request renders (web/i18n.py), and the
        # cookies a page set up: the remembered language and the CSRF secret (web/csrf.py).
        asked = request.query_params.get(i18n.LOCALE_QUERY)
        remembered = request.cookies.get(i18n.LOCALE_COOKIE)
        locale = i18n.pick_locale(asked, remembered)
        token = i18n.use_locale(locale)
        try:
            response = await call_next(request)
        finally:
            i18n.reset_locale(token)
        secure = request.app.state.platform.settings.cookie_secure
        if asked == locale and locale != remembered:
            response.set_cookie(
                i18n.LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, secure=secure, samesite="lax"
            )
        csrf = getattr(request.state, "csrf_token", None)
        if csrf is not None and csrf != request.cookies.get(CSRF_COOKIE):
            response.set_cookie(
                CSRF_COOKIE, csrf, httponly=True, secure=secure, samesite="strict", path="/"
            )
        return response

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # Swagger UI from the app's own pinned copy: no page loads anything from a CDN.
        vendor = "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Mynapoint API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
