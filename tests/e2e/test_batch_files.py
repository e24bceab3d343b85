"""Event files through the CLI and the upload endpoint; notices; settlement files (both DBs)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citizen_app import citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.cli import app as cli
from mynapoint.domain.calendar import JST
from mynapoint.services.notices import record_death

NOW = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
HEADER = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"


@pytest.fixture
def app(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=NOW) as running:
        yield running


def env(app, tmp_path) -> dict[str, str]:
    return {
        "MYNAPOINT_DATABASE_URL": app.platform.settings.database_url,
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": NOW.isoformat(),
    }


def event_file(tmp_path, psid: str) -> str:
    lines = [
        HEADER,
        f"c1,paypay,{psid},charge,4000,2021-06-01T12:00:00+09:00,\n",
        f"c2,paypay,{psid},charge,8000,2021-07-01T12:00:00+09:00,\n",
        "wrong-date,paypay,{psid},charge,100,2021/06/01,\n".replace("{psid}", psid),
        f"neg,paypay,{psid},charge,-100,2021-06-01T12:00:00+09:00,\n",
        f"other,nosuch,{psid},charge,100,2021-06-01T12:00:00+09:00,\n",
        f"r0,paypay,{psid},refund,100,2021-06-05T12:00:00+09:00,nowhere\n",
        "too,few,fields\n",
        f"r1,paypay,{psid},refund,4000,2021-07-05T12:00:00+09:00,c2\n",
    ]
    path = tmp_path / "events.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_an_event_file_keeps_every_valid_line_and_reports_every_bad_one(app, tmp_path):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    path = event_file(tmp_path, psid)
    result = CliRunner().invoke(
        cli, ["ingest", path, "--operator", "paypay"], env=env(app, tmp_path)
    )
    assert result.exit_code == 1, result.output
    assert "9 lines, 4 accepted, 0 duplicates, 4 rejected" in result.output
    with Path(path + ".rejected.csv").open(encoding="utf-8") as report:
        rows = list(csv.DictReader(report))
    assert [(r["line"], r["field"], r["code"]) for r in rows] == [
        ("4", "occurred_at", "invalid_request"),
        ("5", "amount", "invalid_request"),
        ("6", "service_code", "unknown_service"),
        ("8", "(line)", "invalid_request"),
    ]
    # The refund of an unknown event is accepted and held (it earns nothing until its original).
    again = CliRunner().invoke(
        cli, ["ingest", path, "--operator", "paypay"], env=env(app, tmp_path)
    )
    assert "9 lines, 0 accepted, 4 duplicates, 4 rejected" in again.output
    uow = app.platform.unit_of_work()
    with uow:
        points = sum(g.points for g in uow.grants.for_month("2021-06")) + sum(
            g.points for g in uow.grants.for_month("2021-07")
        )
    assert points == 1000 + 2000 - 1000


def test_a_file_with_the_wrong_header_is_refused_whole(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,service,amount\n1,paypay,100\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--operator", "paypay"], env=env(app, tmp_path)
    )
    assert result.exit_code == 2
    assert "header" in result.output


def test_an_unknown_operator_is_a_usage_error(app, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(HEADER, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["ingest", str(path), "--operator", "nobody"], env=env(app, tmp_path)
    )
    assert result.exit_code == 2
    assert "paypay" in result.output


def test_an_uploaded_json_lines_file_becomes_a_job_with_its_rejected_lines(app):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    headers = {
        "Authorization": "Bearer "
        + operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
    }
    lines = [
        json.dumps(
            {
                "event_id": "j1",
                "service_code": "paypay",
                "payment_service_id": psid,
                "kind": "charge",
                "amount": 4000,
                "occurred_at": "2021-06-01T12:00:00+09:00",
            }
        ),
        "{not json",
        json.dumps(
            {
                "event_id": "j2",
                "service_code": "paypay",
                "payment_service_id": psid,
                "kind": "charge",
                "amount": "lots",
                "occurred_at": "2021-06-01T12:00:00Z",
            }
        ),
    ]
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=headers,
        files={"file": ("events.jsonl", "\n".join(lines).encode(), "application/x-ndjson")},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = app.client.get(f"/api/v1/operator/events/files/{job_id}", headers=headers).json()
    assert job["status"] == "done"
    assert (job["lines"], job["accepted"], job["rejected"]) == (3, 1, 2)
    assert [(r["line"], r["field"]) for r in job["rejected_lines"]] == [
        (2, "(line)"),
        (3, "amount"),
    ]
    other = {
        "Authorization": "Bearer "
        + operator_key(app.platform.unit_of_work(), "aeon_retail", app.platform.catalog, NOW)
    }
    hidden = app.client.get(f"/api/v1/operator/events/files/{job_id}", headers=other)
    assert hidden.status_code == 404


def test_a_death_stops_the_linkage_and_tells_the_operator(app):
    person, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    headers = {
        "Authorization": "Bearer "
        + operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
    }
    told = record_death(
        app.platform.unit_of_work(),
        person,
        date(2021, 7, 1),
        app.platform.rules,
        app.platform.catalog,
        NOW,
    )
    assert told == 1
    notices = app.client.get("/api/v1/operator/notices", headers=headers).json()["notices"]
    assert [(n["payment_service_id"], n["reason"], n["effective_on"]) for n in notices] == [
        (psid, "holder_deceased", "2021-07-01")
    ]


def test_settle_closes_a_month_and_writes_json_and_csv_statements(app, tmp_path):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    path = tmp_path / "june.csv"
    path.write_text(
        HEADER + f"s1,paypay,{psid},charge,8000,2021-06-01T12:00:00+09:00,\n", encoding="utf-8"
    )
    CliRunner().invoke(cli, ["ingest", str(path), "--operator", "paypay"], env=env(app, tmp_path))
    first = CliRunner().invoke(cli, ["settle", "--month", "2021-06"], env=env(app, tmp_path))
    assert first.exit_code == 0, first.output
    statement = json.loads((tmp_path / "settlements/2021-06/paypay.json").read_text())
    assert statement["status"] == "closed"
    assert statement["services"][0]["reimbursement_yen"] == 2000
    again = CliRunner().invoke(cli, ["settle", "--month", "2021-06"], env=env(app, tmp_path))
    # The same statements (stderr's first line tells the time, which moved on).
    assert again.stdout == first.stdout
    too_early = CliRunner().invoke(cli, ["settle", "--month", "2021-08"], env=env(app, tmp_path))
    assert too_early.exit_code == 1
    assert "not over" in too_early.output
