"""The input policy at the edge: no string or instant the policy refuses reaches a database.

Every route of the app (API and pages), every path, query, form and JSON parameter, fed NUL,
control, bidirectional, zero-width and lone-surrogate strings and instants far outside the
program's life, on SQLite and PostgreSQL: never a 5xx; the API answers 422 with the policy's
own code and `details.fields`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_app import Operation, Parameter, SignedIn, signed_in_platform

if TYPE_CHECKING:
    from collections.abc import Iterator

# One of each kind the policy refuses. A lone surrogate cannot be written in UTF-8 (so not in
# a URL or a form); it travels in JSON as the escape \ud800.
BAD_TEXT = {
    "nul": "a\x00b",
    "control": "a\x1bb",
    "newline": "a\nb",
    "bidi override": "abc\u202edef",
    "zero-width space": "ab\u200bc",
    "byte order mark": "\ufeffabc",
}
LONE_SURROGATE = "ab\ud800c"
BAD_INSTANTS = (
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
)
BAD_DAYS = ("0001-01-01", "9999-12-31")

# The operator event batch judges each row on its own (the intake): its rows are not
# parameters of the request but data, checked by tests/e2e/test_intake*.py.


@pytest.fixture
def platform(database_url, tmp_path) -> Iterator[SignedIn]:
    with signed_in_platform(database_url, tmp_path) as signed_in:
        yield signed_in


# A PEM certificate is lines of text: a line break inside it is its form, not a refusal.
MULTILINE = {"certificate"}


def _bad_values(parameter: Parameter) -> list[str]:
    values = list(BAD_TEXT.values())
    if parameter.name.rsplit(".", 1)[-1] in MULTILINE:
        values.remove(BAD_TEXT["newline"])
    if parameter.where == "json":
        values.append(LONE_SURROGATE)
    if parameter.name == "at":
        values += BAD_INSTANTS
    if parameter.name in {"as_of", "due_by", "from", "to"}:
        values += BAD_DAYS
    return values


def _cases(platform: SignedIn) -> list[tuple[Operation, Parameter, str]]:
    return [
        (operation, parameter, value)
        for operation in platform.operations
        for parameter in operation.parameters
        for value in _bad_values(parameter)
    ]


def test_the_walk_covers_every_route_and_kind_of_parameter(platform):
    paths = {operation.path for operation in platform.operations}
    assert {
        "/api/v1/auth/sessions",
        "/staff/sign-in",
        "/api/v1/applications/{application_id}",
    } <= paths
    kinds = {p.where for operation in platform.operations for p in operation.parameters}
    assert kinds == {"path", "query", "form", "file", "json"}


def test_no_refused_string_or_instant_causes_a_server_error_on_any_route(platform):
    failures = []
    for operation, parameter, value in _cases(platform):
        response = platform.send(operation, {parameter: value})
        if response.status_code >= 500:
            failures.append(f"{operation.method} {operation.path} {parameter} {value!r}")
    assert failures == []


def test_the_api_answers_a_refused_string_with_invalid_text_and_its_field(platform):
    refused = []
    for operation, parameter, value in _cases(platform):
        if operation.is_page or parameter.where == "file" or value not in BAD_TEXT.values():
            continue
        response = platform.send(operation, {parameter: value})
        if response.status_code != 422:
            refused.append(
                f"{operation.method} {operation.path} {parameter.name}: {response.status_code}"
            )
            continue
        error = response.json()["error"]
        assert error["code"] == "invalid_text", (operation.path, parameter, error)
        assert error["details"]["fields"], error
    assert refused == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code"),
    [
        (
            "POST",
            "/api/v1/auth/sessions",
            {"json": {"challenge_id": "\u0000", "certificate": "x", "signature": "y"}},
            "invalid_text",
        ),
        ("DELETE", "/api/v1/applications/%00", {}, "invalid_text"),
        ("GET", "/api/v1/operator/grants?service_code=pay%00pay", {}, "invalid_text"),
        ("GET", "/api/v1/operator/settlements/2021-0%00", {}, "invalid_text"),
        ("GET", "/api/v1/support-corners?at=9999-12-31T23:59:59Z", {}, "instant_out_of_range"),
        (
            "GET",
            "/api/v1/support-corners?at=0001-01-01T00:00:00%2B09:00",
            {},
            "instant_out_of_range",
        ),
        ("GET", "/api/v1/help-line?at=9999-12-31T23:59:59Z", {}, "instant_out_of_range"),
        ("GET", "/api/v1/help-line?at=0001-01-01T00:00:00Z", {}, "instant_out_of_range"),
        ("GET", "/api/v1/campaigns?as_of=9999-12-31", {}, "instant_out_of_range"),
    ],
)
def test_the_reported_server_errors_are_refusals_with_the_policy_code(
    platform, method, path, kwargs, code
):
    headers = {"Authorization": f"Bearer {platform.operator_key}"} if "operator" in path else {}
    if "applications" in path:
        headers = {"Authorization": f"Bearer {platform.citizen_token}"}
    response = platform.client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"]["fields"][0]["field"]


def test_a_staff_sign_in_with_a_nul_in_the_name_is_an_error_page_not_a_server_error(platform):
    response = platform.client.post(
        "/staff/sign-in",
        data={"csrf_token": platform.csrf(), "name": "chuo\x00staff", "password": "x"},
    )
    assert response.status_code == 422
    assert "<h1>" in response.text
    assert "使えない文字" in response.text


def test_a_number_is_not_a_day(platform):
    # schemathesis: as_of=1.5 was read as a Unix time.
    for value in ("0", "1.5", "20210719", "2021-7-19"):
        response = platform.client.get("/api/v1/campaigns", params={"as_of": value})
        assert response.status_code == 422, value
        assert response.json()["error"]["code"] == "invalid_request"


_TEXT_PARTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
_FORBIDDEN = st.sampled_from(
    ["\x00", "\x01", "\x1f", "\x7f", "\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u2028"]
)


def test_strings_with_a_forbidden_character_anywhere_never_cause_a_server_error(platform):
    cases = [
        (o, p)
        for o in platform.operations
        for p in o.parameters
        if p.where in {"path", "query", "form", "json"}
    ]

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(st.sampled_from(cases), _TEXT_PARTS, _FORBIDDEN, _TEXT_PARTS)
    def sent(case, before, bad, after):
        operation, parameter = case
        response = platform.send(operation, {parameter: before + bad + after})
        assert response.status_code < 500, (operation.method, operation.path, parameter)
        if parameter.where == "path" and response.status_code == 404:
            # A "/" or "." around the character makes it another path, which no route serves:
            # nothing reached a route.
            return
        if not operation.is_page:
            assert response.json()["error"]["code"] == "invalid_text", (operation, parameter)

    sent()


def test_an_uploaded_file_named_with_a_nul_is_refused_not_stored(platform):
    # A client library escapes such a name; a hand-made multipart body does not.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="ev\x00nt.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n"
        b"event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"
        b"\r\n--B--\r\n"
    )
    response = platform.client.post(
        "/api/v1/operator/events/files",
        content=body,
        headers={
            "Authorization": f"Bearer {platform.operator_key}",
            "Content-Type": "multipart/form-data; boundary=B",
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_text"
    assert response.json()["error"]["details"]["fields"][0]["field"] == "file"
