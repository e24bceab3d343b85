"""/ministry/overview through the app on a generated history: every figure on the page (its
table, its chart's bars and its CSV) equals services/statistics.py's (which equal the database:
tests/integration), the date range narrows them and a bad one is refused clearly, the page says
as of when and what it shows before any refresh, in Japanese and English. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import delete

from mynapoint.db.tables import statistics_refreshes
from mynapoint.domain.statistics import Dimension, Metric
from mynapoint.services.budget import budget_use
from mynapoint.services.statistics import breakdown, pending_grants, refresh, series, totals
from mynapoint.web.i18n import long_date
from staff_console import Console, Terminal, staff_console
from statistics_world import START, World

NOW = START + timedelta(days=5, hours=3)  # 2021-07-24 03:00 JST
VIEWER = ("mic-viewer", "soumu-view-2021")
BREAKDOWNS = {
    "applications-by-measure": Dimension.MEASURE,
    "applications-by-service": Dimension.SERVICE,
    "applications-by-channel": Dimension.CHANNEL,
    "applications-by-municipality": Dimension.MUNICIPALITY,
}
_BAR = re.compile(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)"')


@dataclass
class Ministry:
    console: Console
    viewer: Terminal

    def csv(self, slug: str, query: str = "") -> list[dict[str, str]]:
        response = self.viewer.client.get(f"/ministry/overview/{slug}.csv{query}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-disposition"].startswith("attachment;")
        return list(csv.DictReader(io.StringIO(response.text)))


def _sign_in(console: Console, name: str, password: str) -> Terminal:
    terminal = console.terminal()
    response = terminal.post("/ministry/sign-in", {"name": name, "password": password})
    assert response.status_code == 200, response.text
    return terminal


@pytest.fixture
def ministry(database_url: str, tmp_path) -> Iterator[Ministry]:
    with staff_console(database_url, tmp_path, NOW, with_cards=False) as console:
        world = World(console.platform.engine, random.Random(15))  # noqa: S311 - test data
        world.add_staff()
        world.add_people(60, day=0)
        world.add_people(25, day=2)
        apps = world.apply_some(90, day=0)
        apps += world.apply_some(30, day=2)
        world.cancel_some(apps, 10, day=3)
        grants = world.grant_some(50, day=1, grant_days=range(4))
        world.acknowledge_some(grants, 20, day=4)
        world.assist_some(12, day=1)
        refresh(console.platform.statistics, NOW, full=True)
        yield Ministry(console, _sign_in(console, *VIEWER))


def _table(html: str, slug: str) -> list[list[str]]:
    section = html.split(f'id="{slug}"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL) for row in rows]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_every_figure_equals_the_statistics_service(ministry: Ministry) -> None:
    store = ministry.console.platform.statistics
    response = ministry.viewer.client.get("/ministry/overview")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    expected = totals(store)
    assert expected.applications > 0
    assert expected.points_granted > 0
    assert expected.assisted_applications > 0
    for element, value in (
        ("total-mykeys", expected.mykeys),
        ("total-applications", expected.applications),
        ("total-cancellations", expected.cancellations),
        ("total-points-granted", expected.points_granted),
        ("total-points-clawed-back", expected.points_clawed_back),
        ("total-assisted", expected.assisted_applications),
    ):
        assert re.search(rf'id="{element}">{value:,}<', html), element
    assert "集計時点" in html
    assert "2021-07-24T03:00:00+09:00" in html

    for slug, dimension in BREAKDOWNS.items():
        figures = breakdown(store, Metric.APPLICATIONS, (dimension,)).figures
        want = {figure.keys[0]: figure.count for figure in figures}
        rows = ministry.csv(slug)
        assert {row["key"]: int(row["count"]) for row in rows} == want, slug
        table = _table(html, slug)
        assert [_number(row[1]) for row in table[:-1]] == [int(row["count"]) for row in rows]
        assert table[-1] == ["合計", f"{sum(want.values()):,}"]
        assert len(_BAR.findall(html.split(f'id="{slug}"', 1)[1])) >= len(want)

    corners = breakdown(store, Metric.ASSISTED_APPLICATIONS, (Dimension.CORNER,)).figures
    assert {row["key"]: int(row["count"]) for row in ministry.csv("assisted-by-corner")} == {
        figure.keys[0]: figure.count for figure in corners
    }

    mykeys = {f.day: f.count for f in series(store, Metric.MYKEYS).figures}
    rows = ministry.csv("mykeys")
    assert {
        date.fromisoformat(r["day"]): int(r["mykey_ids"]) for r in rows if r["mykey_ids"] != "0"
    } == mykeys
    assert all(row["as_of"] == "2021-07-24T03:00:00+09:00" for row in rows)

    granted = {f.day: f.points for f in series(store, Metric.POINTS_GRANTED).figures}
    clawed = {f.day: f.points for f in series(store, Metric.POINTS_CLAWED_BACK).figures}
    rows = ministry.csv("points")
    assert sum(int(row["points_granted"]) for row in rows) == expected.points_granted
    assert sum(int(row["points_clawed_back"]) for row in rows) == expected.points_clawed_back
    for row in rows:
        day = date.fromisoformat(row["day"])
        assert int(row["points_granted"]) == granted.get(day, 0)
        assert int(row["points_clawed_back"]) == clawed.get(day, 0)

    pending = pending_grants(store).operators
    rows = ministry.csv("pending-grants")
    assert [
        (r["operator"], int(r["instructions"]), int(r["points"]), int(r["days_late"])) for r in rows
    ] == [(p.operator_code, p.instructions, p.points, p.days_late) for p in pending]
    assert pending
    table = _table(html, "pending-grants")
    assert [_number(row[1]) for row in table] == [p.instructions for p in pending]


def test_the_range_narrows_the_figures_and_a_bad_one_is_refused(ministry: Ministry) -> None:
    store = ministry.console.platform.statistics
    day = date(2021, 7, 21)
    query = f"?from={day}&to={day}"
    html = ministry.viewer.client.get("/ministry/overview" + query).text
    narrowed = totals(store, day, day)
    assert narrowed.applications != totals(store).applications
    assert re.search(rf'id="total-applications">{narrowed.applications:,}<', html)
    assert f'href="/ministry/overview/mykeys.csv{query}"' in html.replace("&amp;", "&")
    rows = ministry.csv("applications-by-service", query)
    figures = breakdown(store, Metric.APPLICATIONS, (Dimension.SERVICE,), day, day).figures
    assert {row["key"]: int(row["count"]) for row in rows} == {
        figure.keys[0]: figure.count for figure in figures
    }

    for bad in ("?from=2021-07-23&to=2021-07-20", "?from=21%2F7%2F2021", "?to=2021-13-40"):
        response = ministry.viewer.client.get("/ministry/overview" + bad)
        assert response.status_code == 422, bad
        assert "invalid_date_range" in response.text
        assert 'role="alert"' in response.text
        csv_response = ministry.viewer.client.get("/ministry/overview/mykeys.csv" + bad)
        assert csv_response.status_code == 422
        assert csv_response.json()["error"]["code"] == "invalid_date_range"
    english = ministry.viewer.client.get("/ministry/overview?from=2021-07-23&to=2021-07-20&lang=en")
    assert "after the end" in english.text
    assert ministry.viewer.client.get("/ministry/overview/nothing.csv").status_code == 404


def test_the_page_reads_in_english(ministry: Ministry) -> None:
    html = ministry.viewer.client.get("/ministry/overview?lang=en").text
    assert "<h1>Overview</h1>" in html
    assert "MyKey IDs issued per day" in html
    assert "マイキー" not in html.split("<main", 1)[1]


def test_before_any_refresh_the_page_says_so(database_url: str, tmp_path) -> None:
    with staff_console(database_url, tmp_path, NOW, with_cards=False) as console:
        viewer = _sign_in(console, *VIEWER)  # the app refreshes as it starts: undo that
        with console.platform.engine.begin() as connection:
            connection.execute(delete(statistics_refreshes))
        assert console.platform.statistics.last_refresh() is None
        response = viewer.client.get("/ministry/overview")
        assert response.status_code == 200
        assert "statistics_not_computed" in response.text
        assert "まだ集計されていません" in response.text
        csv_response = viewer.client.get("/ministry/overview/mykeys.csv")
        assert csv_response.status_code == 503
        assert csv_response.json()["error"]["code"] == "statistics_not_computed"


def test_the_budget_page_shows_each_frames_use_and_when_it_fills(ministry: Ministry) -> None:
    platform = ministry.console.platform
    use = budget_use(platform.statistics, platform.rules)
    response = ministry.viewer.client.get("/ministry/budget?lang=ja")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "2021-07-24T03:00:00+09:00" in html
    assert "直近14日間" in html
    assert "budget_frame_reached" in html
    assert use.frames
    for frame in use.frames:
        table = _table(html, f"frame-{frame.frame.phase}")
        persons, money = table
        assert _number(persons[1]) == frame.frame.persons
        assert _number(persons[2]) == frame.persons.used == totals(platform.statistics).mykeys
        assert _number(persons[3]) == frame.persons.left
        assert money[1] == f"{frame.frame.yen:,}円"
        assert money[2] == f"{frame.yen.used:,}円"
        assert persons[6] == (
            "この速さでは100年以内に到達しません"
            if frame.persons.full_on is None
            else long_date(frame.persons.full_on)
        )
    in_force = [frame for frame in use.frames if frame.in_force]
    assert len(in_force) == 1
    english = ministry.viewer.client.get("/ministry/budget?lang=en").text
    assert "<h1>Budget frames</h1>" in english
