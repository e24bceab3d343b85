"""The Content Security Policy in chromium: every page, /docs and the live search run without
a single violation (no inline script or style, nothing from another origin)."""

from __future__ import annotations

from typing import Any

import pytest

from demo_site import demo_site

PAGES = ("/", "/services", "/services/paypay", "/support-corners", "/help", "/login",
         "/staff/sign-in", "/nowhere")  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # SQLite only: what is checked here is the browser's view, not the database.
    from mynapoint.db.engine import sqlite_url  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("csp-site")
    with demo_site(sqlite_url(tmp / "site.db"), tmp) as running:
        yield running


def watched(page: Any) -> list[str]:
    """The page's CSP violations, as the browser reports them (console and DOM event)."""
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + "
        "e.blockedURI));"
    )
    return violations


@pytest.mark.parametrize("path", PAGES)
def test_a_page_runs_without_a_csp_violation(site, new_page, path):
    page = new_page()
    violations = watched(page)
    page.goto(site.url + path)
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_live_search_runs_under_the_policy(site, new_page):
    page = new_page()
    violations = watched(page)
    page.goto(site.url + "/services")
    page.fill("#q", "すいか")
    page.wait_for_url("**/services?q=*")
    page.wait_for_load_state("networkidle")
    assert "Suica" in page.inner_text("#results")
    assert violations == []


def test_swagger_ui_starts_under_the_policy(site, new_page):
    page = new_page()
    violations = watched(page)
    page.goto(site.url + "/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 20
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body", timeout=15_000)
    page.get_by_role("button", name="Try it out").first.click()
    page.wait_for_load_state("networkidle")
    assert violations == []
