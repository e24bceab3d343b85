"""/ministry/policy through the app on a generated history (SQLite and PostgreSQL): the policy
staff start a replay of a packaged candidate, follow it to done, and the numbers on the page,
its JSON and its CSV are the service's replay_document; a bad form is re-shown with its
reason (422), an unknown replay is not found (404)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import delete, select

from mynapoint.db.tables import grant_lines
from mynapoint.domain.calendar import JST
from mynapoint.domain.rule_changes import change_document
from mynapoint.domain.rules_diff import rules_diff
from mynapoint.history.writer import load_history
from mynapoint.jobs.replays import run_replay
from mynapoint.rules.candidates import packaged_candidate
from mynapoint.services.policy_replay import ReplayRules, replay, replay_document
from mynapoint.services.policy_runs import ReplayRequest, start
from staff_console import Console, Terminal, staff_console

NOW = datetime(2023, 10, 15, 10, 0, tzinfo=JST)
ANALYST = ("mic-policy", "seisaku-2021")
_ID = re.compile(r"/ministry/policy/replays/([0-9a-f]{24})$")


@dataclass
class Lab:
    console: Console
    analyst: Terminal

    def started(self, form: dict[str, str], files: dict[str, Any] | None = None) -> str:
        response = self.analyst.post(
            "/ministry/policy", form, files=files or {}, follow_redirects=False
        )
        assert response.status_code == 303, response.text[:2000]
        found = _ID.search(response.headers["location"])
        assert found is not None
        replay_id = found.group(1)
        platform = self.console.platform
        if not platform.settings.runs_jobs_inprocess:  # PostgreSQL: queued for the workers
            run_replay(platform, replay_id)
        return replay_id


@pytest.fixture
def lab(database_url: str, tmp_path) -> Iterator[Lab]:
    with staff_console(database_url, tmp_path, NOW, with_cards=False) as console:
        load_history(console.platform, 13, 90)
        terminal = console.terminal()
        response = terminal.post(
            "/ministry/sign-in", dict(zip(("name", "password"), ANALYST, strict=True))
        )
        assert response.status_code == 200, response.text
        yield Lab(console, terminal)


def _expected(lab: Lab, sample: float | None = None) -> dict[str, Any]:
    platform = lab.console.platform
    candidate = packaged_candidate("rate-20")
    rules = ReplayRules(platform.rules, candidate.rules, platform.catalog, None, NOW.date())
    fraction = 1.0 if sample is None else sample / 100
    tally = replay(platform.new_reader(), rules, fraction)
    return replay_document(tally, fraction, candidate.name, None, NOW.date())


def _cells(html: str, table_id: str) -> list[list[str]]:
    section = html.split(f'id="{table_id}"', 1)[1]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(
        r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)] for row in rows]  # fmt: skip


def test_a_replay_started_on_the_page_shows_the_services_numbers(lab: Lab) -> None:
    replay_id = lab.started({"candidate": "rate-20", "as_of": "", "sample": ""})

    page = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}?lang=ja")

    assert page.status_code == 200
    html = page.text
    assert 'http-equiv="refresh"' not in html  # done: no more refreshing
    expected = _expected(lab)
    e = expected["estimates"]
    totals = _cells(html, "totals")
    points = totals[0]
    assert points[1:] == [
        f"{e['actual_points']['value']:,}",
        f"{e['candidate_points']['value']:,}",
        f"{e['difference']['value']:+,}",
    ]
    assert e["difference"]["value"] < 0  # 20 % gives less than 25 %
    assert totals[1][1:3] == [
        f"{e['actual_reached']['value']:,}",
        f"{e['candidate_reached']['value']:,}",
    ]
    assert f"{expected['persons_judged']:,} 人" in html
    assert expected["mismatched"] == 0
    assert "不一致 0 人" in html
    # The distribution of points per person: a chart with its table, row for row.
    assert 'id="replay-points"' in html
    assert '<svg class="chart" role="img"' in html
    rows = _cells(html, "replay-points")
    assert [row[1:3] for row in rows] == [
        [f"{r['actual_persons']:,}", f"{r['candidate_persons']:,}"]
        for r in expected["breakdowns"]["points"]
    ]
    for slug in ("replay-measure", "replay-service", "replay-age", "replay-ward"):
        assert f'id="{slug}"' in html
    # The rules diff beside it, and the candidate's text folded.
    diff = html.split('id="rules-diff"', 1)[1].split("</section>", 1)[0]
    assert "マイナポイント第1弾: 還元率 25% → 20%" in diff
    assert "マイナポイント第2弾 施策1: 還元率 25% → 20%" in diff
    english = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}?lang=en").text
    assert "Mynapoint phase 1: rate 25 % → 20 %" in english
    assert "<details>" in html.split('class="rules-text"', 1)[1]

    document = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}.json")
    assert document.status_code == 200
    changes = rules_diff(lab.console.platform.rules, packaged_candidate("rate-20").rules)
    assert len(changes) == 2
    assert document.json() == expected | {"changes": [change_document(c) for c in changes]}

    sheet = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}.csv")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "text/csv; charset=utf-8"
    lines = list(csv.DictReader(io.StringIO(sheet.text)))
    for dimension, rows in expected["breakdowns"].items():
        got = [line for line in lines if line["breakdown"] == dimension]
        assert [(g["key"], int(g["actual_points"]), int(g["candidate_points"])) for g in got] == [
            (r["key"], r["actual_points"], r["candidate_points"]) for r in rows
        ]
    uow = lab.console.platform.unit_of_work()
    with uow:
        entry = uow.audit.entries()[-1]
    assert (entry.entry.action, entry.entry.actor, entry.entry.role) == (
        "policy_replay_started",
        "mic-policy",
        "policy_analyst",
    )
    assert entry.entry.details == {
        "replay_id": replay_id,
        "rules": "rate-20.yaml",
        "as_of": None,
        "sample_percent": None,
    }
    home = lab.analyst.client.get("/ministry/policy?lang=ja")
    assert f"/ministry/policy/replays/{replay_id}" in home.text
    assert "完了" in home.text


def test_a_sampled_replay_shows_its_margins(lab: Lab) -> None:
    replay_id = lab.started({"candidate": "rate-20", "sample": "50"})

    html = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}?lang=ja").text

    e = _expected(lab, 50.0)["estimates"]
    assert e["candidate_points"]["margin"] > 0
    assert f"{e['candidate_points']['value']:,} ± {e['candidate_points']['margin']:,}" in html
    assert "95%" in html


def test_an_uploaded_candidate_runs_and_a_bad_one_is_re_shown_with_its_reason(lab: Lab) -> None:
    text = "extends: in-force\nprogram:\n  cap_groups:\n    spending: 4000\n"
    good = {"file": ("cap.yaml", text.encode(), "application/yaml")}
    replay_id = lab.started({"candidate": "upload"}, good)
    page = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}?lang=ja").text
    assert "cap.yaml" in page
    assert "spending: 4000" in page

    bad = {"file": ("bad.yaml", b"extends: in-force\nmeasures: 3\n", "application/yaml")}
    response = lab.analyst.post("/ministry/policy?lang=ja", {"candidate": "upload"}, files=bad)
    assert response.status_code == 422
    assert "invalid_rules" in response.text
    assert "bad.yaml" in response.text  # the loader's message names the file
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(
    ("form", "field", "code"),
    [
        ({"candidate": "upload"}, "file", "invalid_request"),
        ({"candidate": "../etc/passwd"}, "candidate", "invalid_request"),
        ({"candidate": "rate-20", "as_of": "2021-13-01"}, "as_of", "invalid_request"),
        ({"candidate": "rate-20", "sample": "0"}, "sample", "invalid_request"),
        ({"candidate": "rate-20", "sample": "ten"}, "sample", "invalid_request"),
    ],
)
def test_a_bad_form_is_re_shown_with_422(
    lab: Lab, form: dict[str, str], field: str, code: str
) -> None:
    response = lab.analyst.post("/ministry/policy?lang=ja", form)

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert code in response.text


def test_a_rules_file_above_256_kib_is_refused(lab: Lab) -> None:
    big = {"file": ("big.yaml", b"#" * (256 * 1024 + 1), "application/yaml")}
    response = lab.analyst.post("/ministry/policy?lang=ja", {"candidate": "upload"}, files=big)

    assert response.status_code == 422
    assert "request_too_large" in response.text


def test_a_rules_file_whose_aliases_nest_is_re_shown_with_its_reason(lab: Lab) -> None:
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for before, name in pairwise("abcdefghi"):
        levels.append(f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    text = "\n".join(["extends: in-force", *levels, "measures:", "  phase1:", "    notes: *i"])
    laughs = {"file": ("laughs.yaml", text.encode(), "application/yaml")}
    response = lab.analyst.post("/ministry/policy?lang=ja", {"candidate": "upload"}, files=laughs)

    assert response.status_code == 422
    assert "invalid_rules" in response.text
    assert "expand to more than 200,000 values" in response.text


def test_an_unknown_replay_is_not_found(lab: Lab) -> None:
    client = lab.analyst.client
    assert client.get("/ministry/policy/replays/" + "0" * 24).status_code == 404
    assert client.get("/ministry/policy/replays/" + "0" * 24 + ".json").status_code == 404
    assert client.get("/ministry/policy/replays/" + "0" * 24 + ".csv").status_code == 404
    assert client.get("/ministry/policy/replays/nothing-here").status_code == 404


def test_a_replay_under_way_refreshes_its_page(lab: Lab) -> None:
    platform = lab.console.platform
    request = ReplayRequest(packaged_candidate("rate-20"), None, None, NOW.date())
    stored = start(platform.unit_of_work(), request, "mic-policy", NOW)

    html = lab.analyst.client.get(f"/ministry/policy/replays/{stored.replay_id}?lang=ja").text

    assert 'http-equiv="refresh"' in html
    assert "順番待ち" in html
    response = lab.analyst.client.get(f"/ministry/policy/replays/{stored.replay_id}.json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "replay_not_done"


def test_a_record_the_rules_in_force_do_not_reproduce_is_warned_about(lab: Lab) -> None:
    platform = lab.console.platform
    with platform.engine.begin() as connection:
        person = connection.execute(select(grant_lines.c.person).limit(1)).scalar_one()
        # One person's grant lines lost: the ledger no longer says what the engine does.
        connection.execute(delete(grant_lines).where(grant_lines.c.person == person))

    replay_id = lab.started({"candidate": "in-force"})

    html = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}?lang=ja").text
    warning = html.split('id="mismatched"', 1)[1].split("</div>", 1)[0]
    assert 'role="alert"' in html.split('id="mismatched"', 1)[0].rsplit("<div", 1)[1]
    assert "注意: 1 人について" in warning
    document = lab.analyst.client.get(f"/ministry/policy/replays/{replay_id}.json").json()
    assert document["mismatched"] == 1
    assert document["changes"] == []
    assert "違いはありません" in html
