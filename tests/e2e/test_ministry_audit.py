"""/ministry/audit through the app: the log newest first, filtered by action, actor and JST
days, 50 a page; the chain verified from the page against the stored head or a head given,
and a rewritten entry found. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from audit_tamper import tamper
from mynapoint.db.tables import audit_log
from mynapoint.services.audit import publish_head, record
from staff_console import Console, Terminal, staff_console

AUDITOR = ("mic-auditor", "kansa-2021")
# 2021-07-19 23:30 JST + n hours: entries over three JST days.
FIRST = datetime(2021, 7, 19, 14, 30, tzinfo=UTC)


def _sign_in(console: Console, name: str, password: str) -> Terminal:
    terminal = console.terminal()
    response = terminal.post("/ministry/sign-in", {"name": name, "password": password})
    assert response.status_code == 200, response.text
    return terminal


@pytest.fixture
def logged(database_url: str, tmp_path) -> Iterator[tuple[Console, Terminal]]:
    with staff_console(database_url, tmp_path, with_cards=False) as console:
        uow = console.platform.unit_of_work()
        with uow:
            for number in range(60):
                record(
                    uow,
                    now=FIRST + timedelta(hours=number),
                    actor="sato" if number % 3 == 0 else "tanaka",
                    role="staff",
                    corner="chuo",
                    action="linkage_committed" if number % 2 else "card_read",
                    details={"number": number},
                )
            uow.commit()
        yield console, _sign_in(console, *AUDITOR)


def _seqs(html: str) -> list[int]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [int(seq) for seq in re.findall(r'<th scope="row">(\d+)</th>', body)]


def _count(console: Console) -> int:
    return len(console.audit())


def test_the_log_is_listed_newest_first_in_pages_and_filtered(logged) -> None:
    console, auditor = logged
    total = _count(console)
    response = auditor.client.get("/ministry/audit")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    first = _seqs(response.text)
    assert first == list(range(total, total - 50, -1))
    assert f"{total}件中 1〜50件目" in response.text
    assert 'href="/ministry/audit?page=2"' in response.text
    second = _seqs(auditor.client.get("/ministry/audit?page=2").text)
    assert second == list(range(total - 50, 0, -1))
    # past the last page: the last page
    assert _seqs(auditor.client.get("/ministry/audit?page=99").text) == second

    mine = {s.seq for s in console.audit() if s.entry.actor == "sato"}
    assert set(_seqs(auditor.client.get("/ministry/audit?actor=sato").text)) == mine
    cards = {s.seq for s in console.audit() if s.entry.action == "card_read"}
    html = auditor.client.get("/ministry/audit?action=card_read").text
    assert set(_seqs(html)) == cards
    assert '<option value="card_read" selected>' in html
    # JST days: 07-20 holds the entries from 2021-07-19 15:00 UTC to 07-20 15:00 UTC
    day = {
        s.seq
        for s in console.audit()
        if datetime(2021, 7, 19, 15, tzinfo=UTC)
        <= s.entry.at
        < datetime(2021, 7, 20, 15, tzinfo=UTC)
    }
    assert len(day) == 24
    both = auditor.client.get("/ministry/audit?from=2021-07-20&to=2021-07-20&actor=sato").text
    assert set(_seqs(both)) == {seq for seq in day if seq in mine}

    for bad in ("?from=2021-07-21&to=2021-07-20", "?from=yesterday"):
        refused = auditor.client.get("/ministry/audit" + bad)
        assert refused.status_code == 422
        assert "invalid_date_range" in refused.text
    assert auditor.client.get("/ministry/audit?page=0").status_code == 422
    english = auditor.client.get("/ministry/audit?lang=en").text
    assert "<h1>Audit log</h1>" in english


def test_the_chain_is_verified_from_the_page(logged) -> None:
    console, auditor = logged
    platform = console.platform
    head = publish_head(platform.unit_of_work(), platform.clock.now(), platform.audit_key())

    stored = auditor.post("/ministry/audit/verify", {"head": ""})
    assert stored.status_code == 200
    assert "検証に成功しました" in stored.text
    assert str(head.head) in stored.text
    assert "署名は本物です" in stored.text

    given = auditor.post("/ministry/audit/verify", {"head": f"{head.head.count}:{head.head.hash}"})
    assert "検証に成功しました" in given.text
    wrong = f"{head.head.count}:{'0' * 64}"
    refused = auditor.post("/ministry/audit/verify", {"head": wrong})
    assert "検証に失敗しました" in refused.text
    assert "audit_chain_broken" in refused.text

    bad = auditor.post("/ministry/audit/verify", {"head": "not a head"})
    assert bad.status_code == 422
    assert "invalid_head" in bad.text

    tamper(platform.engine, update(audit_log).where(audit_log.c.seq == 5).values(actor="someone"))
    tampered = auditor.post("/ministry/audit/verify", {"head": ""})
    assert "検証に失敗しました" in tampered.text
    assert 'role="alert"' in tampered.text

    no_token = auditor.client.post("/ministry/audit/verify", data={"head": ""})
    assert no_token.status_code == 403
