"""Support corners and the help line through the app, the page and `mynapoint corners`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mynapoint.bootstrap import build_platform
from mynapoint.cli import app as cli_app
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import Channel
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from typer.testing import Result

# A Wednesday, 12:30: every corner is open but 入部出張所, closed over lunch.
WEDNESDAY_LUNCH = datetime(2021, 7, 21, 12, 30, tzinfo=JST)
CLOCK_START = "2021-07-19T10:00:00+09:00"  # `make run`: a Monday the corners are open
CORNER_KEYS = {"code", "name", "ward", "address", "open", "closes_at", "next_open_at"}
DAY_KEYS = {"date", "open", "hours", "holiday_name"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEDNESDAY_LUNCH)


@pytest.fixture
def client(tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    settings = Settings(database_url=sqlite_url(tmp_path / "api.db"), var_dir=tmp_path)
    platform = build_platform(settings, clock=clock)
    with TestClient(create_app(settings, platform)) as client:
        yield client
    platform.engine.dispose()


def corners_at(client: TestClient, at: str | None = None) -> dict[str, dict[str, object]]:
    params = {} if at is None else {"at": at}
    response = client.get("/api/v1/support-corners", params=params)
    assert response.status_code == 200, response.text
    return {c["code"]: c for c in response.json()["support_corners"]}


# --- GET /api/v1/support-corners ---------------------------------------------------------------


def test_the_list_has_the_documented_shape_and_defaults_to_platform_now(client):
    body = client.get("/api/v1/support-corners").json()
    assert set(body) == {"at", "support_corners"}
    assert body["at"] == "2021-07-21T12:30:00+09:00"
    assert len(body["support_corners"]) == 9
    assert all(set(c) == CORNER_KEYS for c in body["support_corners"])
    chuo = next(c for c in body["support_corners"] if c["code"] == "chuo")
    assert chuo == {
        "code": "chuo",
        "name": "中央区役所",
        "ward": "中央区",
        "address": "福岡市中央区大名二丁目5-31",
        "open": True,
        "closes_at": "2021-07-21T17:15:00+09:00",
        "next_open_at": None,
    }


def test_irube_is_closed_over_lunch_and_says_when_it_reopens(client):
    irube = corners_at(client)["sawara_irube"]
    assert (irube["open"], irube["closes_at"], irube["next_open_at"]) == (
        False,
        None,
        "2021-07-21T13:00:00+09:00",
    )
    morning = corners_at(client, "2021-07-21T10:00:00+09:00")["sawara_irube"]
    assert (morning["open"], morning["closes_at"]) == (True, "2021-07-21T12:00:00+09:00")


def test_a_moment_in_utc_gets_the_same_answers_written_in_jst(client):
    assert corners_at(client, "2021-07-21T03:30:00Z") == corners_at(
        client, "2021-07-21T12:30:00+09:00"
    )
    body = client.get("/api/v1/support-corners", params={"at": "2021-07-21T03:30:00Z"}).json()
    assert body["at"] == "2021-07-21T12:30:00+09:00"


def test_an_unencoded_plus_in_the_offset_is_still_understood(client):
    response = client.get("/api/v1/support-corners?at=2021-07-21T10:00:00+09:00")
    assert response.status_code == 200
    assert response.json()["at"] == "2021-07-21T10:00:00+09:00"


def test_on_a_holiday_every_corner_points_to_the_next_working_morning(client):
    corners = corners_at(client, "2021-07-23T10:00:00+09:00")  # スポーツの日
    assert {(c["open"], c["next_open_at"]) for c in corners.values()} == {
        (False, "2021-07-26T08:45:00+09:00")
    }


def test_after_the_period_no_corner_opens_again(client):
    corners = corners_at(client, "2021-09-30T17:15:00+09:00")
    assert {(c["open"], c["closes_at"], c["next_open_at"]) for c in corners.values()} == {
        (False, None, None)
    }


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2021-07-21T10:00:00", "at '2021-07-21T10:00:00' has no UTC offset; send e.g. "),
        ("2021-07-21", "has no UTC offset"),
        ("yesterday", "at 'yesterday' is not a timestamp; send e.g. 2021-07-19T10:00:00+09:00"),
    ],
)
def test_a_moment_without_offset_is_422(client, at, message):
    response = client.get("/api/v1/support-corners", params={"at": at})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert message in error["message"]
    assert error["details"] == {"field": "at"}


# --- GET /api/v1/support-corners/{code}/calendar ------------------------------------------------


def calendar(client: TestClient, code: str, first: str, last: str) -> dict[str, object]:
    response = client.get(
        f"/api/v1/support-corners/{code}/calendar", params={"from": first, "to": last}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_calendar_has_the_documented_shape_with_holiday_names(client):
    body = calendar(client, "sawara_irube", "2021-07-21", "2021-07-24")
    assert body["code"] == "sawara_irube"
    assert body["weekly_hours"] == [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "label_ja": "平日",
            "opens": "08:45",
            "closes": "17:15",
            "breaks": [{"starts": "12:00", "ends": "13:00"}],
        }
    ]
    assert body["days"] == [
        {
            "date": "2021-07-21",
            "open": True,
            "hours": [
                {"opens": "2021-07-21T08:45:00+09:00", "closes": "2021-07-21T12:00:00+09:00"},
                {"opens": "2021-07-21T13:00:00+09:00", "closes": "2021-07-21T17:15:00+09:00"},
            ],
            "holiday_name": None,
        },
        {"date": "2021-07-22", "open": False, "hours": [], "holiday_name": "海の日"},
        {"date": "2021-07-23", "open": False, "hours": [], "holiday_name": "スポーツの日"},
        {"date": "2021-07-24", "open": False, "hours": [], "holiday_name": None},
    ]


def test_the_calendar_of_the_whole_period_has_122_open_days(client):
    days = calendar(client, "chuo", "2021-04-01", "2021-09-30")["days"]
    assert isinstance(days, list)
    assert all(set(d) == DAY_KEYS for d in days)
    assert (len(days), sum(d["open"] for d in days)) == (183, 122)
    by_date = {d["date"]: d for d in days}
    assert not by_date["2021-08-09"]["open"]
    assert by_date["2021-08-09"]["holiday_name"] == "振替休日"
    assert by_date["2021-07-19"]["open"]
    assert by_date["2021-08-11"]["open"]


def test_a_single_day_and_366_days_are_accepted(client):
    one = calendar(client, "chuo", "2021-07-19", "2021-07-19")["days"]
    year = calendar(client, "chuo", "2021-01-01", "2022-01-01")["days"]
    assert isinstance(one, list)
    assert isinstance(year, list)
    assert (len(one), len(year)) == (1, 366)


def test_an_unknown_corner_is_404(client):
    response = client.get(
        "/api/v1/support-corners/tenjin/calendar", params={"from": "2021-07-19", "to": "2021-07-19"}
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "'tenjin'" in error["message"]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (
            "2021-07-21",
            "2021-07-20",
            "to 2021-07-20 is before from 2021-07-21; send a to on or after from",
        ),
        (
            "2021-01-01",
            "2022-01-02",
            "from 2021-01-01 to 2022-01-02 is 367 days; ask for at most 366 days at a time",
        ),
    ],
)
def test_a_range_that_runs_backwards_or_is_too_long_is_422(client, first, last, message):
    response = client.get(
        "/api/v1/support-corners/chuo/calendar", params={"from": first, "to": last}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    "params", [{"from": "2021-07-19"}, {"from": "2021-7-19x", "to": "2021-07-20"}, {}]
)
def test_a_missing_or_malformed_date_is_422(client, params):
    response = client.get("/api/v1/support-corners/chuo/calendar", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


# --- GET /api/v1/help-line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "is_open", "closes_at", "next_open_at"),
    [
        ("2021-07-21T09:29:00+09:00", False, None, "2021-07-21T09:30:00+09:00"),
        ("2021-07-21T19:59:00+09:00", True, "2021-07-21T20:00:00+09:00", None),
        # The next day is 海の日: weekend hours, but it still opens at 9:30.
        ("2021-07-21T20:00:00+09:00", False, None, "2021-07-22T09:30:00+09:00"),
        ("2021-07-22T17:29:00+09:00", True, "2021-07-22T17:30:00+09:00", None),
        ("2021-07-22T19:00:00+09:00", False, None, "2021-07-23T09:30:00+09:00"),
        ("2021-07-24T17:29:00+09:00", True, "2021-07-24T17:30:00+09:00", None),  # Saturday
        ("2021-07-24T17:30:00+09:00", False, None, "2021-07-25T09:30:00+09:00"),
        ("2021-07-24T08:30:00Z", False, None, "2021-07-25T09:30:00+09:00"),  # 17:30 JST
        ("2021-10-01T10:00:00+09:00", True, "2021-10-01T20:00:00+09:00", None),  # after corners
    ],
)
def test_the_help_line_is_open_on_weekdays_to_20_and_weekends_and_holidays_to_1730(
    client, at, is_open, closes_at, next_open_at
):
    body = client.get("/api/v1/help-line", params={"at": at}).json()
    assert (body["open"], body["closes_at"], body["next_open_at"]) == (
        is_open,
        closes_at,
        next_open_at,
    )


def test_the_help_line_gives_its_numbers_and_hours(client):
    body = client.get("/api/v1/help-line").json()
    assert body["at"] == "2021-07-21T12:30:00+09:00"
    assert body["name"] == "マイナンバー総合フリーダイヤル"
    assert [n["number"] for n in body["numbers"]] == ["0120-95-0178", "050-3627-0952"]
    assert "5番" in body["numbers"][0]["note"]
    assert [(h["label_ja"], h["opens"], h["closes"]) for h in body["hours"]] == [
        ("平日", "09:30", "20:00"),
        ("土日祝", "09:30", "17:30"),
    ]


# --- the page ----------------------------------------------------------------------------------


def test_the_page_tells_in_japanese_where_when_and_who_to_call(client):
    response = client.get("/support-corners")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="ja">' in page
    assert "マイナポイント・サポートコーナー" in page
    assert "2021年4月1日(木)から2021年9月30日(木)まで" in page
    assert "月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで" in page
    for corner in load_corner_directory().corners():
        assert f'<th scope="row">{corner.name}</th>' in page
        assert corner.address in page
    assert len(re.findall(r'<tr id="corner-', page)) == 9
    assert "早良区入部出張所は午後0時から午後1時まで休止" in page
    assert "市役所本庁舎では受け付けておりません" in page
    assert "マイナンバーカード" in page
    assert "0120-95-0178" in page
    assert "050-3627-0952" in page
    assert "平日 午前9時30分から午後8時まで" in page
    assert "土日祝 午前9時30分から午後5時30分まで" in page
    assert "092-711-4105" in page
    assert "092-733-5582" in page
    assert "ictpromotion.GAPB@city.fukuoka.lg.jp" in page
    assert "総務企画局 ICT戦略室 ICT推進課" in page


def test_the_page_shows_who_is_open_now_and_when_irube_reopens(client):
    page = client.get("/support-corners").text
    irube = page[page.index('<tr id="corner-sawara_irube">') :]
    irube = irube[: irube.index("</tr>")]
    assert "受付時間外" in irube
    assert "次回 2021年7月21日(水) 午後1時から" in irube
    chuo = page[page.index('<tr id="corner-chuo">') :]
    assert "受付中" in chuo[: chuo.index("</tr>")]
    # The help line at 12:30 on a weekday.
    assert "<strong>受付中</strong>(午後8時まで)" in page


def test_the_page_lists_the_services_that_cannot_be_applied_for_at_a_corner(client, catalog):
    page = client.get("/support-corners").text
    section = page[page.index('id="not-at-corner-title"') :]
    section = section[: section.index("</section>")]
    app_only = [s for s in catalog if Channel.SUPPORT_CORNER not in s.channels]
    assert {s.code for s in app_only} >= {"rakuten_pay", "merpay"}
    for service in catalog:
        listed = f'<th scope="row">{service.name}</th>' in section
        assert listed is (service in app_only), service.code
    assert "決済サービスアプリからのみ申込みができるため" in section


def test_the_top_page_links_to_the_support_corners(client):
    assert 'href="/support-corners"' in client.get("/").text


# --- mynapoint corners -------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "MYNAPOINT_DATABASE_URL": sqlite_url(tmp_path / "cli.db"),
        "MYNAPOINT_VAR_DIR": str(tmp_path),
        "MYNAPOINT_CLOCK_START": CLOCK_START,
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli_app, ["corners", *args], env=env)


def test_the_command_prints_a_japanese_table_at_a_moment(cli_env):
    result = run(cli_env, "--at", "2021-07-21T12:30:00+09:00")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "マイナポイント・サポートコーナー(2021年7月21日(水) 12:30 現在)"
    rows = {line.split()[0]: line.split() for line in lines[3:12]}
    assert len(rows) == 9
    assert rows["中央区役所"][1:3] == ["受付中", "17:15まで"]
    assert rows["早良区入部出張所"][1:5] == ["受付時間外", "次回", "2021年7月21日(水)", "13:00"]
    assert "マイナンバー総合フリーダイヤル 0120-95-0178: 受付中(20:00まで)" in result.stdout


def test_the_command_says_when_a_closed_corner_next_opens_and_when_never(cli_env):
    holiday = run(cli_env, "--at", "2021-07-22T10:00:00+09:00").stdout
    assert holiday.count("受付時間外  次回 2021年7月26日(月) 08:45") == 9
    over = run(cli_env, "--at", "2021-10-01T10:00:00+09:00").stdout
    assert over.count("受付終了") == 9


def test_the_command_defaults_to_platform_now(cli_env):
    result = run(cli_env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("マイナポイント・サポートコーナー(2021年7月19日(月) 10:")


def test_the_json_is_that_of_the_api(cli_env, client):
    at = "2021-07-21T03:30:00Z"
    result = run(cli_env, "--at", at, "--json")
    assert result.exit_code == 0, result.stderr
    api = client.get("/api/v1/support-corners", params={"at": at}).json()
    assert json.loads(result.stdout) == api


@pytest.mark.parametrize("at", ["2021-07-21T12:30", "2021-07-21", "noon"])
def test_the_command_refuses_a_moment_without_offset(cli_env, at):
    result = run(cli_env, "--at", at)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"--at '{at}'" in result.stderr
    assert "e.g. 2021-07-19T10:00:00+09:00" in result.stderr


# --- another city ------------------------------------------------------------------------------


def test_a_folder_of_city_files_loads_every_city(tmp_path):
    packaged = resources.files("mynapoint.rules").joinpath("corners/fukuoka.yaml")
    (tmp_path / "fukuoka.yaml").write_text(packaged.read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "example.yaml").write_text(
        """\
city: {code: example, name: 例示市, source: 例示市の案内, updated_on: 2021-05-01}
period: {first_day: 2021-05-01, last_day: 2021-06-30}
hours:
  - {days: [sat], opens: "10:00", closes: "16:00"}
corners:
  - {code: example_honcho, name: 例示市役所, ward: 本町, address: 例示市本町1-1}
contact:
  {department: 市民課, address: 例示市本町1-1, tel: 0120-000-000, fax: 0120-000-001,
   email: shimin@example.jp}
""",
        "utf-8",
    )
    (tmp_path / "README.txt").write_text("not a corner file", "utf-8")
    directory = load_corner_directory(tmp_path)
    assert [c.code for c in directory.cities] == ["example", "fukuoka"]
    honcho = directory.get("example_honcho")
    assert honcho.hours.is_open_at(datetime(2021, 5, 1, 1, 0, tzinfo=UTC))  # Sat 10:00 JST
    assert not honcho.hours.is_open_at(datetime(2021, 5, 3, 1, 0, tzinfo=UTC))  # a Monday
