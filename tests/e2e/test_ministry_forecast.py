"""/ministry/policy/forecast through the app on a generated history: the page's figures equal
services/policy_forecast.forecast_from's, under the rules in force and a packaged candidate
beside with its rules' diff; the CSV holds every day of the charts; bad queries answer 422
with the form and a stable code; before any refresh the page says so and the CSV is 503.
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import delete

from mynapoint.db.tables import statistics_refreshes
from mynapoint.domain.rules_diff import rules_diff
from mynapoint.history.writer import load_history
from mynapoint.rules.candidates import packaged_candidate, packaged_candidates
from mynapoint.services.policy_backtest import backtest_from
from mynapoint.services.policy_forecast import Forecast, Projection, forecast_from, read_history
from mynapoint.services.statistics import refresh
from mynapoint.web.pages.ministry.forecast_figures import fill_text
from public_pages import japanese_left
from staff_console import Console, Terminal, staff_console

VIEWER = ("mic-viewer", "soumu-view-2021")
PERSONS = 400
SEED = 16
EXTENDED = "phase1-extended-3-months"
PAGE = "/ministry/policy/forecast"


@dataclass
class Ministry:
    console: Console
    viewer: Terminal

    def get(self, query: str = "", status: int = 200) -> str:
        response = self.viewer.client.get(PAGE + query)
        assert response.status_code == status, response.text[:600]
        assert response.headers["cache-control"] == "no-store"
        return response.text

    def csv(self, query: str = "") -> list[dict[str, str]]:
        response = self.viewer.client.get(f"{PAGE}.csv{query}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"].startswith("attachment;")
        return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
def ministry(database_url: str, tmp_path) -> Iterator[Ministry]:
    with staff_console(database_url, tmp_path, with_cards=False) as console:
        terminal = console.terminal()
        response = terminal.post("/ministry/sign-in", {"name": VIEWER[0], "password": VIEWER[1]})
        assert response.status_code == 200, response.text
        yield Ministry(console, terminal)


@pytest.fixture
def history(ministry: Ministry) -> Ministry:
    platform = ministry.console.platform
    assert load_history(platform, SEED, PERSONS).written == PERSONS
    refresh(platform.statistics, platform.clock.now(), full=True)
    return ministry


def _cell(html: str, element: str) -> str:
    found = re.search(rf'id="{element}">(.*?)</td>', html, re.DOTALL)
    assert found, element
    return found.group(1)


def _band(value: float, low: float, high: float, unit: str) -> str:
    def write(v: float) -> str:
        return f"{round(v):,}" + ("円" if unit == "yen" else "")

    return f"{write(value)}({write(low)}〜{write(high)})"


def _check_line(html: str, key: str, side: str, projection: Projection) -> None:
    unit = "円" if side == "yen" else ""
    size = f"{projection.size:,}{unit}"
    assert _cell(html, f"{key}-used").startswith(f"{projection.used:,}{unit} / {size}")
    close = projection.at_close
    assert _cell(html, f"{key}-at-close") == _band(close.expected, close.low, close.high, side)
    pace = projection.pace
    if side == "persons":
        want = f"{pace.expected:,.1f}({pace.low:,.1f}〜{pace.high:,.1f})"
    else:
        want = _band(pace.expected, pace.low, pace.high, side)
    assert _cell(html, f"{key}-pace") == want
    assert _cell(html, f"{key}-fill") == fill_text(projection)


def _check_forecast(html: str, made: Forecast, rules: str) -> None:
    assert made.frames
    for frame in made.frames:
        for side in ("persons", "yen"):
            key = f"{frame.frame.phase}-{side}-{rules}"
            _check_line(html, key, side, getattr(frame, side))


def test_the_page_shows_the_forecast_of_the_rules_in_force(history: Ministry) -> None:
    platform = history.console.platform
    html = history.get()
    expected = forecast_from(read_history(platform.statistics), platform.rules)
    assert expected.frames[0].yen.used > 0
    _check_forecast(html, expected, "in-force")
    assert f'datetime="{expected.last_day.isoformat()}"' in html
    assert expected.not_announced == ("phase2",)
    assert 'id="frame-phase2"' not in html  # not announced by the last day, no candidate
    assert 'id="phase1-yen-candidate' not in html
    assert html.count('<svg class="chart" role="img"') == 2  # phase 1: persons, yen
    assert 'id="changes"' not in html
    assert "95%区間" in html
    # The backtest: the same forecast from 90 days before, checked at 7, 30 and 90 days.
    done = backtest_from(
        read_history(platform.statistics),
        platform.rules,
        expected.last_day - timedelta(days=90),
        (7, 30, 90),
        to_end=False,
    )
    table = html.split('id="backtest-table"', 1)[1].split("<tbody>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><th", table)
    assert len(rows) == len(done.checks) == 6
    for check in done.checks:
        unit = "円" if check.side == "yen" else ""
        assert f"{check.actual:,}{unit}" in table
        assert _band(*(getattr(check.predicted, s) for s in ("expected", "low", "high")),
                     check.side) in table  # fmt: skip


def test_a_candidate_is_forecast_beside_with_its_diff_and_the_difference(
    history: Ministry,
) -> None:
    platform = history.console.platform
    query = f"?rules={EXTENDED}&as_of=2021-06-30&window=14"
    html = history.get(query)
    data = read_history(platform.statistics)
    chosen = packaged_candidate(EXTENDED)
    base = forecast_from(data, platform.rules, as_of=date(2021, 6, 30), window_days=14)
    other = forecast_from(
        data,
        platform.rules,
        candidate=(chosen.name, chosen.rules),
        as_of=date(2021, 6, 30),
        window_days=14,
    )
    _check_forecast(html, base, "in-force")
    _check_forecast(html, other, "candidate")
    before = base.frames[0].yen.at_close.expected
    after = other.frames[0].yen.at_close.expected
    assert after > before
    assert _cell(html, "phase1-yen-candidate-difference") == f"+{round(after - before):,}円"
    # phase 2: the candidate states its frame; the rules in force had not announced it.
    assert 'id="frame-phase2"' in html
    assert "2021年6月30日(水) の時点では公表されていません" in html
    changes = rules_diff(platform.rules, chosen.rules)
    assert changes
    table = html.split('id="changes"', 1)[1].split("</table>", 1)[0]
    for change in changes:
        assert change.ja in table
        assert change.en in table
    assert "2022年1月1日(土)" in table  # effective
    assert "2021年12月1日(水)" in table  # announced
    assert html.count('<svg class="chart" role="img"') == 4
    assert 'class="band candidate"' in html
    assert f'href="{PAGE}.csv{query.replace("&", "&amp;")}"' in html


def test_the_csv_holds_every_day_of_the_charts(history: Ministry) -> None:
    platform = history.console.platform
    rows = history.csv(f"?rules={EXTENDED}")
    data = read_history(platform.statistics)
    chosen = packaged_candidate(EXTENDED)
    base = forecast_from(data, platform.rules)
    other = forecast_from(data, platform.rules, candidate=(chosen.name, chosen.rules))
    last = base.last_day.isoformat()
    by_key = {(r["frame"], r["side"], r["day"]): r for r in rows}
    for side in ("persons", "yen"):
        at_last = by_key["phase1", side, last]
        used = getattr(base.frames[0], side).used
        assert int(at_last["recorded"]) == used
        assert int(at_last["in_force_expected"]) == used
        for made, column in ((base, "in_force"), (other, "candidate")):
            projection = getattr(made.frames[0], side)
            close = by_key["phase1", side, projection.closes.isoformat()]
            assert int(close[f"{column}_expected"]) == round(projection.at_close.expected)
            assert int(close[f"{column}_low"]) == round(projection.at_close.low)
            assert int(close[f"{column}_high"]) == round(projection.at_close.high)
            assert close["recorded"] == ""
    persons = [r for r in rows if r["frame"] == "phase1" and r["side"] == "persons"]
    days = [date.fromisoformat(r["day"]) for r in persons]
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
    recorded = {date.fromisoformat(r["day"]): int(r["recorded"]) for r in persons if r["recorded"]}
    assert recorded[max(recorded)] == data.persons_by(max(recorded))
    assert recorded[date(2021, 1, 31)] == data.persons_by(date(2021, 1, 31))
    assert {r["candidate"] for r in rows} == {other.rules}
    assert {r["computed_at"] for r in rows} == {"2021-07-19T10:00:00+09:00"}


@pytest.mark.parametrize(
    ("query", "code", "says"),
    [
        ("?rules=no-such-rules", "unknown_candidate", "no-such-rules はありません"),
        ("?rules=../../etc/passwd", "unknown_candidate", "一覧から選んでください"),
        ("?as_of=2021-13-01", "invalid_day", "2021-06-01 の形"),
        ("?as_of=yesterday", "invalid_day", "年-月-日"),
        ("?window=0", "invalid_window", "1 以上の整数"),
        ("?window=-3", "invalid_window", "1 以上の整数"),
        ("?window=four", "invalid_window", "1 以上の整数"),
        ("?as_of=2021-07-19", "forecast_day_out_of_range", "最終日 2021-07-18"),
        ("?as_of=2019-01-01", "forecast_day_out_of_range", "2019-01-01"),
    ],
)
def test_a_bad_query_is_refused_with_the_form_and_its_code(
    history: Ministry, query: str, code: str, says: str
) -> None:
    html = history.get(query, status=422)
    assert 'role="alert"' in html
    assert f"<code>{code}</code>" in html
    assert says in html
    assert '<form method="get" action="/ministry/policy/forecast"' in html
    assert 'aria-invalid="true"' in html
    response = history.viewer.client.get(f"{PAGE}.csv{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_in_force_named_or_blank_is_the_rules_in_force_alone(history: Ministry) -> None:
    for query in ("?rules=in-force", "?rules=&as_of=&window="):
        html = history.get(query)
        assert 'id="phase1-yen-in-force-used"' in html
        assert 'id="phase1-yen-candidate' not in html


def test_before_any_refresh_the_page_says_so_and_the_csv_is_503(ministry: Ministry) -> None:
    with ministry.console.platform.engine.begin() as connection:
        connection.execute(delete(statistics_refreshes))
    html = ministry.get()
    assert "統計はまだ集計されていません" in html
    assert "<code>statistics_not_computed</code>" in html
    response = ministry.viewer.client.get(f"{PAGE}.csv")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "statistics_not_computed"


def test_the_page_reads_in_english_but_for_the_diffs_japanese_lines(history: Ministry) -> None:
    platform = history.console.platform
    html = history.get("?lang=en")
    assert "<h1>Budget forecast</h1>" in html
    assert japanese_left(html) == [], japanese_left(html)
    html = history.get(f"?rules={EXTENDED}&lang=en")
    changes = rules_diff(platform.rules, packaged_candidate(EXTENDED).rules)
    assert "Mynapoint phase 1: applications due 2021-12-31 → 2022-03-31" in html
    assert japanese_left(html) == [change.ja for change in changes]
    assert f'<td lang="ja">{changes[0].ja}</td>' in html


def test_the_budget_page_links_to_the_forecast(history: Ministry) -> None:
    html = history.viewer.client.get("/ministry/budget").text
    assert f'<a href="{PAGE}">予算の見通し</a>' in html


def test_every_packaged_candidate_is_forecast_beside_the_rules_in_force(history: Ministry) -> None:
    platform = history.console.platform
    data = read_history(platform.statistics)
    for name in packaged_candidates():
        chosen = packaged_candidate(name)
        html = history.get(f"?rules={name}")
        _check_forecast(
            html, forecast_from(data, platform.rules, candidate=(chosen.name, chosen.rules)),
            "candidate",
        )  # fmt: skip
        assert html.count('<td lang="ja">') == len(rules_diff(platform.rules, chosen.rules)) > 0
