"""/operator/payment-accounts and /operator/notices end to end on SQLite and PostgreSQL: the
operator's count of registered accounts, a registration file with its report line by line
(registered, replaced, refused and why; one audit entry), the notices of stopped linkages;
another operator sees none of PayPay's; bad files are refused without a 500."""

from __future__ import annotations

from datetime import date

import pytest

from mynapoint.domain.ledger import LinkageNotice
from mynapoint.domain.staff import Role
from mynapoint.web.csrf import CSRF_FIELD
from staff_console import heading, staff_console

PAYPAY_STAFF = ("paypay-tanaka", "paypay-staff-2021")
AEON_ADMIN = ("aeon-admin", "aeon-admin-2021")
HEADER = "service_code,payment_service_id,security_code,holder_name\r\n"


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as running:
        running.add_signed_up(*PAYPAY_STAFF, Role.OPERATOR_STAFF, operator="paypay")
        running.add_signed_up(*AEON_ADMIN, Role.OPERATOR_ADMIN, operator="aeon_retail")
        yield running


def _upload(terminal, content: bytes):
    return terminal.client.post(
        "/operator/payment-accounts?lang=ja",
        data={CSRF_FIELD: terminal.csrf()},
        files={"file": ("accounts.csv", content, "text/csv")},
    )


def _cells(text):
    import re  # noqa: PLC0415

    rows = re.findall(r"<tr>\s*<th scope=\"row\">(\d+)</th>(.*?)</tr>", text, re.DOTALL)
    return {int(n): re.sub(r"<[^>]+>", "", body).split() for n, body in rows}


def test_a_registration_file_is_reported_line_by_line(console):
    staff = console.signed_in_at("/operator", *PAYPAY_STAFF)
    content = (
        HEADER
        + "paypay,1234567890129991,4321,ヤマダ ハナコ\r\n"
        + "paypay,1234567890129992,12,ヤマダ ジロウ\r\n"
        + "waon,1234567890129993,4321,サトウ ハナコ\r\n"
        + "\r\n"
        + "paypay,1234567890129991,9876,ヤマダ ハナコ\r\n"
        + "paypay,only-two\r\n"
    ).encode()

    response = _upload(staff, content)

    assert response.status_code == 200, response.text[:600]
    assert response.headers["cache-control"] == "no-store"
    lines = _cells(response.text)
    assert lines[2][:3] == ["paypay", "1234567890129991", "登録しました"]
    assert lines[3][2] == "受け付けませんでした"
    assert "invalid_request" in " ".join(lines[3])
    assert lines[4][2] == "受け付けませんでした"
    assert "not_your_service:" in " ".join(lines[4])
    assert 5 not in lines  # an empty line is skipped
    assert lines[6][2].startswith("置き換えました")
    assert "invalid_request (line): a line has 4 fields" in " ".join(lines[7])
    assert "登録した口座の数: 1" in response.text
    uploaded = console.audit()[-1].entry
    assert (uploaded.action, uploaded.actor) == ("operator_accounts_uploaded", "paypay-tanaka")
    assert uploaded.details["refused"] == "3"
    assert "9876" not in str(uploaded.details)


def test_another_operator_neither_counts_paypays_accounts_nor_sees_its_notices(console):
    staff = console.signed_in_at("/operator", *PAYPAY_STAFF)
    _upload(staff, (HEADER + "paypay,1234567890129991,4321,ヤマダ ハナコ\r\n").encode())
    uow = console.platform.unit_of_work()
    with uow:
        uow.notices.add_many([
            LinkageNotice("n-paypay-1", "paypay", "paypay", "1234567890129991",
                          "holder_deceased", date(2021, 7, 18), console.clock.now()),
        ])  # fmt: skip
        uow.commit()
    aeon = console.signed_in_at("/operator", *AEON_ADMIN)

    paypay_notices = staff.client.get("/operator/notices?lang=ja")
    aeon_accounts = aeon.client.get("/operator/payment-accounts?lang=ja")
    aeon_notices = aeon.client.get("/operator/notices?lang=ja")

    assert "n-paypay-1" in paypay_notices.text
    assert "名義人の死亡" in paypay_notices.text
    assert "登録した口座の数: 0" in aeon_accounts.text
    assert "n-paypay-1" not in aeon_notices.text
    assert "お知らせはありません" in aeon_notices.text
    # AEON cannot register into PayPay's service either.
    refused = _upload(aeon, (HEADER + "paypay,1234567890129991,1111,ヨコドリ タロウ\r\n").encode())
    assert "not_your_service" in refused.text
    assert "登録した口座の数: 1" in staff.client.get("/operator/payment-accounts?lang=ja").text


@pytest.mark.parametrize(
    "content",
    [b"", b"not,the,header\r\n", "\ufeffservice_code\r\n".encode(), b"\xff\xfe\x00bad"],
    ids=["empty", "wrong-header", "short-header", "not-utf8"],
)
def test_a_bad_file_is_refused_without_a_500(console, content):
    staff = console.signed_in_at("/operator", *PAYPAY_STAFF)
    response = _upload(staff, content)
    assert response.status_code == 422
    assert "invalid_request" in response.text
    assert "operator_accounts_uploaded" not in console.actions()


def test_no_file_and_no_csrf_token_are_refused(console):
    staff = console.signed_in_at("/operator", *PAYPAY_STAFF)
    assert (
        staff.client.post("/operator/payment-accounts", data={CSRF_FIELD: staff.csrf()}).status_code
        == 422
    )
    no_token = staff.client.post(
        "/operator/payment-accounts", files={"file": ("a.csv", HEADER.encode(), "text/csv")}
    )
    assert no_token.status_code == 403


def test_the_pages_read_in_english(console):
    staff = console.signed_in_at("/operator", *PAYPAY_STAFF)
    assert heading(staff.client.get("/operator/payment-accounts?lang=en").text) == (
        "Registered accounts"
    )
    assert heading(staff.client.get("/operator/notices?lang=en").text) == "Stopped linkages"
