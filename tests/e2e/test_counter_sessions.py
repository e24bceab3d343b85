"""Assisted sessions at the counter through the test client, on SQLite and PostgreSQL: the
binding of every step to one card read, and the audit log of each step (RULES.md §6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mynapoint.db.tables import metadata
from mynapoint.domain.assist import EndReason
from mynapoint.domain.measures import Channel
from mynapoint.domain.staff import Role
from mynapoint.history.writer import load_history
from mynapoint.services.audit import verify
from staff_console import (
    CHILD_ACCOUNT,
    PARENT_ACCOUNT,
    SENIOR_ACCOUNT,
    STAFF,
    SUPERVISOR,
    alert,
    heading,
    preview_id,
    staff_console,
)

ENDED = "この手続きはすでに終了しています。何も申し込まれていません。"


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path) as running:
        yield running


def _applications(console, card):
    facts = console.platform.authority.facts(console.cards[card].serial)
    assert facts is not None
    uow = console.platform.unit_of_work()
    with uow:
        return uow.applications.for_person(facts.person)


def _sessions(console):
    uow = console.platform.unit_of_work()
    with uow:
        return uow.assisted.recent(None, 100)


def test_a_full_assisted_application_commits_ends_the_session_and_records_every_step(console):
    staff = console.signed_in(*STAFF)
    staff.read_card("parent")
    session = staff.session_id()
    page = staff.client.get("/counter").text
    assert "この方はまだマイキーIDを設定していません" in page
    assert "楽天ペイ" in page  # among the services that cannot be applied for at a corner
    staff.set_up_mykey(session)

    shown = staff.preview(session)
    assert heading(shown.text) == "口座名義の確認"
    assert "ヤマダ タ**" in shown.text
    done = staff.apply(session, preview_id(shown.text), "parent")

    assert heading(done.text) == "申込みが完了しました", alert(done.text)
    assert done.headers["cache-control"] == "no-store"
    [application] = _applications(console, "parent")
    assert application.channel is Channel.SUPPORT_CORNER
    assert application.payment_service_id == PARENT_ACCOUNT[0]
    [ended] = _sessions(console)
    assert ended.end_reason is EndReason.APPLIED
    after = staff.client.get("/counter").text
    assert heading(after) == "窓口の手続き"
    assert PARENT_ACCOUNT[0] not in after
    assert ended.mykey_id is not None
    assert ended.mykey_id not in after

    steps = [s.entry for s in console.audit() if s.entry.actor == STAFF[0]]
    assert [e.action for e in steps] == [
        "staff_signed_in", "session_started", "mykey_set_up", "preview", "applied",
        "session_ended",
    ]  # fmt: skip
    assert all(e.corner == "chuo" and e.role == "staff" for e in steps)
    applied = steps[4]
    assert applied.mykey_id == ended.mykey_id
    assert applied.details["application_id"] == application.application_id
    assert applied.details["session"] == ended.session_id
    assert steps[5].details == {"session": ended.session_id, "reason": "applied"}
    assert verify(console.platform.unit_of_work(), console.platform.audit_key_file.verifier()).ok


def test_after_an_abandoned_session_another_citizens_card_commits_nothing_for_the_first(console):
    staff = console.signed_in(*STAFF)
    first = staff.start("parent")
    left_open = staff.preview(first)  # the confirmation stays on the screen, abandoned
    abandoned_preview = preview_id(left_open.text)

    staff.read_card("senior")  # the next citizen; the same terminal
    second = staff.session_id()
    assert second != first
    page = staff.client.get("/counter").text
    assert "ヤマダ" not in page
    assert PARENT_ACCOUNT[0] not in page

    # The old confirmation form, answered with either citizen's card, does nothing.
    for card in ("senior", "parent"):
        refused = staff.apply(first, abandoned_preview, card)
        assert refused.status_code == 409
        assert alert(refused.text).startswith(ENDED)
    # Nor does the old confirmation under the new session's name.
    mixed = staff.apply(second, abandoned_preview, "senior")
    assert mixed.status_code == 409

    assert _applications(console, "parent") == []
    assert _applications(console, "senior") == []
    ended = {s.session_id: s for s in _sessions(console)}
    assert ended[first].end_reason is EndReason.NEXT_CARD
    assert ended[second].is_open
    refusals = [s.entry for s in console.audit() if s.entry.action == "step_refused"]
    assert [r.details["session"] for r in refusals] == [first, first]


def test_a_different_card_at_the_commit_ends_the_session_and_commits_nothing(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    shown = staff.preview(session)

    refused = staff.apply(session, preview_id(shown.text), "senior")

    assert refused.status_code == 409
    assert "この手続きを始めたカードと違います" in alert(refused.text)
    assert _applications(console, "parent") == []
    assert _applications(console, "senior") == []
    [ended] = _sessions(console)
    assert ended.end_reason is EndReason.CARD_MISMATCH
    assert console.actions()[-1] == "session_ended"


def test_the_security_code_is_checked_once_and_never_sent_back_to_the_terminal(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    code = SENIOR_ACCOUNT[1]

    shown = staff.preview(session, SENIOR_ACCOUNT)
    assert "サトウ イ***" in shown.text
    assert 'name="security_code"' not in shown.text
    assert f'value="{code}"' not in shown.text
    # The preview, kept with the session, stands for the code: the commit carries none.
    done = staff.apply(session, preview_id(shown.text), "senior")
    assert heading(done.text) == "申込みが完了しました", alert(done.text)
    [application] = _applications(console, "senior")
    assert application.payment_service_id == SENIOR_ACCOUNT[0]


def test_an_account_the_citizen_locked_after_the_preview_is_not_applied_for(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    shown = staff.preview(session, SENIOR_ACCOUNT)
    # Meanwhile five wrong codes are typed for the same citizen and account at another terminal.
    other = console.signed_in(*SUPERVISOR)
    elsewhere = other.start("senior")
    for _ in range(5):
        other.preview(elsewhere, (SENIOR_ACCOUNT[0], "0000"))

    late = staff.apply(session, preview_id(shown.text), "senior")

    assert late.status_code == 423, alert(late.text)
    assert "約15分後" in alert(late.text)
    assert _applications(console, "senior") == []


def test_another_citizens_wrong_codes_do_not_lock_the_account_for_its_holder(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    shown = staff.preview(session, SENIOR_ACCOUNT)
    other = console.signed_in(*SUPERVISOR)
    elsewhere = other.start("parent")
    for _ in range(6):
        other.preview(elsewhere, (SENIOR_ACCOUNT[0], "0000"))

    done = staff.apply(session, preview_id(shown.text), "senior")

    assert heading(done.text) == "申込みが完了しました", alert(done.text)
    [application] = _applications(console, "senior")
    assert application.payment_service_id == SENIOR_ACCOUNT[0]


def test_a_mistyped_id_shows_another_holders_name_and_the_citizen_says_no(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("parent")
    # The staff member types the senior's ID (and its code) by mistake: another holder's name.
    mistyped = staff.preview(session, SENIOR_ACCOUNT)
    assert "サトウ イ***" in mistyped.text

    rejected = staff.post(
        "/counter/preview/reject", {"session": session, "preview": preview_id(mistyped.text)}
    )
    assert "名義がご本人のものでないため、申し込みませんでした" in rejected.text
    # The rejected confirmation cannot be committed afterwards.
    late = staff.apply(session, preview_id(mistyped.text), "parent")
    assert late.status_code == 409
    assert _applications(console, "parent") == []

    right = staff.preview(session)
    done = staff.apply(session, preview_id(right.text), "parent")
    assert heading(done.text) == "申込みが完了しました"
    [application] = _applications(console, "parent")
    assert application.payment_service_id == PARENT_ACCOUNT[0]
    actions = console.actions()
    assert actions.index("preview_rejected") < actions.index("applied")


@pytest.mark.parametrize(
    ("idle", "still_open"),
    [(timedelta(minutes=2) - timedelta(seconds=1), True), (timedelta(minutes=2), False)],
)
def test_two_minutes_without_a_step_end_the_session_by_the_platform_clock(
    console, idle, still_open
):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    console.clock.advance(idle)

    page = staff.client.get("/counter").text

    assert ("手続き中" in page) is still_open
    if still_open:
        return
    assert "前の方の手続きを終了しました(一定時間操作がなかったため)" in page
    [ended] = _sessions(console)
    assert ended.end_reason is EndReason.INACTIVITY
    refused = staff.preview(session, SENIOR_ACCOUNT)
    assert refused.status_code == 409
    assert alert(refused.text).startswith(ENDED)


def test_a_step_refreshes_the_idle_limit_and_a_late_commit_is_refused(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    console.clock.advance(timedelta(seconds=90))
    shown = staff.preview(session, SENIOR_ACCOUNT)
    console.clock.advance(timedelta(seconds=90))
    assert "手続き中" in staff.client.get("/counter").text  # 90 s since the preview
    console.clock.advance(timedelta(seconds=30))

    late = staff.apply(session, preview_id(shown.text), "senior")

    assert late.status_code == 409
    assert _applications(console, "senior") == []


def test_a_wrong_pin_counts_against_the_card_and_says_how_many_tries_are_left(console):
    staff = console.signed_in(*STAFF)

    wrong = staff.read_card("senior", pin="0000")

    assert wrong.status_code == 401
    assert "暗証番号が違います。あと2回間違えるとカードがロックされます。" in alert(wrong.text)
    failure = console.audit()[-1].entry
    assert failure.action == "card_read_failed"
    assert failure.details == {"code": "wrong_pin", "purpose": "start", "tries_left": 2}
    assert staff.read_card("senior").status_code == 200
    assert "手続き中" in staff.client.get("/counter").text


def test_a_legal_representative_applies_for_a_child_with_their_own_card(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("child")
    assert "法定代理人が手続きする" in staff.client.get("/counter").text
    shown = staff.preview(session, CHILD_ACCOUNT, representative=True)
    assert "法定代理人のカード" in shown.text

    missing = staff.apply(session, preview_id(shown.text), "child")
    assert missing.status_code == 422
    done = staff.apply(session, preview_id(shown.text), "child", representative="parent")

    assert heading(done.text) == "申込みが完了しました", alert(done.text)
    [application] = _applications(console, "child")
    parent = console.platform.authority.facts(console.cards["parent"].serial)
    assert parent is not None
    assert application.representative == parent.person
    applied = next(s.entry for s in console.audit() if s.entry.action == "applied")
    assert applied.details["representative"] is True


def test_staff_see_only_their_own_open_session_and_a_supervisor_sees_the_corners_log(console):
    staff = console.signed_in(*STAFF)
    staff.start("senior")
    supervisor = console.signed_in(*SUPERVISOR)

    assert "サトウ" not in supervisor.client.get("/counter").text
    assert heading(supervisor.client.get("/counter").text) == "窓口の手続き"
    log = supervisor.client.get("/staff/log").text
    [session] = _sessions(console)
    assert session.session_id[:8] in log
    assert session.mykey_id in log
    assert "手続き開始(カード読み取り)" in log
    assert staff.client.get("/staff/log").status_code == 403


def test_the_supervisors_log_ends_sessions_left_idle_at_the_corner(console):
    staff = console.signed_in(*STAFF)
    staff.start("senior")
    supervisor = console.signed_in(*SUPERVISOR)
    console.clock.advance(timedelta(minutes=5))

    log = supervisor.client.get("/staff/log").text

    assert "終了: 一定時間操作がなかったため" in log
    ended = console.audit()[-1].entry
    assert (ended.action, ended.actor, ended.details["reason"]) == (
        "session_ended",
        "platform",
        "inactivity",
    )


def test_signing_out_ends_the_open_session(console):
    staff = console.signed_in(*STAFF)
    staff.start("senior")

    staff.post("/staff/sign-out", {})

    [session] = _sessions(console)
    assert session.end_reason is EndReason.SIGNED_OUT


def test_signing_in_again_on_another_terminal_ends_the_open_session(console):
    first = console.signed_in(*STAFF)
    first.start("senior")

    second = console.signed_in(*STAFF)

    [session] = _sessions(console)
    assert session.end_reason is EndReason.SIGNED_IN_AGAIN
    assert "サトウ" not in second.client.get("/counter").text
    assert "手続き中" not in first.client.get("/counter").text


def test_the_console_speaks_english_and_a_steps_address_leads_back_to_the_counter(console):
    staff = console.signed_in(*STAFF)
    session = staff.start("senior")
    staff.preview(session, SENIOR_ACCOUNT)

    switched = staff.client.get("/counter/preview?lang=en")

    assert switched.url.path == "/counter"
    assert heading(switched.text) == "Counter"
    assert "Without a step by 10:00, this session ends by itself." not in switched.text
    assert "this session ends by itself" in switched.text
    assert "Payment services that cannot be applied for at a support corner" in switched.text


def test_no_staff_password_or_sign_in_token_is_kept_in_the_database(console):
    staff = console.signed_in(*STAFF)
    token = staff.client.cookies["mp_staff"]
    session = staff.start("senior")
    shown = staff.preview(session, SENIOR_ACCOUNT)
    staff.apply(session, preview_id(shown.text), "senior")

    with console.platform.engine.connect() as connection:
        stored = repr(
            [list(map(str, row)) for table in metadata.sorted_tables
             for row in connection.execute(select(table))]
        )  # fmt: skip
    assert STAFF[1] not in stored
    assert token not in stored


def test_the_corner_s_records_list_the_generated_history_s_sessions(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as console:
        load_history(console.platform, 11, 600)
        uow = console.platform.unit_of_work()
        with uow:
            sessions = uow.assisted.recent(None, 1000)
        assert sessions
        corner = sessions[0].corner
        console.add_signed_up("records-admin", "records-admin-2021", Role.ADMIN)
        admin = console.signed_in("records-admin", "records-admin-2021")

        log = admin.client.get("/staff/log", params={"corner": corner}).text

        for session in (s for s in sessions if s.corner == corner):
            assert session.session_id[:8] in log
            assert session.mykey_id in log
        assert f"history-{corner}" in log
        assert "終了: 申込み完了" in log
        # The clerk's account was added, as an administrator adds one, in the corner's log.
        added = [
            (e.entry.corner, e.entry.details["staff"])
            for e in console.audit()
            if e.entry.action == "staff_added"
        ]
        assert (corner, f"history-{corner}") in added
        assert verify(
            console.platform.unit_of_work(), console.platform.audit_key_file.verifier()
        ).ok
