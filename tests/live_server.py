"""The app on a real socket (127.0.0.1, a free port), for clients that are not the test client.

The command line's `card login --url` talks HTTP through its own httpx client, so it
needs a server that listens; uvicorn runs in a background thread for the test's length.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import uvicorn

from mynapoint.web.app import create_app

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI

    from mynapoint.bootstrap import Platform
    from mynapoint.config import Settings

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


@contextmanager
def live_server(
    settings: Settings, platform: Platform, app: FastAPI | None = None
) -> Iterator[str]:
    """Serve the app (`app`, or one built on `platform`) on 127.0.0.1 and yield its base URL,
    e.g. http://127.0.0.1:54321."""
    config = uvicorn.Config(
        app or create_app(settings, platform),
        host=HOST,
        port=0,  # the system picks a free port: no race with another worker's server
        log_config=None,
        access_log=False,
        lifespan="on",  # a failing start-up fails the test instead of serving without state
        ws="none",  # the API has no websockets; importing a websocket library only adds noise
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_SECONDS)
    if thread.is_alive():
        raise RuntimeError(f"the live server did not stop within {STOP_TIMEOUT_SECONDS} s")


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped before it started; see the log above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not start within {START_TIMEOUT_SECONDS} s")
        time.sleep(0.01)
