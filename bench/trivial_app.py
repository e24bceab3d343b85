"""The ceiling of `make bench-api`: a FastAPI app with one sync endpoint and nothing else,
served the same way as the platform (same server, same number of workers). A sync `def`
runs in the thread pool as the platform's handlers do, so the ratio of a platform endpoint
to this one is what the platform's own work costs."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/trivial")
    def trivial() -> dict[str, str]:
        return {"status": "ok"}

    return app
