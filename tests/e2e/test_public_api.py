"""The public API and top page through the app, on an embedded database with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import create_engine_for, sqlite_url
from mynapoint.domain.calendar import JST
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.memory import InMemoryAuthorityStore
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app

SOURCE_PAGE_DAY = datetime(2021, 4, 5, 10, 0, tzinfo=JST)


def make_client(tmp_path: Path, at: datetime = SOURCE_PAGE_DAY) -> Iterator[TestClient]:
    settings = Settings(database_url=sqlite_url(tmp_path / "api.db"), var_dir=tmp_path)
    platform = build_platform(settings, clock=FixedClock(at))
    with TestClient(create_app(settings, platform)) as client:
        yield client
    platform.engine.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from make_client(tmp_path)


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", var_dir=tmp_path
    )
    engine = create_engine_for(settings.database_url)
    clock = FixedClock(SOURCE_PAGE_DAY)
    authority = SimulatedCardAuthority(InMemoryAuthorityStore(), now=clock.now)
    revocations = CachedRevocationList(authority.revocation_list, clock.now)
    platform = Platform(
        settings, engine, clock, load_campaigns(), load_catalog(), authority, revocations
    )
    with TestClient(create_app(settings, platform)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_campaigns_default_to_what_was_announced_by_platform_today(client):
    body = client.get("/api/v1/campaigns").json()
    assert body["as_of"] == "2021-04-05"
    assert [c["measure"] for c in body["campaigns"]] == ["phase1"]
    phase1 = body["campaigns"][0]
    assert phase1["applications"]["last_day"] == "2021-09-30"
    assert phase1["card_cutoff"] == {"applied_by": "2021-04-30", "applied_online_by": None}
    assert [v["announced"] for v in phase1["history"]["applications_close"]] == [
        "2019-12-05",
        "2021-03-26",
    ]


def test_campaigns_as_of_a_day_show_every_change_announced_by_then(client):
    body = client.get("/api/v1/campaigns", params={"as_of": "2023-03-31"}).json()
    measures = {c["measure"]: c for c in body["campaigns"]}
    assert set(measures) == {
        "phase1",
        "phase2_spending",
        "phase2_health_insurance",
        "phase2_public_funds",
    }
    assert measures["phase1"]["spending"]["last_day"] == "2021-12-31"
    assert measures["phase2_spending"]["applications"]["last_day"] == "2023-09-30"
    assert measures["phase2_public_funds"]["waiting_after_issuance_hours"] == 72
    assert measures["phase2_health_insurance"]["cap"] == 7500
    assert measures["phase2_spending"]["card_cutoff"] == {
        "applied_by": "2023-02-28",
        "applied_online_by": "2023-03-01",
    }


def test_a_bad_as_of_is_an_invalid_request_naming_the_field(client):
    response = client.get("/api/v1/campaigns", params={"as_of": "05/04/2021"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]["fields"][0]["field"] == "as_of"


@pytest.mark.parametrize(
    ("params", "expected_in", "expected_out"),
    [
        ({"q": "スイカ"}, {"suica"}, {"paypay"}),
        ({"q": "すいか"}, {"suica"}, {"waon"}),
        ({"q": "ＰａｙＰａｙ"}, {"paypay"}, {"suica"}),
        ({"category": "credit_card"}, {"rakuten_card"}, {"paypay"}),
        ({"counts": "charge"}, {"suica", "paypay"}, {"merpay"}),
        ({"counts": "pick"}, {"paypay"}, {"suica"}),
        ({"preregistration": "true"}, {"waon"}, {"paypay"}),
        ({"channel": "support_corner"}, {"paypay"}, {"merpay", "rakuten_pay"}),
        ({"measure": "phase2_public_funds"}, {"paypay", "waon", "suica"}, {"merpay"}),
    ],
)
def test_payment_service_search_filters(client, params, expected_in, expected_out):
    response = client.get("/api/v1/payment-services", params=params)
    assert response.status_code == 200
    codes = {s["code"] for s in response.json()["payment_services"]}
    assert expected_in <= codes
    assert not codes & expected_out


def test_one_payment_service_has_its_operator_and_timing(client):
    body = client.get("/api/v1/payment-services/paypay").json()
    assert body["operator"] == {"code": "paypay", "name": "PayPay株式会社"}
    assert body["counts"] == "pick"
    assert body["timing"]["purchase"]["days"] == 30


def test_an_unknown_service_is_404_unknown_service(client):
    response = client.get("/api/v1/payment-services/nosuch")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_service"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/nothing-here", 404, "not_found"),
        ("post", "/api/v1/campaigns", 405, "method_not_allowed"),
        ("get", "/api/v1/payment-services?channel=fax", 422, "invalid_request"),
    ],
)
def test_errors_have_the_one_error_shape(client, method, path, status, code):
    response = client.request(method, path)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_the_top_page_is_japanese_and_shows_the_deadlines_in_force(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert '<html lang="ja">' in page
    assert "25%" in page
    assert "5,000円" in page
    assert "2021年9月30日(木)" in page
    assert "2021年4月30日(金)" in page
    assert (
        "申込み前に、チャージやお買い物をしていただいても、マイナポイントは付与されません。" in page
    )


def test_openapi_lists_the_public_paths_and_the_error_codes(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/healthz",
        "/api/v1/campaigns",
        "/api/v1/payment-services",
        "/api/v1/payment-services/{code}",
    ):
        assert path in spec["paths"]
    codes = spec["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]
    assert {"malformed_request", "unknown_service", "invalid_request", "already_applied"} <= set(
        codes
    )


def test_the_api_docs_load_nothing_from_outside_the_app(client):
    page = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_vendored_assets_match_their_recorded_checksums():
    import hashlib  # noqa: PLC0415

    vendor = Path(__file__).parents[2] / "src/mynapoint/web/static/vendor"
    lines = (vendor / "SHA256SUMS").read_text().splitlines()
    assert len(lines) >= 5
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
