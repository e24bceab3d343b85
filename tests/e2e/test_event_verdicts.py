"""An accepted event that earns nothing says so, and why: the batch response's `events` and the
upload job's `counted` / `not_counted_lines`, one case per reason of the points engine (both
databases). The reasons are the engine's own (domain/points.py), read back as it stored them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from citizen_app import citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.ingest.files import FILE_BATCH

# Late enough that every event below is in the platform's past (after_deadline needs an event
# after phase 2's last day, 2023-09-30); the engine's verdicts do not depend on today.
NOW = datetime(2023, 10, 5, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
HEADER = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"


@dataclass(frozen=True)
class Case:
    """One person's events; `verdicts` is the reason of each (None: it counts), in order."""

    name: str
    events: tuple[tuple[str, str, int, str, str | None], ...]  # id, kind, amount, at, refund_of
    verdicts: tuple[str | None, ...]
    service: str = "paypay"
    applied_at: datetime = APPLIED
    person: dict[str, object] = field(default_factory=dict)


def charge(event_id: str, at: str, amount: int = 4000) -> tuple[str, str, int, str, None]:
    return (event_id, "charge", amount, at, None)


CASES = (
    Case("counted", (charge("c1", "2021-06-01T12:00:00+09:00"),), (None,)),
    Case(
        "before_application",
        (charge("b1", "2021-05-09T12:00:00+09:00"),),
        ("before_application",),
    ),
    Case(
        "before_program_start",
        (charge("p1", "2020-08-31T12:00:00+09:00"),),
        ("before_program_start",),
        applied_at=datetime(2020, 7, 10, 10, 0, tzinfo=JST),
    ),
    Case("after_deadline", (charge("d1", "2023-10-02T12:00:00+09:00"),), ("after_deadline",)),
    Case(
        "not_eligible_card_date",
        # Applied in the original period, when no cut-off applied; from 2021-04-01 the
        # extended period is for cards applied for by 2021-04-30 only (R10).
        (charge("n1", "2021-06-01T12:00:00+09:00"),),
        ("not_eligible_card_date",),
        applied_at=datetime(2021, 3, 20, 10, 0, tzinfo=JST),
        person={"card_applied_on": date(2021, 5, 1)},
    ),
    Case(
        "service_closed",
        # Merpay takes part in phase 1 only: its phase-1 application carries into measure 1
        # in 2022, but Merpay does not (R12: its events then earn nothing).
        (("m1", "purchase", 4000, "2022-02-01T12:00:00+09:00", None),),
        ("service_closed",),
        service="merpay",
        person={"counts": EventKind.PURCHASE},
    ),
    Case(
        "holder_deceased",
        (charge("h1", "2021-06-01T12:00:00+09:00"),),
        ("holder_deceased",),
        person={"died_on": date(2021, 5, 30)},
    ),
    Case(
        "not_counted_kind",
        (("k1", "purchase", 4000, "2021-06-01T12:00:00+09:00", None),),
        ("not_counted_kind",),
    ),
    Case(
        "cap_reached",
        (
            charge("x1", "2021-06-01T12:00:00+09:00", 20_000),
            charge("x2", "2021-06-02T12:00:00+09:00", 1000),
        ),
        (None, "cap_reached"),
    ),
    Case(
        "refund_of_uncounted",
        (
            charge("r1", "2021-05-09T12:00:00+09:00"),
            ("r2", "refund", 1000, "2021-06-01T12:00:00+09:00", "r1"),
        ),
        ("before_application", "refund_of_uncounted"),
    ),
    Case(
        "unknown_original",
        (("u1", "refund", 1000, "2021-06-01T12:00:00+09:00", "never-sent"),),
        ("unknown_original",),
    ),
    Case(
        "a counted refund",
        (
            charge("f1", "2021-06-01T12:00:00+09:00", 8000),
            ("f2", "refund", 2000, "2021-06-02T12:00:00+09:00", "f1"),
        ),
        (None, None),
    ),
)


def test_the_cases_cover_every_reason_of_the_engine() -> None:
    from mynapoint.domain.measures import IgnoreReason  # noqa: PLC0415 - this test only

    covered = {reason for case in CASES for reason in case.verdicts if reason is not None}
    assert covered == {reason.value for reason in IgnoreReason}


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield running


def _accounts(app) -> dict[str, str]:
    """Each case's person, linked with its own account: the payment_service_id by case."""
    accounts = {}
    for case in CASES:
        _, psid = link_person(
            app.platform.unit_of_work(),
            service_code=case.service,
            applied_at=case.applied_at,
            **case.person,  # type: ignore[arg-type]
        )
        accounts[case.name] = psid
    return accounts


def _keys(app) -> dict[str, dict[str, str]]:
    return {
        service: {
            "Authorization": "Bearer "
            + operator_key(app.platform.unit_of_work(), service, app.platform.catalog, NOW)
        }
        for service in ("paypay", "merpay")
    }


def _body(case: Case, psid: str) -> list[dict[str, object]]:
    events = []
    for event_id, kind, amount, at, refund_of in case.events:
        event: dict[str, object] = {
            "event_id": event_id,
            "service_code": case.service,
            "payment_service_id": psid,
            "kind": kind,
            "amount": amount,
            "occurred_at": at,
        }
        if refund_of is not None:
            event["refund_of"] = refund_of
        events.append(event)
    return events


def test_a_batch_says_of_every_accepted_event_whether_it_counts_and_why_not(app) -> None:
    accounts, keys = _accounts(app), _keys(app)
    seen: dict[str, list[dict[str, object]]] = {}
    expected: dict[str, list[dict[str, object]]] = {}
    for case in CASES:
        response = app.client.post(
            "/api/v1/operator/events",
            json={"events": _body(case, accounts[case.name])},
            headers=keys[case.service],
        )
        assert response.status_code == 200, response.text
        assert response.json()["rejected"] == []
        seen[case.name] = response.json()["events"]
        expected[case.name] = [
            {"index": index, "event_id": event[0], "counted": reason is None, "reason": reason}
            for index, (event, reason) in enumerate(zip(case.events, case.verdicts, strict=True))
        ]
    assert seen == expected


