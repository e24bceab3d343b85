"""The waiting page of admission control on the real platform, over a real socket: it appears
when the new arrivals' share is full and clears when a slot frees up (the same address then
serves its page); in chromium it fits 375 px, passes axe, and reloads itself into the page.

The arrivals' share is one slot, held by a request to a route of the test's own that waits
on an event: nothing depends on how long anything takes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from live_server import live_server
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.domain.calendar import JST
from mynapoint.services.clock import FixedClock
from mynapoint.web.admission import ARRIVALS, Admission
from mynapoint.web.app import create_app

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
RETRY_AFTER = 1
SETTLE_SECONDS = 30


@dataclass
class Site:
    url: str
    app: FastAPI
    inside: threading.Event
    release: threading.Event

    def fill_arrivals(self) -> threading.Thread:
        """One request takes the arrivals' only slot and keeps it until `free`."""
        self.inside.clear()
        self.release.clear()
        thread = threading.Thread(target=httpx.get, args=(f"{self.url}/test-hold",), daemon=True)
        thread.start()
        assert self.inside.wait(SETTLE_SECONDS), "the holding request never got in"
        return thread

    def free(self, holder: threading.Thread) -> None:
        self.release.set()
        holder.join(SETTLE_SECONDS)
        # The slot is given back right after the last byte is sent: wait for that.
        admission: Admission = self.app.state.admission
        assert admission.shares is not None
        share = admission.shares[ARRIVALS]
        deadline = time.monotonic() + SETTLE_SECONDS
        while share.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert share.in_flight == 0


def serve(database_url: str, tmp_path) -> Iterator[Site]:
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        admit_arrivals=1,
        admit_queue_factor=0,
        admit_wait_seconds=0,
        admit_retry_after_seconds=RETRY_AFTER,
    )
    platform = build_platform(settings, clock=FixedClock(DEMO_DAY))
    app = create_app(settings, platform)
    inside, release = threading.Event(), threading.Event()

    @app.get("/test-hold", include_in_schema=False)
    def held() -> dict[str, bool]:
        inside.set()
        release.wait(SETTLE_SECONDS)
        return {"held": True}

    try:
        with live_server(settings, platform, app) as url:
            yield Site(url, app, inside, release)
    finally:
        platform.engine.dispose()


@pytest.fixture
def site(database_url, tmp_path) -> Iterator[Site]:
    yield from serve(database_url, tmp_path)


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory) -> Iterator[Site]:
    # SQLite only: what is checked here is the browser's view, not the database.
    tmp = tmp_path_factory.mktemp("waiting-site")
    yield from serve(sqlite_url(tmp / "site.db"), tmp)


def test_the_waiting_page_appears_when_full_and_clears_when_a_slot_frees(site):
    holder = site.fill_arrivals()

    waiting = httpx.get(f"{site.url}/services")
    api = httpx.get(f"{site.url}/api/v1/campaigns")

    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == str(RETRY_AFTER)
    assert "ただいま混み合っています" in waiting.text
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "overloaded"
    # The load balancer's health check and the static files still pass.
    assert httpx.get(f"{site.url}/healthz").status_code == 200
    assert httpx.get(f"{site.url}/static/site.css").status_code == 200

    site.free(holder)
    served = httpx.get(f"{site.url}/services")

    assert served.status_code == 200
    assert "ただいま混み合っています" not in served.text
    assert httpx.get(f"{site.url}/api/v1/campaigns").status_code == 200


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_waiting_page_fits_375_px_and_passes_axe(browser_site, new_page, look, lang):
    site = browser_site
    holder = site.fill_arrivals()
    page = new_page(width=375)
    try:
        response = page.goto(f"{site.url}/services?lang={lang}")
        assert response.status == 503
        # The reader may stop the automatic reload (WCAG 2.2.1); stopped, it stays put for
        # the checks below.
        note = page.locator("#auto-reload").inner_text()
        page.locator("#stop-reload").click()

        assert page.locator("#auto-reload").inner_text() != note
        assert page.locator("#stop-reload").is_hidden()
        assert page.locator("html").get_attribute("lang") == lang
        assert page.get_by_role("heading", level=1).count() == 1
        look(page, f"waiting-{lang}")
    finally:
        site.free(holder)


def test_the_waiting_page_reloads_itself_into_the_page_once_there_is_room(browser_site, new_page):
    site = browser_site
    holder = site.fill_arrivals()
    page = new_page(width=375)
    try:
        assert page.goto(f"{site.url}/services").status == 503
    finally:
        site.free(holder)
    # No click: after Retry-After the page reloads itself and the services page is there.
    page.wait_for_selector("form.finder", timeout=SETTLE_SECONDS * 1000)
    assert page.url == f"{site.url}/services"
