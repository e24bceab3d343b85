"""The counter's forms through the test client, on SQLite and PostgreSQL: what a refusal says,
which field it marks, what a clerk may type, and what the terminal offers next (issue 12 §3)."""

from __future__ import annotations

import pytest

from staff_console import (
    STAFF,
    SUPERVISOR,
    alert,
    heading,
    staff_console,
)


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
