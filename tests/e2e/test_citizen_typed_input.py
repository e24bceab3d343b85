"""What a citizen types on the pages is read as they meant it: full-width digits, an ID in
groups, a PIN typed with the input method on (web/typed_input.py), on both databases."""

from __future__ import annotations

import pytest

from e2e.test_citizen_pages import PARENT_CODE, PARENT_ID, field_errors, pages_app


@pytest.fixture
def pages(database_url, tmp_path):
    with pages_app(database_url, tmp_path) as running:
        yield running


@pytest.mark.parametrize(
    ("payment_service_id", "security_code"),
    [
        ("１２３４５６７８９０１２３４５６", "１２３４"),
        ("1234 5678 9012 3456", PARENT_CODE),
        ("1234-5678-9012-3456", PARENT_CODE),
        ("１２３４－５６７８－９０１２－３４５６", "１２３４"),
    ],
)
def test_an_id_and_code_typed_full_width_or_in_groups_reach_the_confirmation(
    pages, payment_service_id, security_code
):
    pages.signed_in("parent")

    shown = pages.confirm(payment_service_id=payment_service_id, security_code=security_code)

    assert shown.status_code == 200, field_errors(shown.text)
    assert "ヤマダ タ**" in shown.text
    assert PARENT_ID in shown.text


def test_a_pin_typed_full_width_signs_in(pages):
    response = pages.login("parent", pin="１２３４", follow_redirects=False)

    assert response.status_code == 303, field_errors(response.text)


def test_an_id_still_in_the_wrong_shape_is_refused_next_to_it(pages):
    pages.signed_in("parent")

    refused = pages.confirm(payment_service_id="１２３４５")

    assert refused.status_code == 422
    assert "payment_service_id" in field_errors(refused.text)
