"""/open-data and its CSV and JSON through the app: the figures of the summary tables, no
personal data, small cells suppressed (also against subtraction), as of when, both languages."""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import sqlite_url
from mynapoint.db.tables import applications, cardholders, mykeys, payment_accounts
from mynapoint.domain.statistics import SMALL_CELL
from mynapoint.services.clock import FixedClock
from mynapoint.services.statistics import refresh
from mynapoint.web.app import create_app
from public_pages import RAW_ERRORS, japanese_not_marked, main_text
from statistics_world import START, World

NOW = START + timedelta(days=5, hours=3)  # 2021-07-24 03:00 JST: days 07-19 … 07-23 complete


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    tmp = tmp_path_factory.mktemp("open-data")
    settings = Settings(database_url=sqlite_url(tmp / "open.db"), var_dir=tmp)
    platform = build_platform(settings, clock=FixedClock(NOW))
    with TestClient(create_app(settings, platform)) as client:
        yield client, platform
    platform.engine.dispose()


@pytest.fixture(scope="module")
def filled(site: tuple[TestClient, Platform]) -> TestClient:
    client, platform = site
    world = World(platform.engine, random.Random(15))  # noqa: S311 - test data, not secrets
    world.add_staff()
    world.add_people(80, day=0)
    world.add_people(30, day=1)
    world.apply_some(120, day=0)
    world.apply_some(15, day=1)  # a thin day: small cells
    world.add_people(20, day=5)  # the refresh's own day, 2021-07-24: not complete
    world.grant_some(60, day=1, grant_days=range(3))
    world.grant_some(4, day=1, grant_days=range(4, 5))  # a day with few grants
    # Full: the rows were written with past timestamps, after the server's first refresh.
    refresh(platform.statistics, NOW, full=True)
    return client


def csv_rows(client: TestClient) -> list[dict[str, str]]:
    response = client.get("/open-data/daily.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_before_any_refresh_the_files_say_so_and_the_page_explains(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("open-data-empty")
    settings = Settings(database_url=sqlite_url(tmp / "empty.db"), var_dir=tmp)
    platform = build_platform(settings, clock=FixedClock(NOW))
    # No lifespan, so that the server's scheduled refresh does not run: the platform by hand.
    app = create_app(settings, platform)
    app.state.platform = platform
    client = TestClient(app)
    for path in ("/open-data/daily.csv", "/open-data/daily.json"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "statistics_not_computed"
    page = client.get("/open-data")
    assert page.status_code == 200
    assert "まだ集計されていません" in main_text(page.text)
    platform.engine.dispose()


def test_the_files_hold_the_complete_days_figures_and_as_of_when(filled: TestClient) -> None:
    rows = csv_rows(filled)
    assert list(rows[0]) == ["day", "metric", "measure", "service", "value", "suppressed", "as_of"]
    assert {row["as_of"] for row in rows} == {"2021-07-24T03:00:00+09:00"}
    days = {row["day"] for row in rows}
    assert "2021-07-19" in days
    assert max(days) < "2021-07-24"  # the refresh's own day is not out before it ends
    # Every day from the first, each with its MyKey IDs and points (0 on a day without).
    every = [row["day"] for row in rows if row["metric"] == "mykey_ids"]
    first = date.fromisoformat(every[0])
    assert first <= date(2021, 7, 19)  # a few instants fall a second before a midnight
    assert every == [
        (first + timedelta(days=n)).isoformat() for n in range((date(2021, 7, 23) - first).days + 1)
    ]
    assert [row["day"] for row in rows if row["metric"] == "points_granted"] == every
    document = filled.get("/open-data/daily.json").json()
    assert document["as_of"] == "2021-07-24T03:00:00+09:00"
    assert document["small_cell_threshold"] == SMALL_CELL
    assert len(document["rows"]) == len(rows)
    for row, item in zip(rows, document["rows"], strict=True):
        assert row["value"] == ("" if item["value"] is None else str(item["value"]))


def test_small_cells_are_suppressed_and_none_can_be_recovered_by_subtraction(
    filled: TestClient,
) -> None:
    rows = csv_rows(filled)
    shown = [int(row["value"]) for row in rows if row["value"] != ""]
    assert all(value == 0 or value >= SMALL_CELL for value in shown)
    assert any(row["suppressed"] == "primary" for row in rows)
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        if row["metric"] == "applications":
            groups.setdefault((row["day"], row["measure"]), []).append(row)
    for group in groups.values():
        total = next(row for row in group if row["service"] == "total")
        parts = [row for row in group if row["service"] != "total"]
        hidden = [row for row in parts if row["value"] == ""]
        # A shown total with exactly one hidden part would give that part away.
        assert total["value"] == "" or len(hidden) != 1
        if total["value"] != "" and not hidden:
            assert int(total["value"]) == sum(int(row["value"]) for row in parts)


def test_the_files_hold_no_personal_data(
    site: tuple[TestClient, Platform], filled: TestClient
) -> None:
    _, platform = site
    with platform.engine.connect() as connection:
        secrets = {
            *connection.execute(select(cardholders.c.anchor)).scalars(),
            *connection.execute(select(mykeys.c.mykey_id)).scalars(),
            *connection.execute(select(applications.c.payment_service_id)).scalars(),
            *connection.execute(select(applications.c.application_id)).scalars(),
            *connection.execute(select(payment_accounts.c.holder_name)).scalars(),
        }
    assert secrets
    for path in ("/open-data/daily.csv", "/open-data/daily.json", "/open-data"):
        body = filled.get(path).text
        assert not [secret for secret in secrets if secret in body], path


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_page_shows_the_recent_days_in_both_languages(filled: TestClient, lang: str) -> None:
    page = filled.get(f"/open-data?lang={lang}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=300"
    text = main_text(page.text)
    assert RAW_ERRORS.search(text) is None
    assert ("集計時点" if lang == "ja" else "As of") in text
    assert 'href="/open-data/daily.csv"' in page.text
    if lang == "en":
        assert japanese_not_marked(page.text) == []


def test_the_site_links_to_the_open_data(filled: TestClient) -> None:
    assert 'href="/open-data"' in filled.get("/").text


def test_the_server_refreshes_the_statistics_as_it_starts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("open-data-start")
    settings = Settings(database_url=sqlite_url(tmp / "start.db"), var_dir=tmp)
    platform = build_platform(settings, clock=FixedClock(NOW))
    assert platform.statistics.last_refresh() is None
    with TestClient(create_app(settings, platform)) as client:
        deadline = time.monotonic() + 10  # the first refresh runs in a thread, at once
        while (last := platform.statistics.last_refresh()) is None:
            assert time.monotonic() < deadline, "no refresh 10 s after the start"
            time.sleep(0.05)
        assert client.get("/open-data/daily.json").status_code == 200
    platform.engine.dispose()
    assert last is not None
    assert last.computed_at == NOW
