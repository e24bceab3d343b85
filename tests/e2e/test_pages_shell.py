"""Every page's shell in a real browser: both languages, 375 px, accessibility, no CDN."""

from __future__ import annotations

import pytest

from browser import no_horizontal_scroll
from demo_site import demo_site

PAGES = ["/", "/support-corners", "/no-such-page"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: what is checked here is the browser's view, not the database.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("site")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("width", [375, 1280])
def test_a_page_fits_its_width_and_has_no_serious_accessibility_violation(
    site, new_page, axe, screenshot, path, width
):
    page = new_page(width=width)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(site.url + path)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert no_horizontal_scroll(page)
    assert axe(page) == []
    name = path.strip("/").replace("/", "-") or "top"
    screenshot(page, f"shell-{name}-{width}")
    assert all(url.startswith(site.url) for url in requested), "a page loaded from elsewhere"


@pytest.mark.parametrize("path", PAGES)
def test_the_language_switch_shows_the_page_in_english_and_is_remembered(site, new_page, path):
    page = new_page()
    page.goto(site.url + path)
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="日本語").is_visible()
    page.goto(site.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="日本語").click()
    assert page.locator("html").get_attribute("lang") == "ja"


def test_a_missing_page_says_so_in_words_not_codes(site, new_page):
    page = new_page()
    response = page.goto(site.url + "/no-such-page")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "ページが見つかりません"
    assert "not_found" not in page.content()
