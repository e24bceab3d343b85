"""Every response carries a strict Content Security Policy and its companion headers, and no
page needs more than the policy allows (no inline script, no inline style, no other origin)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from citizen_app import DEMO_DAY, citizen_app
from mynapoint.web.security_headers import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi.testclient import TestClient

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "mynapoint" / "web" / "templates"
PAGES = ("/", "/services", "/support-corners", "/help", "/login", "/staff/sign-in", "/nowhere")
API = ("/healthz", "/api/v1/campaigns", "/openapi.json", "/api/v1/me", "/api/v1/nowhere")


@pytest.fixture
def client(database_url, tmp_path) -> Iterator[TestClient]:
    with citizen_app(database_url, tmp_path, DEMO_DAY) as site:
        yield site.client


@pytest.mark.parametrize("path", PAGES + API)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_policy_allows_no_inline_script_and_no_frame():
    policy = dict(directive.split(" ", 1) for directive in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_the_docs_page_runs_no_inline_script(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.DOTALL)
    assert scripts
    assert all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assert client.get("/static/swagger-init.js").status_code == 200


def test_no_template_has_an_inline_script_style_or_event_handler():
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        inline = re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        offending += [f"{template.name}: {found.group()}" for found in inline]
        offending += [f"{template.name}: style" for _ in re.finditer(r"<style|\sstyle=", text)]
        offending += [f"{template.name}: {m.group()}" for m in re.finditer(r"\son[a-z]+=", text)]
    assert offending == []
