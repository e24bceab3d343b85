"""docs/INTERFACES.md against the server's /openapi.json: every error code and every path.

The document is the contract; the OpenAPI schema is what the server says it does. A path
the document names and the server does not serve yet must be listed in PENDING, and a
PENDING path the server serves fails the test, so the list shrinks as work lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.domain.calendar import JST
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app
from mynapoint.web.errors import STATUS_BY_CODE

if TYPE_CHECKING:
    from collections.abc import Iterator

INTERFACES = Path(__file__).resolve().parents[2] / "docs" / "INTERFACES.md"

# Documented paths the server does not serve yet, and the work that will serve them.
# Remove a path when it is served: test_pending_paths_are_not_served_yet insists.
PENDING: dict[str, str] = {}

# "Per-row codes inside an accepted batch": they travel in the 200 body of
# POST /api/v1/operator/events (rejected[].code), not as HTTP errors, so they have no
# status and need not be in ErrorDetail; they are the enum of RejectedRowOut.code.
BATCH_ROW_CODES = (
    "invalid_request",
    "not_your_service",
    "unknown_service",
    "account_not_linked",
    "event_id_conflict",
    "occurred_in_future",
    "invalid_text",
    "instant_out_of_range",
)

# The endpoints a card holder calls with `Authorization: Bearer <token>`.
CITIZEN_BEARER_ROUTES = [
    ("get", "/api/v1/me"),
    ("post", "/api/v1/mykey"),
    ("delete", "/api/v1/auth/sessions/current"),
    ("post", "/api/v1/applications/preview"),
    ("post", "/api/v1/applications"),
    ("delete", "/api/v1/applications/{application_id}"),
]

# The endpoints a payment operator calls with `Authorization: Bearer <operator API key>`.
OPERATOR_BEARER_ROUTES = [
    ("put", "/api/v1/operator/services/{code}/accounts/{payment_service_id}"),
    ("post", "/api/v1/operator/services/{code}/accounts/{payment_service_id}/unlock"),
]

_ERROR_ROW = re.compile(r"^\|\s*(?P<status>[1-5]\d\d)\s*\|(?P<codes>.*)\|\s*$", re.MULTILINE)
_CODE = re.compile(r"`([a-z][a-z0-9_]*)`")
_BATCH_PARAGRAPH = re.compile(r"Per-row codes inside an accepted batch[^:]*:(?P<codes>[^.]*)\.")
# An optional method, an optional "…" (a path relative to the one before), then the path.
_PATH = re.compile(
    r"(?:\b(?P<method>GET|POST|PUT|PATCH|DELETE)\s+)?(?P<relative>…)?(?P<path>/[A-Za-z0-9_{}./-]+)"
)
_PARAMETER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class DocumentedRoute:
    method: str | None  # lower case, as OpenAPI writes it; None where the text names none
    path: str  # as documented, parameter names kept


def interfaces_text() -> str:
    return INTERFACES.read_text(encoding="utf-8")


def documented_error_statuses(text: str) -> dict[str, int]:
    """The "Error codes and statuses" table: {code: status}."""
    statuses: dict[str, int] = {}
    for row in _ERROR_ROW.finditer(text):
        status = int(row["status"])
        for code in _CODE.findall(row["codes"]):
            assert statuses.setdefault(code, status) == status, f"{code} has two statuses"
    return statuses


def documented_batch_row_codes(text: str) -> tuple[str, ...]:
    paragraph = _BATCH_PARAGRAPH.search(text)
    assert paragraph is not None, "INTERFACES.md no longer lists the per-row batch codes"
    return tuple(_CODE.findall(paragraph["codes"]))


def _resolve(relative: str, earlier: list[str]) -> str:
    """`…/accounts/{id}/unlock` continues the latest path that has an `/accounts` segment."""
    head = "/" + relative.strip("/").split("/")[0]
    for path in reversed(earlier):
        at = (path + "/").find(head + "/")
        if at >= 0:
            return path[:at] + relative
    raise AssertionError(f"INTERFACES.md: '…{relative}' follows no path with '{head}'")


def documented_routes(text: str) -> list[DocumentedRoute]:
    """Every HTTP path in the document, in order; query strings and trailing dots dropped."""
    routes: list[DocumentedRoute] = []
    absolute: list[str] = []
    for found in _PATH.finditer(text):
        path = found["path"].rstrip("./")
        method = found["method"].lower() if found["method"] else None
        if found["relative"]:
            path = _resolve(path, absolute)
        elif path.startswith("/api/v1/") or path == "/healthz":
            absolute.append(path)
        else:
            continue  # a file path (./var/, var/settlements/…), not an HTTP one
        routes.append(DocumentedRoute(method, path))
    return routes


def documented_paths(text: str) -> set[str]:
    return {route.path for route in documented_routes(text)}


def normalised(path: str) -> str:
    """Parameter names are the writer's choice: `/x/{code}` and `/x/{service}` are one path."""
    return _PARAMETER.sub("{}", path)


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("openapi")
    settings = Settings(database_url=sqlite_url(folder / "api.db"), var_dir=folder)
    platform = build_platform(settings, clock=FixedClock(datetime(2021, 7, 19, 10, tzinfo=JST)))
    try:
        with TestClient(create_app(settings, platform)) as client:
            response = client.get("/openapi.json")
            assert response.status_code == 200
            yield response.json()
    finally:
        platform.engine.dispose()


