"""Staff roles, sign-in lifetimes, passwords and the assisted session's step check (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from mynapoint.domain.assist import (
    DEFAULT_IDLE_LIMIT,
    AssistedSession,
    EndReason,
    SessionEnded,
    check_step,
)
from mynapoint.domain.calendar import JST
from mynapoint.domain.staff import (
    STAFF_IDLE_LIMIT,
    STAFF_SESSION_LIFETIME,
    InvalidStaffInput,
    KnownScopes,
    PasswordRejected,
    Role,
    StaffAccount,
    StaffSession,
    check_name,
    check_new_password,
    check_role_and_corner,
)

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
SECOND = timedelta(seconds=1)
KNOWN = KnownScopes({"chuo": "fukuoka", "hakata": "fukuoka"}, {"paypay"})


def make_account(
    name: str = "chuo-staff", role: Role = Role.STAFF, corner: str | None = "chuo", **kwargs
) -> StaffAccount:
    return StaffAccount(name, role, corner, "$argon2id$…", NOW, **kwargs)


def make_session(**kwargs) -> AssistedSession:
    defaults = {
        "session_id": "s1",
        "staff": "chuo-staff",
        "corner": "chuo",
        "card_serial": "1A2B",
        "person": "p1",
        "mykey_id": None,
        "started_at": NOW,
        "last_activity_at": NOW,
    }
    return AssistedSession(**{**defaults, **kwargs})


STAFF = make_account()
OTHER_STAFF = make_account("chuo-ito")
HAKATA_STAFF = make_account("hakata-sato", corner="hakata")
SUPERVISOR = make_account("chuo-boss", Role.SUPERVISOR)
OTHER_SUPERVISOR = make_account("chuo-boss-2", Role.SUPERVISOR)
ADMIN = make_account("root", Role.ADMIN, None)


@pytest.mark.parametrize(
    ("who", "corner", "oversees"),
    [
        (STAFF, "chuo", False),
        (SUPERVISOR, "chuo", True),
        (SUPERVISOR, "hakata", False),
        (ADMIN, "hakata", True),
    ],
)
def test_only_the_corners_supervisor_and_administrators_oversee_its_records(who, corner, oversees):
    assert who.oversees(corner) is oversees


@pytest.mark.parametrize(
    ("who", "other", "may"),
    [
        (SUPERVISOR, STAFF, True),
        (SUPERVISOR, OTHER_SUPERVISOR, True),
        (SUPERVISOR, HAKATA_STAFF, False),
        (ADMIN, HAKATA_STAFF, True),
        (ADMIN, ADMIN, True),
    ],
)
def test_who_may_list_whom(who, other, may):
    assert who.may_list(other, KNOWN) is may


def test_staff_and_supervisors_run_the_counter_and_an_administrator_does_not():
    assert STAFF.runs_counter
    assert SUPERVISOR.runs_counter
    assert not ADMIN.runs_counter


@pytest.mark.parametrize(
    ("role", "corner", "refused"),
    [
        (Role.STAFF, "chuo", False),
        (Role.STAFF, None, True),
        (Role.SUPERVISOR, None, True),
        (Role.ADMIN, None, False),
        (Role.ADMIN, "chuo", True),
    ],
)
def test_staff_and_supervisors_belong_to_a_corner_and_administrators_to_none(role, corner, refused):
    if refused:
        with pytest.raises(InvalidStaffInput):
            check_role_and_corner(role, corner)
    else:
        check_role_and_corner(role, corner)


@pytest.mark.parametrize("name", ["ab", "chuo-tanaka", "a.b_c-9", "x" * 64])
def test_a_sign_in_name_of_lowercase_letters_digits_and_dots_dashes_underscores(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["a", "Tanaka", "tanaka hanako", "-tanaka", "x" * 65, "田中"])
def test_other_sign_in_names_are_refused_with_an_example(name):
    with pytest.raises(InvalidStaffInput, match=r"e\.g\. chuo-tanaka"):
        check_name(name)


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("123456789", "too_short"),
        ("x" * 129, "too_long"),
        ("old-password-1", "unchanged"),
        ("my-CHUO-STAFF-pw", "contains_name"),
    ],
)
def test_a_new_password_is_long_enough_new_and_without_the_name(new, reason):
    with pytest.raises(PasswordRejected) as refused:
        check_new_password("chuo-staff", "old-password-1", new)
    assert refused.value.reason == reason


def test_a_ten_character_new_password_is_accepted():
    check_new_password("chuo-staff", "old-password-1", "0123456789")


@pytest.mark.parametrize(
    ("after", "valid"),
    [
        (STAFF_IDLE_LIMIT - SECOND, True),
        (STAFF_IDLE_LIMIT, False),
    ],
)
def test_a_sign_in_ends_after_half_an_hour_without_a_page(after, valid):
    session = StaffSession("h", "chuo-staff", NOW, NOW, NOW + STAFF_SESSION_LIFETIME)
    assert session.is_valid_at(NOW + after) is valid


def test_a_sign_in_ends_after_a_working_day_however_busy():
    end = NOW + STAFF_SESSION_LIFETIME
    session = StaffSession("h", "chuo-staff", NOW, end - SECOND, end)
    assert session.is_valid_at(end - SECOND)
    assert not session.is_valid_at(end)


# --- the step check of an assisted session ---------------------------------------------------


def test_a_step_of_the_open_session_within_the_idle_limit_goes_ahead():
    session = make_session()
    at = NOW + DEFAULT_IDLE_LIMIT - SECOND
    assert check_step(session, "s1", "chuo-staff", at, DEFAULT_IDLE_LIMIT) is session


@pytest.mark.parametrize(
    ("session", "named", "staff", "at", "reason"),
    [
        (None, "s1", "chuo-staff", NOW, None),
        (make_session(), "s2", "chuo-staff", NOW, None),
        (make_session(), "s1", "chuo-ito", NOW, None),
        (make_session().ended(NOW, EndReason.NEXT_CARD), "s1", "chuo-staff", NOW,
         EndReason.NEXT_CARD),
        (make_session(), "s1", "chuo-staff", NOW + DEFAULT_IDLE_LIMIT, EndReason.INACTIVITY),
    ],
    ids=["unknown", "another session", "another staff member", "ended", "idle"],
)  # fmt: skip
def test_a_step_of_any_other_session_is_refused_with_the_reason(session, named, staff, at, reason):
    with pytest.raises(SessionEnded) as refused:
        check_step(session, named, staff, at, DEFAULT_IDLE_LIMIT)
    assert refused.value.reason is reason


def test_ending_a_session_drops_what_was_shown_for_confirmation():
    from mynapoint.domain.assist import Preview  # noqa: PLC0415
    from mynapoint.domain.measures import Measure  # noqa: PLC0415

    shown = Preview(
        "p1", Measure.PHASE1, "paypay", "1", None, "ヤマダ タ**", with_representative=False, at=NOW
    )
    ended = replace(make_session(), preview=shown).ended(NOW, EndReason.APPLIED)
    assert ended.preview is None
    assert not ended.is_open
