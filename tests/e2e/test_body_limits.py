"""Request bodies: authenticated before they are read, capped per route (413 request_too_large).

The refusals are checked at the ASGI level with a body that records how much of it the
server pulled: a refused body must not be read, a capped one not beyond its cap.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from citizen_app import DEMO_DAY, bearer, citizen_app
from mynapoint.config import Settings
from mynapoint.services.intake import BATCH_LIMIT
from mynapoint.web.limits_body import (
    BATCH_BODY_BYTES,
    DEFAULT_BODY_BYTES,
    ROUTE_BODY_LIMITS,
    route_table,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from citizen_app import CitizenApp

CHUNK = 64 * 1024


@dataclass
class StreamedBody:
    """An ASGI `receive` that hands out `chunks` chunks of 64 KiB and counts what was taken."""

    chunks: int
    taken: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.taken >= self.chunks:
            await asyncio.sleep(3600)  # the client has nothing more; wait as a socket would
        self.taken += 1
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": True}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def error(self) -> dict[str, Any]:
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        return dict(json.loads(body)["error"])


def call(
    app: Any, method: str, path: str, body: StreamedBody, headers: dict[str, str] | None = None
) -> StreamedBody:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }
    asyncio.run(asyncio.wait_for(app(scope, body.receive, body.send), timeout=30))
    return body


@pytest.fixture
def site(database_url, tmp_path) -> Iterator[CitizenApp]:
    with citizen_app(database_url, tmp_path, DEMO_DAY) as app:
        yield app


CHUNKED = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/operator/events"),
        ("POST", "/api/v1/operator/grants/ack"),
        ("PUT", "/api/v1/operator/services/paypay/accounts/1234567890123456"),
        ("POST", "/api/v1/applications"),
        ("POST", "/api/v1/applications/preview"),
    ],
)
def test_an_unauthenticated_body_is_refused_before_a_byte_of_it_is_read(site, method, path):
    # The report: one 67.6 MB post took the server from 177 to 532 MB before it answered 401.
    body = call(site.client.app, method, path, StreamedBody(chunks=1100), CHUNKED)
    assert body.status == 401
    assert body.error["code"] == "not_authenticated"
    assert body.taken == 0


def test_a_body_with_a_wrong_token_is_refused_before_it_is_read(site):
    headers = {**CHUNKED, "Authorization": "Bearer mnp_notakey.secret"}
    body = call(site.client.app, "POST", "/api/v1/operator/events", StreamedBody(1100), headers)
    assert (body.status, body.error["code"], body.taken) == (401, "invalid_token", 0)


def test_a_public_body_is_read_no_further_than_its_cap(site):
    body = call(site.client.app, "POST", "/api/v1/auth/sessions", StreamedBody(1100), CHUNKED)
    assert body.status == 413
    assert body.error == {
        "code": "request_too_large",
        "message": body.error["message"],
        "details": {"limit_bytes": DEFAULT_BODY_BYTES},
    }
    assert body.taken * CHUNK <= DEFAULT_BODY_BYTES + CHUNK


def test_an_authenticated_batch_is_read_no_further_than_the_batch_cap(site):
    key = site.operator_key("paypay")
    headers = {**CHUNKED, **bearer(key)}
    body = call(site.client.app, "POST", "/api/v1/operator/events", StreamedBody(1100), headers)
    assert body.status == 413
    assert body.error["details"] == {"limit_bytes": BATCH_BODY_BYTES}
    assert body.taken * CHUNK <= BATCH_BODY_BYTES + CHUNK


def test_a_declared_length_above_the_cap_is_refused_without_reading(site):
    headers = {"Content-Type": "application/json", "Content-Length": str(10**9)}
    body = call(site.client.app, "POST", "/api/v1/auth/sessions", StreamedBody(1100), headers)
    assert (body.status, body.error["code"], body.taken) == (413, "request_too_large", 0)


def test_an_ordinary_request_still_passes_the_gate(site):
    card = site.issue()
    token = site.citizen(card)
    response = site.client.post(
        "/api/v1/applications/preview",
        json={"service_code": "paypay", "payment_service_id": "1", "security_code": "1"},
        headers=bearer(token),
    )
    assert response.status_code != 413
    assert response.json()["error"]["code"] != "not_authenticated"


def test_the_route_takes_the_gates_answer_for_the_token_without_asking_the_database_again(site):
    token = site.citizen(site.issue())
    lookups: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM citizen_sessions" in statement:
            lookups.append(statement)

    event.listen(site.platform.engine, "before_cursor_execute", note)
    try:
        response = site.client.post(
            "/api/v1/applications/preview",
            json={"service_code": "paypay", "payment_service_id": "1", "security_code": "1"},
            headers=bearer(token),
        )
    finally:
        event.remove(site.platform.engine, "before_cursor_execute", note)
    # Refused for the account (no such ID), not for the token: the token was checked, once.
    assert response.json()["error"]["code"] == "invalid_request"
    assert len(lookups) == 1


def _event(index: int, *, longest: bool) -> dict[str, Any]:
    if longest:  # every field at the longest ingest/event_rows.py takes
        return {
            "event_id": f"{index:0128d}",
            "service_code": "s" * 40,
            "payment_service_id": "9" * 64,
            "kind": "purchase",
            "amount": 1_000_000_000,
            "occurred_at": "2021-07-19T10:00:00.123456+09:00",
            "refund_of": f"{index:0128d}",
        }
    return {
        "event_id": f"paypay-2021-07-19-{index:08d}",
        "service_code": "paypay",
        "payment_service_id": "1234567890123456",
        "kind": "charge",
        "amount": 8000,
        "occurred_at": "2021-07-19T10:00:00+09:00",
    }


@pytest.mark.parametrize("longest", [False, True])
def test_a_batch_of_the_most_events_fits_under_the_batch_cap(longest):
    events = [_event(i, longest=longest) for i in range(BATCH_LIMIT)]
    size = len(json.dumps({"events": events}, indent=2).encode())
    assert size < BATCH_BODY_BYTES
    assert size > DEFAULT_BODY_BYTES  # which is why the batch has a cap of its own


def test_a_realistic_batch_of_10000_events_is_accepted_through_the_gate(site):
    key = site.operator_key("paypay")
    events = [_event(i, longest=False) for i in range(BATCH_LIMIT)]
    response = site.client.post(
        "/api/v1/operator/events", json={"events": events}, headers=bearer(key)
    )
    assert response.status_code == 200, response.text[:300]


def test_an_upload_above_the_configured_cap_is_refused_and_not_stored(
    database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("MYNAPOINT_MAX_UPLOAD_BYTES", "4096")
    with citizen_app(database_url, tmp_path, DEMO_DAY) as site:
        key = site.operator_key("paypay")
        content = b"event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"
        response = site.client.post(
            "/api/v1/operator/events/files",
            files={"file": ("events.csv", content + b"x" * 5000, "text/csv")},
            headers=bearer(key),
        )
        assert response.status_code == 413
        assert response.json()["error"]["details"] == {"limit_bytes": 4096}
        uploads = tmp_path / "uploads"
        assert not uploads.exists() or not list(uploads.iterdir())
        small = site.client.post(
            "/api/v1/operator/events/files",
            files={"file": ("events.csv", content, "text/csv")},
            headers=bearer(key),
        )
        assert small.status_code == 202, small.text


def test_the_upload_cap_is_a_setting_with_a_default_of_200_mib(monkeypatch):
    assert Settings().max_upload_bytes == 200 * 1024 * 1024
    monkeypatch.setenv("MYNAPOINT_MAX_UPLOAD_BYTES", "1048576")
    assert Settings().max_upload_bytes == 1024 * 1024


def test_a_page_form_above_its_cap_is_an_error_page(site):
    response = site.client.post(
        "/login", data={"card": "x" * (DEFAULT_BODY_BYTES + 10), "pin": "1234"}
    )
    assert response.status_code == 413
    assert "<h1>" in response.text
    assert "大きすぎます" in response.text


def test_every_route_with_a_cap_of_its_own_exists(site):
    templates = {(m, r.template) for r in route_table(site.client.app) for m in r.methods}
    assert set(ROUTE_BODY_LIMITS) <= templates