def served_paths(openapi: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {normalised(path): item for path, item in openapi["paths"].items()}


def schema(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


# --- the document parses as expected -------------------------------------------------------


def test_the_error_table_parses_into_every_status_of_the_document():
    statuses = documented_error_statuses(interfaces_text())
    assert set(statuses.values()) == {400, 401, 403, 404, 409, 413, 422, 423, 429, 503}
    assert statuses["malformed_request"] == 400
    assert statuses["certificate_not_yet_valid"] == 401  # the last of the login failures
    assert statuses["batch_too_large"] == 413  # a row with a remark after the code
    assert statuses["rate_limited"] == 429


def test_the_relative_unlock_path_expands_to_the_accounts_path_before_it():
    routes = documented_routes(interfaces_text())
    unlock = "/api/v1/operator/services/{code}/accounts/{payment_service_id}/unlock"
    assert DocumentedRoute("post", unlock) in routes
    assert not any("…" in route.path or "?" in route.path for route in routes)
    paths = {route.path for route in routes}
    assert "/api/v1/payment-services" in paths  # written with its query string
    assert "/healthz" in paths
    assert "/api/v1" not in paths  # the base path is not a route


def test_the_batch_row_codes_are_those_of_the_document():
    assert documented_batch_row_codes(interfaces_text()) == BATCH_ROW_CODES


def test_the_batch_row_codes_are_the_rejected_row_schema(openapi):
    row = schema(openapi, openapi["components"]["schemas"]["RejectedRowOut"])
    assert set(schema(openapi, row["properties"]["code"])["enum"]) == set(BATCH_ROW_CODES)


# --- error codes ---------------------------------------------------------------------------


def test_every_documented_error_code_is_in_the_openapi_error_schema(openapi):
    detail = schema(openapi, openapi["components"]["schemas"]["ErrorDetail"])
    enum = set(schema(openapi, detail["properties"]["code"])["enum"])
    missing = sorted(set(documented_error_statuses(interfaces_text())) - enum)
    assert missing == [], f"codes of INTERFACES.md missing from ErrorDetail.code: {missing}"


def test_every_documented_error_code_has_its_documented_status():
    documented = documented_error_statuses(interfaces_text())
    assert {code: STATUS_BY_CODE.get(code) for code in documented} == documented


def test_every_code_the_schema_declares_has_a_status(openapi):
    # A code without a status would be sent as a 400 whatever it means.
    detail = schema(openapi, openapi["components"]["schemas"]["ErrorDetail"])
    enum = set(schema(openapi, detail["properties"]["code"])["enum"])
    assert enum == set(STATUS_BY_CODE)


# --- paths ---------------------------------------------------------------------------------


def test_every_documented_path_is_served_or_pending(openapi):
    served = served_paths(openapi)
    pending = {normalised(path) for path in PENDING}
    unaccounted = sorted(
        path
        for path in documented_paths(interfaces_text())
        if normalised(path) not in served and normalised(path) not in pending
    )
    assert unaccounted == [], f"documented, not served, not PENDING: {unaccounted}"


def test_pending_paths_are_not_served_yet(openapi):
    served = served_paths(openapi)
    now_served = sorted(path for path in PENDING if normalised(path) in served)
    assert now_served == [], f"served now: remove from PENDING: {now_served}"


def test_pending_lists_only_documented_paths():
    documented = {normalised(path) for path in documented_paths(interfaces_text())}
    assert sorted(path for path in PENDING if normalised(path) not in documented) == []


def test_served_paths_answer_the_documented_methods(openapi):
    served = served_paths(openapi)
    missing = sorted(
        f"{route.method.upper()} {route.path}"
        for route in documented_routes(interfaces_text())
        if route.method is not None
        and normalised(route.path) in served
        and route.method not in served[normalised(route.path)]
    )
    assert missing == [], f"documented methods the server does not declare: {missing}"


@pytest.mark.parametrize(("method", "path"), CITIZEN_BEARER_ROUTES)
def test_citizen_routes_declare_the_bearer_security_scheme(openapi, method, path):
    operation = openapi["paths"][path][method]
    requirements = operation.get("security", [])
    assert requirements, f"{method.upper()} {path} declares no security"
    schemes = openapi["components"]["securitySchemes"]
    used = {name for requirement in requirements for name in requirement}
    assert any(
        schemes[name]["type"] == "http" and schemes[name]["scheme"].lower() == "bearer"
        for name in used
    )


@pytest.mark.parametrize(("method", "path"), OPERATOR_BEARER_ROUTES)
def test_operator_routes_declare_their_own_bearer_scheme(openapi, method, path):
    # A scheme of its own, so the docs ask for an operator key, not a citizen's session token.
    operation = openapi["paths"][path][method]
    used = {name for requirement in operation.get("security", []) for name in requirement}
    assert used == {"OperatorKey"}
    scheme = openapi["components"]["securitySchemes"]["OperatorKey"]
    assert (scheme["type"], scheme["scheme"].lower()) == ("http", "bearer")
