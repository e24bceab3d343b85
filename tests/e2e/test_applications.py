"""Applying through the HTTP API (RULES.md R3-R5, R10-R14), on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest

from citizen_app import bearer, citizen_app
from mynapoint.domain.calendar import JST

PAYPAY_ID = "1234567890123456"
OTHER_ID = "6543210987654321"
CODE = "1234"
WRONG = "9999"
PHASE2_DAY = datetime(2022, 7, 1, 10, 0, tzinfo=JST)  # measures 1, 2 and 3 are all open


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as running:
        key = running.operator_key("paypay")
        for payment_service_id in (PAYPAY_ID, OTHER_ID):
            registered = running.register_account(key, payment_service_id, CODE)
            assert registered.status_code == 201, registered.text
        yield running


def error_code(response) -> str:
    return response.json()["error"]["code"]


def apply(
    app,
    token,
    *,
    measure="phase1",
    service_code="paypay",
    payment_service_id=PAYPAY_ID,
    security_code=CODE,
    counts="charge",
    representative=None,
):
    body = {
        "measure": measure,
        "service_code": service_code,
        "payment_service_id": payment_service_id,
        "security_code": security_code,
    }
    if counts is not None:
        body["counts"] = counts
    if representative is not None:
        body["representative"] = representative
    return app.client.post("/api/v1/applications", json=body, headers=bearer(token))


def preview(app, token, *, payment_service_id=PAYPAY_ID, security_code=CODE, service="paypay"):
    return app.client.post(
        "/api/v1/applications/preview",
        json={
            "service_code": service,
            "payment_service_id": payment_service_id,
            "security_code": security_code,
        },
        headers=bearer(token),
    )


def new_session(app, card) -> str:
    """A fresh token after the clock moved past the 30 minutes of the last one."""
    return app.token(card)


# --- preview and apply ----------------------------------------------------------------------


def test_the_preview_shows_the_holder_name_masked(app):
    token = app.citizen(app.issue())
    response = preview(app, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"holder_name_masked": "ヤマダ タ**"}


def test_an_application_is_created_listed_and_final_for_its_measure(app):
    token = app.citizen(app.issue())
    response = apply(app, token)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["measure"] == "phase1"
    assert body["service_code"] == "paypay"
    assert body["holder_name_masked"] == "ヤマダ タ**"
    assert datetime.fromisoformat(body["applied_at"]) == app.clock.now()
    me = app.client.get("/api/v1/me", headers=bearer(token)).json()
    assert me["applications"] == [
        {
            "application_id": body["application_id"],
            "measure": "phase1",
            "service_code": "paypay",
            "applied_at": body["applied_at"],
            "status": "active",
        }
    ]
    again = apply(app, token, payment_service_id=OTHER_ID)
    assert again.status_code == 409
    assert error_code(again) == "already_applied"


def test_each_measure_takes_one_application(app):
    app.clock.set(PHASE2_DAY)
    token = app.citizen(app.issue())
    for measure, counts in (
        ("phase2_spending", "purchase"),
        ("phase2_health_insurance", None),
        ("phase2_public_funds", None),
    ):
        response = apply(app, token, measure=measure, counts=counts)
        assert response.status_code == 201, (measure, response.text)
    for measure, counts in (
        ("phase2_spending", "purchase"),
        ("phase2_health_insurance", None),
        ("phase2_public_funds", None),
    ):
        response = apply(app, token, measure=measure, counts=counts, payment_service_id=OTHER_ID)
        assert response.status_code == 409, measure
        assert error_code(response) == "already_applied"
    me = app.client.get("/api/v1/me", headers=bearer(token)).json()
    assert sorted(a["measure"] for a in me["applications"]) == [
        "phase2_health_insurance",
        "phase2_public_funds",
        "phase2_spending",
    ]


def test_a_phase1_application_carries_into_measure_1_so_applying_again_is_already_applied(app):
    card = app.issue()
    assert apply(app, app.citizen(card)).status_code == 201
    app.clock.set(datetime(2022, 1, 5, 10, 0, tzinfo=JST))
    response = apply(app, new_session(app, card), measure="phase2_spending")
    assert response.status_code == 409
    assert error_code(response) == "already_applied"
    assert "carries into" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("counts", "measure", "at"),
    [
        (None, "phase1", None),  # PayPay lets the person pick: the pick is required
        ("refund", "phase1", None),
        ("charge", "phase2_health_insurance", PHASE2_DAY),  # a fixed grant counts nothing
    ],
)
def test_a_missing_or_wrong_pick_is_invalid_counts(app, counts, measure, at):
    if at is not None:
        app.clock.set(at)
    token = app.citizen(app.issue())
    response = apply(app, token, measure=measure, counts=counts)
    assert response.status_code == 422
    assert error_code(response) == "invalid_counts"


def test_a_service_not_in_the_catalog_is_unknown(app):
    token = app.citizen(app.issue())
    for response in (apply(app, token, service_code="bitcoin"), preview(app, token, service="x")):
        assert response.status_code == 404
        assert error_code(response) == "unknown_service"


def test_without_a_mykey_id_there_is_no_application(app):
    token = app.token(app.issue())
    for response in (apply(app, token), preview(app, token)):
        assert response.status_code == 409
        assert error_code(response) == "mykey_required"


@pytest.mark.parametrize("service_code", ["rakuten_pay", "merpay"])
def test_a_service_that_takes_applications_only_in_its_own_app_is_refused_online(app, service_code):
    token = app.citizen(app.issue())
    code = "12345678" if service_code == "rakuten_pay" else "123456"
    response = apply(app, token, service_code=service_code, security_code=code, counts=None)
    assert response.status_code == 409
    assert error_code(response) == "channel_not_allowed"
    assert response.json()["error"]["details"]["channels"] == ["app"]


def test_an_id_or_code_not_in_the_service_format_is_invalid_request_naming_the_format(app):
    token = app.citizen(app.issue())
    short_id = apply(app, token, payment_service_id="12345")
    assert short_id.status_code == 422
    assert error_code(short_id) == "invalid_request"
    error = short_id.json()["error"]
    assert error["details"]["fields"][0]["field"] == "payment_service_id"
    assert "1234567890123456" in error["message"]  # the example of the expected format
    bad_code = apply(app, token, security_code="12a4")
    assert error_code(bad_code) == "invalid_request"
    assert "12a4" not in bad_code.json()["error"]["message"]  # a code is never echoed


def test_bad_bodies_are_invalid_request_listing_each_field(app):
    token = app.citizen(app.issue())
    response = app.client.post(
        "/api/v1/applications",
        json={"measure": "phase9", "service_code": "paypay", "security_code": "1" * 65},
        headers=bearer(token),
    )
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["details"]["fields"]}
    assert fields == {"measure", "payment_service_id", "security_code"}


@pytest.mark.parametrize("path", ["/api/v1/applications", "/api/v1/applications/preview"])
def test_applying_needs_a_session(app, path):
    response = app.client.post(path, json={})
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


# --- accounts: R4, the code lock --------------------------------------------------------------


def test_two_people_cannot_link_the_same_account(app):
    first = app.citizen(app.issue())
    second = app.citizen(app.issue())
    assert apply(app, first).status_code == 201
    response = apply(app, second)
    assert response.status_code == 409
    assert error_code(response) == "account_taken"
    # The refusal linked nothing and used up nothing: the second person can use another one.
    assert apply(app, second, payment_service_id=OTHER_ID).status_code == 201


def test_an_unknown_account_is_refused_exactly_like_a_wrong_code(app):
    token = app.citizen(app.issue())
    unknown = apply(app, token, payment_service_id="1111222233334444")
    wrong = apply(app, token, security_code=WRONG)
    assert unknown.status_code == wrong.status_code == 422
    assert error_code(unknown) == error_code(wrong) == "invalid_account_credentials"
    unknown_error, wrong_error = unknown.json()["error"], wrong.json()["error"]
    assert unknown_error["message"] == wrong_error["message"]
    assert unknown_error["details"] == wrong_error["details"]


def test_five_wrong_codes_lock_the_person_out_until_the_operator_unlocks_the_account(app):
    token = app.citizen(app.issue())
    for _ in range(4):
        response = preview(app, token, security_code=WRONG)
        assert error_code(response) == "invalid_account_credentials"
    fifth = apply(app, token, security_code=WRONG)
    assert fifth.status_code == 423
    assert error_code(fifth) == "account_locked"
    assert fifth.headers["Retry-After"] == str(15 * 60)
    assert fifth.json()["error"]["details"]["retry_after_seconds"] == 15 * 60
    # Locked: even the right code is refused, and nothing was applied for.
    assert error_code(apply(app, token)) == "account_locked"
    assert error_code(preview(app, token)) == "account_locked"
    unlocked = app.client.post(
        f"/api/v1/operator/services/paypay/accounts/{PAYPAY_ID}/unlock",
        headers=bearer(app.operator_key("paypay")),
    )
    assert unlocked.status_code == 200
    assert unlocked.json() == {"unlocked": True}
    assert apply(app, token).status_code == 201


def test_the_lock_ends_by_itself_after_fifteen_minutes(app):
    token = app.citizen(app.issue())
    for _ in range(5):
        preview(app, token, security_code=WRONG)
    app.clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    almost = preview(app, token)
    assert error_code(almost) == "account_locked"
    assert almost.headers["Retry-After"] == "1"
    app.clock.advance(timedelta(seconds=1))
    assert preview(app, token).status_code == 200


def test_a_right_code_starts_the_count_of_wrong_ones_again(app):
    token = app.citizen(app.issue())
    for _ in range(4):
        assert error_code(preview(app, token, security_code=WRONG)) == (
            "invalid_account_credentials"
        )
    assert preview(app, token).status_code == 200
    for _ in range(4):
        assert error_code(preview(app, token, security_code=WRONG)) == (
            "invalid_account_credentials"
        )
    assert apply(app, token).status_code == 201


def test_two_concurrent_applications_for_one_measure_give_one(app):
    card = app.issue()
    tokens = [app.citizen(card), app.token(card)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda t: apply(app, t), tokens))
    assert sorted(r.status_code for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert error_code(refused) == "already_applied"
    me = app.client.get("/api/v1/me", headers=bearer(tokens[0])).json()
    assert len(me["applications"]) == 1


# --- the campaign rules ------------------------------------------------------------------------


def test_a_card_applied_for_after_the_cut_off_is_not_eligible_for_the_extended_phase_1(app):
    token = app.citizen(app.issue_person(card_applied_on=date(2021, 5, 10)))
    response = apply(app, token)
    assert response.status_code == 403
    assert error_code(response) == "not_eligible"
    error = response.json()["error"]
    assert "2021-05-10" in error["message"]
    assert "by 2021-04-30" in error["message"]  # the rule, not only the card's day
    assert error["details"] == {
        "measure": "phase1",
        "cause": "card_cutoff",
        "card_applied_on": "2021-05-10",
        "card_applied_by": "2021-04-30",
    }


@pytest.mark.parametrize(
    ("at", "measure", "counts"),
    [
        (datetime(2022, 1, 5, 10, 0, tzinfo=JST), "phase1", "charge"),  # phase 1 ended
        (datetime(2022, 6, 29, 23, 59, tzinfo=JST), "phase2_health_insurance", None),
        (datetime(2021, 12, 31, 23, 59, tzinfo=JST), "phase2_spending", "charge"),
    ],
)
def test_outside_its_window_a_measure_is_closed(app, at, measure, counts):
    app.clock.set(at)
    token = app.citizen(app.issue())
    response = apply(app, token, measure=measure, counts=counts)
    assert response.status_code == 409
    assert error_code(response) == "application_window_closed"


def test_within_an_hour_of_a_renewal_measure_1_waits(app):
    app.clock.set(datetime(2022, 1, 5, 10, 0, tzinfo=JST))
    card = app.issue()
    app.citizen(card)
    renewed = app.platform.authority.renew(card, "1234", issued_at=app.clock.now())
    app.clock.advance(timedelta(minutes=59))
    token = app.token(renewed)
    response = apply(app, token, measure="phase2_spending")
    assert response.status_code == 409
    assert error_code(response) == "waiting_period"
    assert response.json()["error"]["details"]["applies_from"] == "2022-01-05T11:00:00+09:00"
    app.clock.advance(timedelta(minutes=1))
    assert apply(app, token, measure="phase2_spending").status_code == 201


def test_phase_1_has_no_waiting_after_issuance(app):
    card = app.issue_person(issued_at=app.clock.now())
    assert apply(app, app.citizen(card)).status_code == 201


# --- R14: legal representatives -------------------------------------------------------------


def test_a_legal_representative_applies_for_a_child_of_9(app):
    child = app.issue_person(birth_date=date(2012, 6, 1))
    parent = app.issue_person(birth_date=date(1985, 5, 15), representative_of=child)
    token = app.citizen(child)
    response = apply(app, token, representative=app.representative(parent))
    assert response.status_code == 201, response.text
    uow = app.platform.unit_of_work()
    with uow:
        stored = uow.applications.get(response.json()["application_id"])
    parent_facts = app.platform.authority.facts(parent.serial)
    assert stored is not None
    assert parent_facts is not None
    assert stored.representative == parent_facts.person


@pytest.mark.parametrize(
    ("birth_date", "adult_ward", "reason"),
    [(date(2012, 6, 1), False, "under_15"), (date(1950, 1, 1), True, "adult_ward")],
)
def test_a_child_under_15_or_a_ward_cannot_apply_alone(app, birth_date, adult_ward, reason):
    holder = app.issue_person(birth_date=birth_date, adult_ward=adult_ward)
    response = apply(app, app.citizen(holder))
    assert response.status_code == 403, response.text
    assert error_code(response) == "representative_required"
    assert response.json()["error"]["details"]["reason"] == reason
    assert "legal representative" in response.json()["error"]["message"]


def test_a_stranger_cannot_sign_as_representative(app):
    child = app.issue_person(birth_date=date(2012, 6, 1))
    stranger = app.issue_person(birth_date=date(1985, 5, 15))
    response = apply(app, app.citizen(child), representative=app.representative(stranger))
    assert response.status_code == 403
    assert error_code(response) == "not_legal_representative"


def test_the_holder_cannot_sign_as_their_own_representative(app):
    child = app.issue_person(birth_date=date(2012, 6, 1))
    response = apply(app, app.citizen(child), representative=app.representative(child))
    assert error_code(response) == "not_legal_representative"


def test_an_adult_who_is_not_a_ward_applies_in_person(app):
    adult = app.issue_person(birth_date=date(1990, 1, 1))
    guardian = app.issue_person(birth_date=date(1960, 1, 1), representative_of=adult)
    response = apply(app, app.citizen(adult), representative=app.representative(guardian))
    assert response.status_code == 409
    assert error_code(response) == "representative_not_allowed"


def test_an_adult_ward_may_be_represented(app):
    ward = app.issue_person(birth_date=date(1950, 1, 1), adult_ward=True)
    guardian = app.issue_person(birth_date=date(1975, 1, 1), representative_of=ward)
    response = apply(app, app.citizen(ward), representative=app.representative(guardian))
    assert response.status_code == 201, response.text


def test_a_representative_signature_over_another_challenge_is_invalid(app):
    child = app.issue_person(birth_date=date(2012, 6, 1))
    parent = app.issue_person(birth_date=date(1985, 5, 15), representative_of=child)
    token = app.citizen(child)
    signed = app.representative(parent)
    signed["challenge_id"] = app.challenge()["challenge_id"]
    response = apply(app, token, representative=signed)
    assert response.status_code == 401
    assert error_code(response) == "invalid_signature"
    assert response.json()["error"]["details"]["field"].startswith("representative.")


def test_a_representative_challenge_is_used_once(app):
    child = app.issue_person(birth_date=date(2012, 6, 1))
    parent = app.issue_person(birth_date=date(1985, 5, 15), representative_of=child)
    token = app.citizen(child)
    signed = app.representative(parent)
    created = apply(app, token, representative=signed)
    assert created.status_code == 201
    path = f"/api/v1/applications/{created.json()['application_id']}"
    assert app.client.delete(path, headers=bearer(token)).status_code == 204
    response = apply(app, token, representative=signed)
    assert error_code(response) == "challenge_used"


# --- same-day cancellation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cancel_at", "status"),
    [
        (datetime(2021, 7, 19, 23, 59, tzinfo=JST), 204),
        (datetime(2021, 7, 20, 0, 0, tzinfo=JST), 409),
        (datetime(2021, 7, 20, 10, 0, tzinfo=JST), 409),
    ],
)
def test_an_application_can_be_cancelled_on_its_own_day_only(app, cancel_at, status):
    card = app.issue()
    created = apply(app, app.citizen(card)).json()
    app.clock.set(cancel_at)
    token = new_session(app, card)
    response = app.client.delete(
        f"/api/v1/applications/{created['application_id']}", headers=bearer(token)
    )
    assert response.status_code == status
    if status == 409:
        assert error_code(response) == "cancellation_not_allowed"


def test_a_same_day_cancellation_frees_the_account_for_another_person(app):
    first = app.citizen(app.issue())
    second = app.citizen(app.issue())
    created = apply(app, first).json()
    assert error_code(apply(app, second)) == "account_taken"
    response = app.client.delete(
        f"/api/v1/applications/{created['application_id']}", headers=bearer(first)
    )
    assert response.status_code == 204
    me = app.client.get("/api/v1/me", headers=bearer(first)).json()
    assert [a["status"] for a in me["applications"]] == ["cancelled"]
    assert apply(app, second).status_code == 201
    # The first person may apply again, with another account.
    assert apply(app, first, payment_service_id=OTHER_ID).status_code == 201
    again = app.client.delete(
        f"/api/v1/applications/{created['application_id']}", headers=bearer(first)
    )
    assert error_code(again) == "cancellation_not_allowed"


def test_only_the_applicant_can_cancel_and_others_see_no_such_application(app):
    owner = app.citizen(app.issue())
    other = app.citizen(app.issue())
    created = apply(app, owner).json()
    for token, application_id in ((other, created["application_id"]), (owner, "0" * 16)):
        response = app.client.delete(
            f"/api/v1/applications/{application_id}", headers=bearer(token)
        )
        assert response.status_code == 404
        assert error_code(response) == "not_found"


@pytest.mark.parametrize(
    ("payment_service_id", "security_code"),
    [
        ("１２３４５６７８９０１２３４５６", CODE),
        ("1234 5678 9012 3456", CODE),
        (PAYPAY_ID, "１２３４"),
    ],
)
def test_the_api_takes_ids_and_codes_as_sent_full_width_and_groups_refused(
    app, payment_service_id, security_code
):
    """The pages read what a person types (web/typed_input.py); a program sends ASCII."""
    token = app.citizen(app.issue())
    for response in (
        preview(app, token, payment_service_id=payment_service_id, security_code=security_code),
        apply(app, token, payment_service_id=payment_service_id, security_code=security_code),
    ):
        assert response.status_code == 422, response.text
        assert error_code(response) in {"invalid_request", "invalid_text"}
