"""Every page in English says everything in English (issue 12 §3, docs/GLOSSARY.md): national
holidays, corners, wards, addresses, operators and the staff console included; only the
language switch (日本語) and the operators' masked holder names stay Japanese. Both databases."""

from __future__ import annotations

import pytest

from e2e.test_citizen_pages import pages_app
from public_pages import japanese_left
from staff_console import STAFF, SUPERVISOR, preview_id, staff_console

PUBLIC = [
    "/",
    "/services",
    "/support-corners",
    "/support-corners?month=2021-07",  # 海の日, スポーツの日
    "/support-corners?month=2021-08",  # 山の日 and its 振替休日
    "/support-corners?month=2021-09",  # 敬老の日, 秋分の日
    "/help",
    "/login",
    "/no-such-page",
]


@pytest.fixture
def pages(database_url, tmp_path):
    with pages_app(database_url, tmp_path) as running:
        yield running


def test_the_public_and_citizen_pages_in_english_have_no_japanese_left(pages):
    client = pages.client
    client.get("/?lang=en")
    shown = {path: client.get(path).text for path in PUBLIC}
    for service in pages.platform.catalog:
        path = f"/services/{service.code}"
        shown[path] = client.get(path).text
    pages.signed_in("parent")
    for path in ["/mykey", "/me", "/apply/paypay", "/apply/rakuten_pay"]:
        shown[path] = client.get(path).text
    shown["confirmation"] = pages.confirm().text
    shown["refused"] = pages.confirm(payment_service_id="123").text
    pages.commit()
    shown["/me (applied)"] = client.get("/me").text

    left = {path: japanese_left(html) for path, html in shown.items()}
    assert {path: texts for path, texts in left.items() if texts} == {}


def test_the_staff_console_in_english_has_no_japanese_left(database_url, tmp_path):
    with staff_console(database_url, tmp_path) as console:
        staff = console.signed_in(*STAFF)
        staff.client.get("/counter?lang=en")
        shown = {"start": staff.client.get("/counter").text}
        staff.read_card("parent")
        shown["citizen"] = staff.client.get("/counter").text
        session = staff.session_id()
        staff.set_up_mykey(session)
        shown["refused"] = staff.preview(session, ("123", "1234")).text
        confirmation = staff.preview(session)
        shown["confirmation"] = confirmation.text
        shown["done"] = staff.apply(session, preview_id(confirmation.text), "parent").text
        supervisor = console.signed_in(*SUPERVISOR)
        supervisor.client.get("/staff/log?lang=en")
        shown["log"] = supervisor.client.get("/staff/log").text
        shown["accounts"] = supervisor.client.get("/staff/accounts").text
        shown["sign-in"] = console.terminal().client.get("/staff/sign-in?lang=en").text

    left = {page: japanese_left(html) for page, html in shown.items()}
    assert {page: texts for page, texts in left.items() if texts} == {}


def test_the_ministry_operator_and_city_consoles_in_english_have_no_japanese_left(
    database_url, tmp_path
):
    with staff_console(database_url, tmp_path, with_cards=False) as console:
        shown = {}
        for prefix, name, password in (
            ("/ministry", "mic-admin", "soumu-admin-2021"),
            ("/operator", "paypay-admin", "paypay-admin-2021"),
            ("/staff", "fukuoka-admin", "shiyakusho-2021"),
        ):
            anonymous = console.terminal()
            shown[f"{prefix}/sign-in"] = anonymous.client.get(f"{prefix}/sign-in?lang=en").text
            terminal = console.terminal()
            terminal.client.get(f"{prefix}/sign-in?lang=en")
            terminal.post(f"{prefix}/sign-in", {"name": name, "password": password})
            if prefix != "/staff":
                shown[prefix] = terminal.client.get(prefix).text
            shown[f"{prefix}/password"] = terminal.client.get(f"{prefix}/password").text
            shown[f"{prefix}/accounts"] = terminal.client.get(f"{prefix}/accounts").text
            created = terminal.post(
                f"{prefix}/accounts",
                {"name": f"new{prefix.replace('/', '-')}", "role": "staff", "corner": "chuo"}
                if prefix == "/staff"
                else {"name": f"new{prefix.replace('/', '-')}", "role": "ministry_viewer"}
                if prefix == "/ministry"
                else {"name": "new-operator", "role": "operator_staff"},
            )
            assert created.status_code == 200
            shown[f"{prefix}/accounts (created)"] = created.text
            refused = terminal.post(f"{prefix}/accounts", {"name": "Bad Name", "role": "x"})
            shown[f"{prefix}/accounts (refused)"] = refused.text
        viewer = console.terminal()
        viewer.client.get("/ministry/sign-in?lang=en")
        viewer.post("/ministry/sign-in", {"name": "mic-viewer", "password": "soumu-view-2021"})
        shown["forbidden"] = viewer.client.get("/ministry/accounts").text

    left = {page: japanese_left(html) for page, html in shown.items()}
    assert {page: texts for page, texts in left.items() if texts} == {}