def test_duplicates_carry_their_verdict_and_rejected_rows_none(app) -> None:
    accounts, keys = _accounts(app), _keys(app)
    psid = accounts["cap_reached"]
    first = _body(CASES[8], psid)
    assert CASES[8].name == "cap_reached"
    app.client.post("/api/v1/operator/events", json={"events": first}, headers=keys["paypay"])
    unknown = {**first[0], "event_id": "y1", "payment_service_id": "0" * 16}
    response = app.client.post(
        "/api/v1/operator/events",
        json={"events": [first[1], unknown, first[1]]},
        headers=keys["paypay"],
    )
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (0, 2)
    assert [r["index"] for r in body["rejected"]] == [1]
    assert body["events"] == [
        {"index": 0, "event_id": "x2", "counted": False, "reason": "cap_reached"},
        {"index": 2, "event_id": "x2", "counted": False, "reason": "cap_reached"},
    ]


def _file(cases: list[Case], accounts: dict[str, str], extra: str = "") -> bytes:
    lines = [HEADER]
    for case in cases:
        for event_id, kind, amount, at, refund_of in case.events:
            psid = accounts[case.name]
            lines.append(
                f"{event_id},{case.service},{psid},{kind},{amount},{at},{refund_of or ''}\n"
            )
    return ("".join(lines) + extra).encode()


def _upload(app, headers: dict[str, str], content: bytes) -> dict[str, object]:
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=headers,
        files={"file": ("events.csv", content, "text/csv")},
    )
    assert response.status_code == 202, response.text
    job = app.client.get(
        f"/api/v1/operator/events/files/{response.json()['job_id']}", headers=headers
    )
    assert job.status_code == 200, job.text
    body: dict[str, object] = job.json()
    assert body["status"] == "done", body
    return body


def test_an_upload_job_reports_every_line_whose_event_earns_nothing_and_why(app) -> None:
    accounts, keys = _accounts(app), _keys(app)
    paypay = [case for case in CASES if case.service == "paypay"]
    # A line repeated (a duplicate: it has its event's verdict) and a line rejected (none).
    repeated = f"x2,paypay,{accounts['cap_reached']},charge,1000,2021-06-02T12:00:00+09:00,\n"
    unlinked = "z1,paypay,0000000000000000,charge,1000,2021-06-02T12:00:00+09:00,\n"
    job = _upload(app, keys["paypay"], _file(paypay, accounts, repeated + unlinked))

    lines = 1 + sum(len(case.events) for case in paypay)  # the header is line 1
    verdicts = [
        (line, event[0], reason)
        for line, (event, reason) in enumerate(
            ((e, r) for case in paypay for e, r in zip(case.events, case.verdicts, strict=True)),
            start=2,
        )
    ]
    not_counted = [
        {"line": line, "event_id": event_id, "reason": reason}
        for line, event_id, reason in verdicts
        if reason is not None
    ]
    not_counted.append({"line": lines + 1, "event_id": "x2", "reason": "cap_reached"})
    by_reason: dict[str, int] = {}
    for line in not_counted:
        by_reason[str(line["reason"])] = by_reason.get(str(line["reason"]), 0) + 1
    assert (job["accepted"], job["duplicates"], job["rejected"]) == (len(verdicts), 1, 1)
    assert job["counted"] == sum(1 for _, _, reason in verdicts if reason is None)
    assert job["not_counted"] == len(not_counted)
    assert job["not_counted_by_reason"] == dict(sorted(by_reason.items()))
    assert job["not_counted_lines"] == not_counted

    merpay = _upload(app, keys["merpay"], _file([CASES[5]], accounts))
    assert CASES[5].name == "service_closed"
    assert (merpay["counted"], merpay["not_counted"]) == (0, 1)
    assert merpay["not_counted_lines"] == [
        {"line": 2, "event_id": "m1", "reason": "service_closed"}
    ]


def test_a_job_gives_no_verdicts_before_it_is_done(app, monkeypatch) -> None:
    from mynapoint.jobs import uploads  # noqa: PLC0415 - this test only

    accounts, keys = _accounts(app), _keys(app)
    # The job is queued but its runner never starts.
    monkeypatch.setattr(uploads, "run_job", lambda *_args, **_kwargs: None)
    monkeypatch.setattr("mynapoint.web.api.operator_events.run_job", uploads.run_job)
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=keys["paypay"],
        files={"file": ("events.csv", _file([CASES[0]], accounts), "text/csv")},
    )
    job = app.client.get(
        f"/api/v1/operator/events/files/{response.json()['job_id']}", headers=keys["paypay"]
    ).json()
    assert job["status"] == "queued"
    assert (job["counted"], job["not_counted"]) == (None, None)
    assert (job["not_counted_by_reason"], job["not_counted_lines"]) == ({}, [])


def test_a_job_of_many_batches_keeps_every_line_s_verdict(app, monkeypatch) -> None:
    from mynapoint.ingest import files  # noqa: PLC0415 - this test only

    monkeypatch.setattr(files, "FILE_BATCH", 2)
    assert FILE_BATCH > 2
    accounts, keys = _accounts(app), _keys(app)
    job = _upload(app, keys["paypay"], _file([CASES[8], CASES[9], CASES[1]], accounts))
    assert (job["counted"], job["not_counted"]) == (1, 4)
    assert [line["line"] for line in job["not_counted_lines"]] == [3, 4, 5, 6]
