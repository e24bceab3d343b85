"""The counter's forms through the test client, on SQLite and PostgreSQL: what a refusal says,
which field it marks, what a clerk may type, and what the terminal offers next (issue 12 §3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mynapoint.domain.assist import EndReason
from mynapoint.domain.staff import Role
from staff_console import (
    CHILD_ACCOUNT,
    STAFF,
    SUPERVISOR,
    alert,
    heading,
    preview_id,
    staff_console,
)

LATE_ACCOUNT = ("2345678901234567", "2345")


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path) as running:
        yield running


def test_a_missing_pick_of_what_counts_is_said_as_such_at_the_counter_and_in_the_log(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    refused = staff.preview(session, counts="")  # PayPay lets the citizen pick: none was

    assert refused.status_code == 422
    said = alert(refused.text)
    assert "件数" not in said
    assert "チャージかお買い物" in said
    supervisor = console.signed_in(*SUPERVISOR)
    log = supervisor.client.get("/staff/log").text
    assert "件数が正しくありません" not in log
    assert "ポイントの対象(チャージかお買い物か)" in log
    english = supervisor.client.get("/staff/log?lang=en").text
    assert "The counts are not right" not in english
    assert "charges or purchases" in english
    assert heading(refused.text) == "窓口の手続き"


# --- what a clerk types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payment_service_id", "security_code"),
    [
        ("１２３４５６７８９０１２３４５６", "１２３４"),  # full-width, as an input method gives
        ("1234 5678 9012 3456", "1234"),  # in groups, as the app shows it
        ("1234-5678-9012-3456", "12 34"),
        ("１２３４\u3000５６７８\u3000９０１２\u3000３４５６", "１２３４"),  # 全角スペース
    ],
)
def test_an_id_typed_full_width_or_in_groups_reaches_the_holders_name(
    console, payment_service_id, security_code
):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    shown = staff.preview(session, (payment_service_id, security_code))

    assert shown.status_code == 200, alert(shown.text)
    assert heading(shown.text) == "口座名義の確認"
    assert "ヤマダ タ**" in shown.text
    assert "<code>1234567890123456</code>" in shown.text


def test_a_pin_typed_full_width_reads_the_card(console):
    staff = console.signed_in(*STAFF)

    read = staff.read_card("parent", pin="１２３４")

    assert read.status_code == 200, alert(read.text)
    assert "手続き中" in read.text


# --- every refusal marks its field -------------------------------------------------------------

_INVALID = re.compile(r'<(?:input|select|fieldset)\b[^>]*\bid="([^"]+)"[^>]*\baria-invalid="true"')


def marked(html: str) -> dict[str, str]:
    """The fields a page marks as wrong, each with the sentence written next to it."""
    found = {}
    for field in _INVALID.findall(html):
        sentence = re.search(
            rf'<p class="field-error" id="{re.escape(field)}-error">(.*?)</p>', html
        )
        assert sentence is not None, f"{field} is marked without a sentence next to it"
        assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field)}-error"', html)
        assert f'href="#{field}"' in html  # the summary leads to it
        found[field] = re.sub(r"<[^>]+>", "", sentence[1])
    return found


def test_an_id_in_the_wrong_shape_marks_the_id_and_says_the_shape(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    refused = staff.preview(session, ("12345", "1234"))

    assert refused.status_code == 422
    assert list(marked(refused.text)) == ["payment_service_id"]
    assert "16桁の数字" in marked(refused.text)["payment_service_id"]
    assert "赤字の項目" not in refused.text


def test_a_wrong_security_code_marks_the_code(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    refused = staff.preview(session, ("1234567890123456", "9999"))

    assert refused.status_code == 422
    assert list(marked(refused.text)) == ["security_code"]


def test_a_missing_pick_marks_the_pick(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    assert list(marked(staff.preview(session, counts="").text)) == ["counts"]


@pytest.mark.parametrize(("pin", "field"), [("12", "pin"), ("9999", "pin")])
def test_a_card_read_refused_at_the_start_marks_the_pin(console, pin, field):
    staff = console.signed_in(*STAFF)

    refused = staff.read_card("parent", pin=pin)

    assert list(marked(refused.text)) == [field]


def test_a_file_that_is_not_a_card_marks_the_card(console):
    staff = console.signed_in(*STAFF)
    files = {"card": ("notes.json", b'{"format": "something else"}', "application/json")}

    refused = staff.post("/counter/card", {"pin": "1234"}, files=files)

    assert list(marked(refused.text)) == ["card"]


def test_the_confirmation_marks_the_box_left_unticked_and_a_wrong_pin(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    shown = staff.preview(session)
    preview = preview_id(shown.text)

    unticked = staff.post(
        "/counter/apply",
        {"session": session, "preview": preview, "pin": "1234"},
        files=staff.card_file("parent"),
    )
    assert list(marked(unticked.text)) == ["confirmed"]

    wrong = staff.apply(session, preview, "parent", pin="9999")
    assert list(marked(wrong.text)) == ["pin"]
    assert "あと" in marked(wrong.text)["pin"]


# --- after a refusal, the offer to end the session ---------------------------------------------

_SUMMARY = re.compile(r'class="error-summary"(.*?)</div>', re.DOTALL)


def offers_end(html: str) -> bool:
    """The refusal's summary holds the button that ends the session."""
    summary = _SUMMARY.search(html)
    return summary is not None and 'action="/counter/end"' in summary[1]


