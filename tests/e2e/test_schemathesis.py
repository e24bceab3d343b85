"""schemathesis against the app: the OpenAPI document and the behaviour agree.

Every operation, with data that fits the schema and data that does not, on SQLite and
PostgreSQL: no server error, only documented statuses and content types, and bodies of the
documented shapes. Bounded for `make test`; a longer run:

    MYNAPOINT_SCHEMATHESIS_EXAMPLES=500 .venv/bin/pytest -n 0 tests/e2e/test_schemathesis.py
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from edge_app import signed_in_platform

if TYPE_CHECKING:
    from edge_app import SignedIn

EXAMPLES = int(os.environ.get("MYNAPOINT_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Signing out ends the session every other citizen operation uses: it goes last.
LAST = ("DELETE", "/api/v1/auth/sessions/current")


def _headers(signed_in: SignedIn, security: list[dict[str, Any]]) -> dict[str, str]:
    schemes = {name for requirement in security for name in requirement}
    if "OperatorKey" in schemes:
        return {"Authorization": f"Bearer {signed_in.operator_key}"}
    if schemes:
        return {"Authorization": f"Bearer {signed_in.citizen_token}"}
    return {}


def test_every_operation_agrees_with_the_openapi_document(database_url, tmp_path):
    failures: list[str] = []
    with signed_in_platform(database_url, tmp_path) as signed_in:
        schema = schemathesis.openapi.from_asgi("/openapi.json", signed_in.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda o: (o.method.upper(), o.path) == LAST)
        assert len(operations) >= 20
        for operation in operations:
            headers = _headers(signed_in, operation.definition.raw.get("security", []))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode, headers=headers)

                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(strategy)
                def conforms(case: Any) -> None:
                    case.call_and_validate(checks=CHECKS)

                try:
                    conforms()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE  # nothing to send wrong: no parameters
                except Exception as exc:  # noqa: BLE001 - every operation's failure is reported
                    failures.append(f"{operation.method.upper()} {operation.path} [{mode}]: {exc}")
    assert failures == [], "\n\n".join(failures)


@pytest.mark.parametrize("method", ["TRACE", "PATCH", "PUT"])
def test_an_unsupported_method_is_405_with_allow(database_url, tmp_path, method):
    with signed_in_platform(database_url, tmp_path) as signed_in:
        response = signed_in.client.request(method, "/api/v1/campaigns")
        assert response.status_code == 405
        assert response.headers["Allow"] == "GET"
        assert response.json()["error"]["code"] == "method_not_allowed"
