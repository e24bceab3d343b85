"""The generated history (mynapoint.history): deterministic, shaped as the Shape says, and
exactly what the platform's own comparison would have written."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from mynapoint.domain.assist import DEFAULT_IDLE_LIMIT, EndReason
from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.ledger import PersonSnapshot, StoredApplication, StoredEvent
from mynapoint.domain.measures import Channel, EventKind, IgnoreReason, Measure
from mynapoint.domain.staff import check_name
from mynapoint.history.generate import PersonRows, generate, history_clerk, story_of
from mynapoint.history.shape import SHAPE
from mynapoint.history.story import Timeline
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.ledger import History, judge

if TYPE_CHECKING:
    from mynapoint.domain.campaigns import CampaignRules
    from mynapoint.domain.services import Catalog

NOW = datetime(2021, 7, 19, 10, 0, tzinfo=JST)  # the demo day
SEED = 7


@pytest.fixture(scope="module")
def timeline(rules: CampaignRules, catalog: Catalog) -> Timeline:
    return Timeline(rules, catalog, NOW)


@pytest.fixture(scope="module")
def persons(timeline: Timeline) -> list[PersonRows]:
    return list(generate(SEED, 1500, timeline))


def _all(persons: list[PersonRows], table: str) -> list[dict[str, Any]]:
    return [row for person in persons for row in person.rows[table]]


def test_the_same_seed_gives_the_same_rows(timeline: Timeline) -> None:
    first = list(generate(SEED, 120, timeline))
    again = list(generate(SEED, 120, timeline))
    other = list(generate(SEED + 1, 120, timeline))
    assert first == again
    assert [p.rows for p in first] != [p.rows for p in other]
    # A range of persons is the same persons as in the whole.
    assert list(generate(SEED, 120, timeline, start=100)) == first[100:]


def test_every_table_is_filled(persons: list[PersonRows]) -> None:
    counts = {table: len(_all(persons, table)) for table in persons[0].rows}
    assert counts["platform_persons"] == counts["mykeys"] == 1500
    assert 0.85 * 1500 < counts["applications"] < 1500
    for person in persons:
        (mykey,) = person.rows["mykeys"]
        for application in person.rows["applications"]:
            assert mykey["created_at"] < application["applied_at"] < NOW
    assert counts["spending_events"] > 2 * counts["applications"]
    assert counts["grant_instructions"] > counts["applications"]
    assert counts["grant_lines"] >= counts["grant_instructions"]
    assert len({p.person for p in persons}) == 1500
    assert len({r["mykey_id"] for r in _all(persons, "mykeys")}) == 1500


def test_persons_live_in_the_demo_city_s_wards_and_beyond(persons: list[PersonRows]) -> None:
    where = Counter(p.municipality for p in persons)
    wards = {m.code for m in SHAPE.municipalities if m.corner}
    assert wards <= set(where)
    assert 0.6 < sum(where[c] for c in wards) / len(persons) < 0.9
    channels = Counter(r["channel"] for r in _all(persons, "applications"))
    assert channels[Channel.SUPPORT_CORNER.value] > 0
    assert channels[Channel.APP.value] > 0
    assert channels[Channel.ONLINE.value] > 0
    # A counter application is made at the person's own ward's corner, on a weekday.
    counter = [p for p in persons if p.corner is not None]
    assert counter
    for person in counter:
        (application,) = person.rows["applications"]
        assert application["channel"] == Channel.SUPPORT_CORNER.value
        assert application["applied_at"].astimezone(JST).weekday() < 5
        ward = next(m for m in SHAPE.municipalities if m.code == person.municipality)
        assert ward.corner == person.corner


def test_every_counter_application_comes_with_the_session_that_made_it(
    persons: list[PersonRows],
) -> None:
    applied: Counter[tuple[str, date]] = Counter()
    assisted: Counter[tuple[str, date]] = Counter()
    for person in persons:
        counter = [
            a for a in person.rows["applications"] if a["channel"] == Channel.SUPPORT_CORNER.value
        ]
        sessions = person.rows["assisted_sessions"]
        assert len(sessions) == len(counter) <= 1
        for application in counter:
            assert person.corner is not None
            applied[person.corner, jst_date(application["applied_at"])] += 1
        for session in sessions:
            assisted[session["corner"], jst_date(session["ended_at"])] += 1
            (application,) = counter
            (mykey,) = person.rows["mykeys"]
            assert session["corner"] == person.corner
            assert session["staff"] == history_clerk(session["corner"])
            assert session["person"] == person.person
            assert session["mykey_id"] == mykey["mykey_id"]
            # As a real session ends with its application: at its instant, the last step (the
            # confirmation shown) within the counter's idle limit, after the corner opened.
            assert session["end_reason"] == EndReason.APPLIED.value
            assert session["ended_at"] == application["applied_at"]
            assert session["started_at"] <= session["last_activity_at"] < session["ended_at"]
            assert session["ended_at"] - session["last_activity_at"] < DEFAULT_IDLE_LIMIT
            assert session["started_at"].astimezone(JST).time() >= time(8, 45)
            assert session["ended_at"] - session["started_at"] <= timedelta(minutes=15)
            # Nothing of the confirmation is left once a session has ended.
            assert not any(column.startswith("preview") for column in session)
            # Not a certificate's serial (uppercase hex): never a real card's.
            assert not re.fullmatch("[0-9A-F]+", session["card_serial"])
    assert sum(applied.values()) >= 10  # 25 of the 1,500
    assert assisted == applied
    ids = [r["session_id"] for r in _all(persons, "assisted_sessions")]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)
    serials = [r["card_serial"] for r in _all(persons, "assisted_sessions")]
    assert len(set(serials)) == len(serials)


def test_a_clerk_s_name_is_a_valid_sign_in_name_for_every_corner() -> None:
    for corner in load_corner_directory().corners():
        assert check_name(history_clerk(corner.code)) == f"history-{corner.code}"


def test_accounts_follow_their_service_s_format(
    persons: list[PersonRows], catalog: Catalog
) -> None:
    services: Counter[str] = Counter()
    for row in _all(persons, "payment_accounts"):
        service = catalog.get(row["service_code"])
        assert service.payment_service_id.matches(row["payment_service_id"])
        services[service.code] += 1
    assert services.most_common(1)[0][0] == "paypay"
    assert len(services) >= 10


def test_the_opening_rush_holds_the_most_mykey_ids(timeline: Timeline) -> None:
    stories = [story_of(SEED, n, timeline) for n in range(4000)]
    fortnights = Counter((s.mykey_at - timeline.opens).days // 14 for s in stories)
    first = fortnights.pop(0)
    assert first > max(fortnights.values())
    # The first extension's announcement (2021-03-26) brings a bump: the fortnight after it
    # holds more than the fortnight before it.
    announced = (datetime(2021, 3, 26, 17, 0, tzinfo=JST) - timeline.opens).days // 14
    assert fortnights[announced] + fortnights[announced + 1] > 1.5 * (
        fortnights[announced - 1] + fortnights[announced - 2]
    )
    assert all(timeline.opens <= s.mykey_at < NOW for s in stories)


def test_charges_peak_at_month_end_and_at_weekends(persons: list[PersonRows]) -> None:
    days = Counter(
        jst_date(r["occurred_at"])
        for r in _all(persons, "spending_events")
        if r["kind"] != EventKind.REFUND.value
    )
    month_end = [n for d, n in days.items() if (d + timedelta(days=3)).month != d.month]
    rest = [n for d, n in days.items() if (d + timedelta(days=3)).month == d.month]
    assert sum(month_end) / len(month_end) > 1.5 * sum(rest) / len(rest)
    weekday = Counter(d.weekday() for d in days.elements())
    assert weekday[5] > 1.2 * weekday[1]  # Saturday over Tuesday


def test_refunds_are_of_earlier_charges_of_the_same_person(persons: list[PersonRows]) -> None:
    refunds = 0
    for person in persons:
        events = {e["event_id"]: e for e in person.rows["spending_events"]}
        for event in events.values():
            if event["kind"] != EventKind.REFUND.value:
                assert event["refund_of"] is None
                continue
            refunds += 1
            original = events[event["refund_of"]]
            assert original["kind"] != EventKind.REFUND.value
            assert original["occurred_at"] < event["occurred_at"]
            assert 0 < event["amount"] <= original["amount"]
    assert 0.02 * len(persons) < refunds < 0.1 * len(persons)


def test_deaths_stop_earning(rules: CampaignRules, catalog: Catalog) -> None:
    timeline = Timeline(rules, catalog, NOW, replace(SHAPE, death_share=0.3))
    persons = list(generate(SEED, 400, timeline))
    dead = [p for p in persons if p.rows["platform_persons"][0]["died_on"] is not None]
    assert len(dead) > 60
    after = 0
    for person in dead:
        died_on: date = person.rows["platform_persons"][0]["died_on"]
        assert died_on < NOW.date()
        earning = {line["source"].rpartition(":")[2] for line in person.rows["grant_lines"]}
        for event in person.rows["spending_events"]:
            if jst_date(event["occurred_at"]) > died_on:
                after += 1
                assert event["reason"] == IgnoreReason.HOLDER_DECEASED.value
                assert event["event_id"] not in earning
        assert all(a["applied_at"].astimezone(JST).date() < died_on
                   for a in person.rows["applications"])  # fmt: skip
    assert after > 0


def test_instructions_are_made_before_now_in_months_open_then(
    persons: list[PersonRows], timeline: Timeline
) -> None:
    closures = timeline.closures()
    assert [m for m, _ in closures][-1] == "2021-05"  # June and July are open on the demo day
    pending = 0
    for row in _all(persons, "grant_instructions"):
        assert row["created_at"] <= NOW
        closed_then = {m for m, at in closures if at <= row["created_at"]}
        assert row["settlement_month"] not in closed_then
        assert row["settlement_month"] >= f"{row['grant_on']:%Y-%m}"
        if row["acknowledged_at"] is None:
            pending += 1
            # Pending ones are not due yet: the operator pulls what is due.
            assert row["grant_on"] > NOW.date()
        else:
            assert row["created_at"] < row["acknowledged_at"] <= NOW
    assert pending > 0
    ids = [row["grant_id"] for row in _all(persons, "grant_instructions")]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 for i in ids)


def _history(person: PersonRows) -> History:
    facts = person.rows["platform_persons"][0]
    snapshot = PersonSnapshot(
        person=person.person,
        birth_date=facts["birth_date"],
        card_applied_on=facts["card_applied_on"],
        card_applied_online=facts["card_applied_online"],
        died_on=facts["died_on"],
        adult_ward=facts["adult_ward"],
        certificate_issued_at=facts["certificate_issued_at"],
    )
    applications = [
        StoredApplication(
            application_id=a["application_id"],
            person=a["person"],
            measure=Measure(a["measure"]),
            service_code=a["service_code"],
            payment_service_id=a["payment_service_id"],
            counts=EventKind(a["counts"]),
            channel=Channel(a["channel"]),
            applied_at=a["applied_at"],
        )
        for a in person.rows["applications"]
    ]
    events = [
        StoredEvent(
            **{k: v for k, v in e.items() if k not in {"kind", "reason"}},
            kind=EventKind(e["kind"]),
            reason=IgnoreReason(e["reason"]) if e["reason"] else None,
        )
        for e in person.rows["spending_events"]
    ]
    lines = [
        (line["source"], line["measure"], line["points"]) for line in person.rows["grant_lines"]
    ]
    return History(snapshot, applications, events, lines)


def test_re_evaluating_the_generated_persons_changes_nothing(
    persons: list[PersonRows], timeline: Timeline
) -> None:
    closed = {month for month, _ in timeline.closures()}
    judgement = judge([_history(p) for p in persons], timeline.rules, timeline.catalog, NOW, closed)
    assert judgement.reasons == []
    assert judgement.instructions == []
    # and the points are the engine's: nobody passes the 5,000-point cap
    by_person: Counter[str] = Counter()
    for line in _all(persons, "grant_lines"):
        by_person[line["person"]] += line["points"]
    assert max(by_person.values()) == 5000
    assert min(by_person.values()) >= 0


def test_there_is_no_history_before_the_program(rules: CampaignRules, catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="before the program opened"):
        Timeline(rules, catalog, datetime(2020, 6, 30, 10, 0, tzinfo=JST))
    # Two days in: MyKey IDs, applications, no spending yet (it opens 2020-09-01).
    early = Timeline(rules, catalog, datetime(2020, 7, 3, 10, 0, tzinfo=JST))
    persons = list(generate(SEED, 50, early))
    assert all(p.rows["mykeys"] for p in persons)
    assert not any(p.rows["spending_events"] for p in persons)
