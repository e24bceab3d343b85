"""Debian's chromium driven by Playwright: one browser per test worker, pages per test.

Never `playwright install`: the browser is the distribution's /usr/bin/chromium, which
`.ci/run` installs with fonts-noto-cjk (without the fonts Japanese renders as boxes).
Outside CI a machine without chromium skips these tests and says why; with CI=true a
missing browser fails them, so a red run says what is missing.

Fixtures:
- `browser`: the running chromium (module-scoped: Playwright's sync API keeps an event loop
  running in the thread while it lives, and other tests in the same worker call
  `asyncio.run`, which refuses to start inside a running loop).
- `new_page(width=1280)`: a fresh context (its own cookies) and page at that width.
- `screenshot(page, name)`: a full-page PNG in test-artifacts/screenshots/NAME.png.
- `axe(page)`: runs the locally served axe-core in the page; returns its serious and
  critical violations (an empty list is a pass).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "screenshots"
AXE_SCRIPT = "/static/vendor/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends "
            "chromium fonts-noto-cjk (.ci/run does this)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only when a browser runs

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900, locale: str = "ja-JP") -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, timezone_id="Asia/Tokyo"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe() -> Callable[[Any], list[dict[str, Any]]]:
    def run(page: Any) -> list[dict[str, Any]]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(url=AXE_SCRIPT)
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result
            if v["impact"] in {"serious", "critical"}
        ]

    return run


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture
def look(
    axe: Callable[[Any], list[dict[str, Any]]], screenshot: Callable[[Any, str], Path]
) -> Callable[[Any, str], None]:
    """A citizen page in front of the user at 375 and 1280 px: no sideways scrolling, no axe
    violation, and screenshots of both (citizen-NAME-375, citizen-NAME-1280)."""

    def check(page: Any, name: str) -> None:
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"
            screenshot(page, f"citizen-{name}-{width}")
        assert axe(page) == [], name

    return check


@pytest.fixture
def console_look(
    axe: Callable[[Any], list[dict[str, Any]]], screenshot: Callable[[Any, str], Path]
) -> Callable[[Any, str], None]:
    """A console page (staff, ministry, operator) at 375 and 1280 px: no sideways scrolling,
    no axe violation at either width, and screenshots of both (console-NAME-375, -1280)."""

    def check(page: Any, name: str) -> None:
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"
            assert axe(page) == [], f"{name} at {width} px"
            screenshot(page, f"console-{name}-{width}")

    return check
