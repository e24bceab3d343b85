"""Bad bytes, bad rows and look-alike text in event batches and files (issue 11, both DBs).

One undecodable byte, one badly quoted line, an instant of year 1, a NUL, a right-to-left
override, a full-width or superscript digit: each is one rejected row with its code and its
true line number, and every good row around it is kept, through the JSON API, the CLI and
the upload job alike.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from citizen_app import citizen_app
from ledger_setup import link_person, operator_key
from mynapoint.cli import app as cli
from mynapoint.domain.calendar import JST

NOW = datetime(2021, 8, 2, 10, 0, tzinfo=JST)
APPLIED = datetime(2021, 5, 10, 10, 0, tzinfo=JST)
HEADER = b"event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"
AT = "2021-06-01T12:00:00+09:00"


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


def headers(app) -> dict[str, str]:
    key = operator_key(app.platform.unit_of_work(), "paypay", app.platform.catalog, NOW)
    return {"Authorization": f"Bearer {key}"}


def event(name: str, psid: str, **changes: object) -> dict[str, object]:
    return {
        "event_id": name,
        "service_code": "paypay",
        "payment_service_id": psid,
        "kind": "charge",
        "amount": 1000,
        "occurred_at": AT,
        **changes,
    }


def csv_line(event_id: str, psid: str, amount: str = "1000") -> bytes:
    return f"{event_id},paypay,{psid},charge,{amount},{AT},\n".encode()


def ingest(app, tmp_path, path: Path):
    return CliRunner().invoke(
        cli, ["ingest", str(path), "--operator", "paypay"], env=env(app, tmp_path)
    )


def report_rows(path: Path) -> list[tuple[str, str, str]]:
    with Path(f"{path}.rejected.csv").open(encoding="utf-8") as report:
        return [(r["line"], r["field"], r["code"]) for r in csv.DictReader(report)]


def test_an_undecodable_byte_rejects_its_line_only_and_the_rest_of_the_file_is_read(app, tmp_path):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    lines = [HEADER]
    lines += [csv_line(f"a{n}", psid) for n in range(2, 7_002)]
    # Line 6,001 carries a 0xFF byte: the lines after it, in this batch and the next, count.
    lines[6_000] = b"bad\xff," + lines[6_000]
    # Line 6,500 opens a quote it never closes: it alone is rejected.
    lines[6_499] = b'"open,' + lines[6_499]
    path = tmp_path / "events.csv"
    path.write_bytes(b"".join(lines))
    result = ingest(app, tmp_path, path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "7001 lines, 6998 accepted, 0 duplicates, 2 rejected" in result.output
    assert report_rows(path) == [
        ("6001", "(line)", "invalid_request"),
        ("6500", "(line)", "invalid_request"),
    ]
    with Path(f"{path}.rejected.csv").open(encoding="utf-8") as report:
        messages = [row["message"] for row in csv.DictReader(report)]
    assert "not UTF-8" in messages[0]
    assert "0xFF" in messages[0]
    assert "quote" in messages[1]


def test_an_uploaded_json_lines_file_with_a_bad_byte_is_read_to_its_end(app):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    lines = [json.dumps(event(f"j{n}", psid)).encode() for n in range(1, 9)]
    lines[2] = b'{"event_id": "j3\xc3\x28"}'  # an invalid UTF-8 sequence on line 3
    lines[5] = b'{"event_id": "j6", "amount": ' + b"9" * 5000 + b"}"  # too big for json
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=headers(app),
        files={"file": ("events.jsonl", b"\r\n".join(lines), "application/x-ndjson")},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = app.client.get(f"/api/v1/operator/events/files/{job_id}", headers=headers(app)).json()
    assert job["status"] == "done"
    assert (job["lines"], job["accepted"], job["rejected"]) == (8, 6, 2)
    assert [line["line"] for line in job["rejected_lines"]] == [3, 6]
    assert job["reason"] is None


def test_a_file_whose_header_cannot_be_read_fails_with_the_reason(app, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"\xe9vent_id" + HEADER[8:] + b"x,paypay,1,charge,1,2021-06-01T12:00:00Z,\n")
    result = ingest(app, tmp_path, path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "line 1" in result.output
    response = app.client.post(
        "/api/v1/operator/events/files",
        headers=headers(app),
        files={"file": ("latin1.csv", path.read_bytes(), "text/csv")},
    )
    job_id = response.json()["job_id"]
    job = app.client.get(f"/api/v1/operator/events/files/{job_id}", headers=headers(app)).json()
    assert job["status"] == "failed"
    assert "not UTF-8" in job["reason"]
    assert job["accepted"] == 0


BAD_ROWS = [
    ({"occurred_at": "0001-01-01T00:00:00+09:00"}, "occurred_at", "instant_out_of_range"),
    ({"occurred_at": "9999-12-31T23:00:00-05:00"}, "occurred_at", "instant_out_of_range"),
    ({"occurred_at": "1999-12-31T14:59:59Z"}, "occurred_at", "instant_out_of_range"),
    ({"event_id": "e\x00nul"}, "event_id", "invalid_text"),
    ({"event_id": "   "}, "event_id", "invalid_text"),
    ({"event_id": "e\u202eevil"}, "event_id", "invalid_text"),
    ({"event_id": "e\u200b1"}, "event_id", "invalid_text"),
    ({"event_id": "\ud800"}, "event_id", "invalid_text"),
    ({"event_id": " e1"}, "event_id", "invalid_text"),
    ({"event_id": "ｅ１"}, "event_id", "invalid_text"),
    ({"service_code": "pay\x00pay"}, "service_code", "invalid_text"),
    ({"payment_service_id": "12\x0034"}, "payment_service_id", "invalid_text"),
    ({"kind": "refund", "refund_of": "g\x001"}, "refund_of", "invalid_text"),
    ({"amount": "8000"}, "amount", "invalid_request"),
]


@pytest.mark.parametrize(("changes", "field", "code"), BAD_ROWS)
def test_a_bad_row_between_good_ones_is_rejected_alone(app, changes, field, code):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    events = [event("g1", psid), event("bad", psid, **changes), event("g2", psid)]
    response = app.client.post(
        "/api/v1/operator/events",
        # Escaped JSON (ensure_ascii), so that a lone surrogate can be sent as \ud800.
        headers={**headers(app), "Content-Type": "application/json"},
        content=json.dumps({"events": events}).encode(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"], r["code"]) for r in body["rejected"]] == [(1, field, code)]
    # The event_id is shown as sent when it is printable text, else not at all.
    shown = body["rejected"][0]["event_id"]
    assert shown == changes.get("event_id", "bad") or shown is None
    assert shown is None or "\x00" not in shown


@pytest.mark.parametrize("amount", ["８０００", "²", "8000.0", " 8000", "+8000", "1e3"])
def test_a_csv_amount_is_ascii_digits_with_the_same_message_as_json(app, tmp_path, amount):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    path = tmp_path / "amounts.csv"
    path.write_bytes(
        HEADER + csv_line("g1", psid) + csv_line("odd", psid, amount) + csv_line("g2", psid)
    )
    result = ingest(app, tmp_path, path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "4 lines, 2 accepted, 0 duplicates, 1 rejected" in result.output
    with Path(f"{path}.rejected.csv").open(encoding="utf-8") as report:
        (row,) = csv.DictReader(report)
    assert (row["line"], row["field"], row["code"]) == ("3", "amount", "invalid_request")
    api = app.client.post(
        "/api/v1/operator/events",
        headers=headers(app),
        json={"events": [event("j1", psid, amount=amount)]},
    ).json()
    assert api["rejected"][0]["message"] == row["message"]


def test_bad_identifiers_and_instants_in_a_file_are_rejected_with_their_codes(app, tmp_path):
    _, psid = link_person(app.platform.unit_of_work(), applied_at=APPLIED)
    lines = [
        HEADER,
        csv_line("g1", psid),
        f"y1,paypay,{psid},charge,1000,0001-01-01T00:00:00+09:00,\n".encode(),
        f"n\x00ul,paypay,{psid},charge,1000,{AT},\n".encode(),
        f"\u202eevil,paypay,{psid},charge,1000,{AT},\n".encode(),
        f"r1,paypay,{psid},refund,1000,{AT},g\x001\n".encode(),
        csv_line("g2", psid),
    ]
    path = tmp_path / "odd.csv"
    path.write_bytes(b"".join(lines))
    result = ingest(app, tmp_path, path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "7 lines, 2 accepted, 0 duplicates, 4 rejected" in result.output
    assert report_rows(path) == [
        ("3", "occurred_at", "instant_out_of_range"),
        ("4", "event_id", "invalid_text"),
        ("5", "event_id", "invalid_text"),
        ("6", "refund_of", "invalid_text"),
    ]