def test_a_refusal_no_typing_mends_offers_to_end_the_session_there(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("late")  # card applied for after the 2021-04-30 cut-off
    shown = staff.preview(session, LATE_ACCOUNT)

    refused = staff.apply(session, preview_id(shown.text), "late")

    assert refused.status_code == 403, alert(refused.text)
    assert "2021年4月30日(金)までにマイナンバーカードを申請した方が対象です" in alert(refused.text)
    assert offers_end(refused.text), "the refusal does not offer to end the session"
    ended = staff.post("/counter/end", {"session": session})
    assert "職員が終了" in ended.text
    assert [s.end_reason for s in _sessions(console)] == [EndReason.ENDED_BY_STAFF]


def test_a_typing_mistake_offers_no_end(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")

    refused = staff.preview(session, ("1234567890123456", "9999"))

    assert not offers_end(refused.text)


def _sessions(console):
    uow = console.platform.unit_of_work()
    with uow:
        return uow.assisted.recent(None, 100)


def test_the_representatives_card_and_pin_are_marked_as_theirs(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("child")
    shown = staff.preview(session, CHILD_ACCOUNT, representative=True)
    preview = preview_id(shown.text)

    missing = staff.apply(session, preview, "child")
    assert list(marked(missing.text)) == ["representative_card"]

    data = {"session": session, "preview": preview, "confirmed": "1", "pin": "3456"}
    files = staff.card_file("child") | staff.card_file("parent", "representative_card")
    wrong = staff.post("/counter/apply", data | {"representative_pin": "9999"}, files=files)
    assert list(marked(wrong.text)) == ["representative_pin"]


# --- the staff member's own forms --------------------------------------------------------------


def test_a_sign_in_name_typed_full_width_signs_in_and_a_wrong_password_is_marked(console):
    terminal = console.terminal()

    wrong = terminal.sign_in("chuo-staff", "not-the-password")
    assert wrong.status_code == 401
    assert list(marked(wrong.text)) == ["password"]

    signed = terminal.sign_in("ｃｈｕｏ－ｓｔａｆｆ", STAFF[1])
    assert signed.status_code == 200, alert(signed.text)
    assert heading(signed.text) == "窓口の手続き"


@pytest.mark.parametrize(
    ("new", "new_again", "field"),
    [("short", "short", "new"), ("a-long-password", "another-password", "new_again")],
)
def test_a_refused_password_change_marks_its_field(console, new, new_again, field):
    password = console.add("chuo-new", Role.STAFF, "chuo")
    terminal = console.terminal()
    terminal.sign_in("chuo-new", password)

    refused = terminal.post(
        "/staff/password", {"current": password, "new": new, "new_again": new_again}
    )

    assert refused.status_code == 422
    assert list(marked(refused.text)) == [field]


# --- typing is activity: the idle end moves --------------------------------------------------


def _activity(terminal, session: str, *, csrf: bool = True):
    headers = {"X-CSRF-Token": terminal.csrf()} if csrf else {}
    return terminal.client.post("/counter/activity", data={"session": session}, headers=headers)


def test_typing_in_the_form_moves_the_idle_end_and_the_form_goes_through(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    console.clock.advance(timedelta(seconds=90))

    kept = _activity(staff, session)  # what the page sends while the clerk types

    assert kept.status_code == 200
    assert kept.json() == {
        "open": True,
        "seconds_left": 120,
        "text": "10:03 まで操作がないと、この手続きは自動的に終了します。",
    }
    assert kept.headers["cache-control"] == "no-store"
    console.clock.advance(timedelta(seconds=60))  # 2.5 minutes after the card was read
    shown = staff.preview(session)
    assert heading(shown.text) == "口座名義の確認", alert(shown.text)


def test_activity_for_a_session_gone_idle_ends_it_and_says_so(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    console.clock.advance(timedelta(minutes=2))

    answer = _activity(staff, session).json()
    assert answer["open"] is False
    assert answer["text"].startswith("この手続きはすでに終了しています")
    [ended] = _sessions(console)
    assert ended.end_reason is EndReason.INACTIVITY
    assert console.actions()[-1] == "session_ended"


def test_activity_for_another_session_or_without_the_csrf_token_moves_nothing(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    before = _sessions(console)[0].last_activity_at
    console.clock.advance(timedelta(seconds=30))

    assert _activity(staff, "0" * 32).json()["open"] is False
    assert _activity(staff, session, csrf=False).status_code == 403
    assert _sessions(console)[0].last_activity_at == before
    other = console.signed_in(*SUPERVISOR)  # another clerk's terminal
    assert _activity(other, session).json()["open"] is False
    assert _sessions(console)[0].last_activity_at == before
