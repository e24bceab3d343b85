"""Reading a `simulate` scenario: YAML and JSON alike, and every mistake named by its key."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from mynapoint.domain.measures import EventKind, Measure
from mynapoint.ingest.scenario import ScenarioError, scenario_from_text
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.simulate import Scenario

JST = timezone(timedelta(hours=9))

VALID_YAML = """\
person:
  card_applied_on: 2021-03-15
  card_applied_online: false
  birth_date: 1980-01-01
  died_on: null
applications:
  - measure: phase1
    service: paypay
    counts: charge
    applied_at: 2021-05-10T10:00:00+09:00
  - measure: phase2_health_insurance
    service: waon
    applied_at: 2022-07-01T10:00:00+09:00
events:
  - {id: e1, kind: charge, amount: 3000, at: 2021-05-09T12:00:00+09:00}
  - {id: e2, kind: charge, amount: 30000, at: 2021-05-11T12:00:00+09:00}
  - {id: r1, kind: refund, amount: 1000, at: 2021-05-20T12:00:00+09:00, refund_of: e1}
as_of: 2021-04-05
"""

VALID_JSON = json.dumps(
    {
        "person": {
            "card_applied_on": "2021-03-15",
            "card_applied_online": False,
            "birth_date": "1980-01-01",
            "died_on": None,
        },
        "applications": [
            {
                "measure": "phase1",
                "service": "paypay",
                "counts": "charge",
                "applied_at": "2021-05-10T10:00:00+09:00",
            },
            {
                "measure": "phase2_health_insurance",
                "service": "waon",
                "applied_at": "2022-07-01T10:00:00+09:00",
            },
        ],
        "events": [
            {"id": "e1", "kind": "charge", "amount": 3000, "at": "2021-05-09T12:00:00+09:00"},
            {"id": "e2", "kind": "charge", "amount": 30000, "at": "2021-05-11T12:00:00+09:00"},
            {
                "id": "r1",
                "kind": "refund",
                "amount": 1000,
                "at": "2021-05-20T12:00:00+09:00",
                "refund_of": "e1",
            },
        ],
        "as_of": "2021-04-05",
    },
    indent=2,
)


def read(text: str, source: str = "scenario.yaml") -> Scenario:
    return scenario_from_text(text, source, load_campaigns(), load_catalog())


def with_change(old: str, new: str, text: str = VALID_YAML) -> str:
    """The valid scenario with one precise fragment replaced; the fragment must occur once."""
    assert text.count(old) == 1, f"fragment not found exactly once: {old!r}"
    return text.replace(old, new)


def test_a_valid_yaml_scenario_reads_into_the_person_applications_and_events():
    scenario = read(VALID_YAML)

    assert scenario.person.card_applied_on == date(2021, 3, 15)
    assert scenario.person.birth_date == date(1980, 1, 1)
    assert scenario.as_of == date(2021, 4, 5)
    first, second = scenario.applications
    assert (first.index, first.measure, first.service_code, first.counts) == (
        0,
        Measure.PHASE1,
        "paypay",
        EventKind.CHARGE,
    )
    assert first.applied_at == datetime(2021, 5, 10, 10, 0, tzinfo=JST)
    assert (second.index, second.measure, second.counts) == (
        1,
        Measure.PHASE2_HEALTH_INSURANCE,
        None,
    )
    assert [(e.event_id, e.kind, e.amount, e.refund_of) for e in scenario.events] == [
        ("e1", EventKind.CHARGE, 3000, None),
        ("e2", EventKind.CHARGE, 30000, None),
        ("r1", EventKind.REFUND, 1000, "e1"),
    ]


def test_the_same_scenario_in_json_reads_equal_to_yaml():
    assert read(VALID_JSON, "scenario.json") == read(VALID_YAML)


def test_only_person_is_required():
    scenario = read("person: {card_applied_on: 2021-03-15}\n")

    assert scenario.applications == ()
    assert scenario.events == ()
    assert scenario.as_of is None


def test_a_numeric_event_id_is_read_as_text():
    scenario = read(with_change("{id: e2,", "{id: 1,"))

    assert scenario.events[1].event_id == "1"


def test_counts_may_be_left_out_for_a_service_that_counts_one_kind():
    scenario = read(with_change("service: paypay\n    counts: charge", "service: waon"))

    assert scenario.applications[0].counts is None


BAD_YAML = [
    pytest.param(
        VALID_YAML + "colour: red\n",
        ["colour", "unknown key"],
        id="unknown top-level key",
    ),
    pytest.param(
        with_change("  died_on: null\n", "  died_on: null\n  name: Taro\n"),
        ["person.name", "unknown key"],
        id="unknown key inside person",
    ),
    pytest.param(
        with_change("    counts: charge\n", "    counts: charge\n    account: '123'\n"),
        ["applications[0].account", "unknown key"],
        id="unknown key inside an application",
    ),
    pytest.param(
        with_change("  card_applied_on: 2021-03-15\n", ""),
        ["person.card_applied_on", "required"],
        id="person.card_applied_on missing",
    ),
    pytest.param(
        "applications: []\n",
        ["person", "required"],
        id="person missing",
    ),
    pytest.param(
        with_change("at: 2021-05-09T12:00:00+09:00", "at: 2021-05-09T12:00:00"),
        ["events[0].at", "no UTC offset", "+09:00"],
        id="event timestamp without offset",
    ),
    pytest.param(
        with_change("applied_at: 2021-05-10T10:00:00+09:00", "applied_at: 2021-05-10 10:00"),
        ["applications[0].applied_at", "no UTC offset", "+09:00"],
        id="application timestamp without offset",
    ),
    pytest.param(
        with_change("card_applied_on: 2021-03-15", "card_applied_on: 20210315"),
        ["person.card_applied_on", "20210315 is a number"],
        id="date written as a number",
    ),
    pytest.param(
        with_change("card_applied_on: 2021-03-15", "card_applied_on: 2021-3-15"),
        ["person.card_applied_on", "2021-04-30"],
        id="date in the wrong form",
    ),
    pytest.param(
        with_change("service: paypay", "service: paypal"),
        ["applications[0].service", "'paypal'", "paypay"],
        id="unknown service",
    ),
    pytest.param(
        with_change("measure: phase1", "measure: phase3"),
        ["applications[0].measure"],
        id="unknown measure",
    ),
    pytest.param(
        with_change("    counts: charge\n", ""),
        ["applications[0].counts", "paypay", "charge", "purchase"],
        id="counts missing for a service where the person picks",
    ),
    pytest.param(
        with_change("    service: waon\n", "    service: waon\n    counts: charge\n"),
        ["applications[1].counts", "phase2_health_insurance", "leave counts out"],
        id="counts for a fixed measure",
    ),
    pytest.param(
        with_change("service: paypay\n    counts: charge", "service: waon\n    counts: purchase"),
        ["applications[0].counts", "waon", "'purchase'"],
        id="purchase for a service that counts charges only",
    ),
    pytest.param(
        with_change("counts: charge", "counts: pick"),
        ["applications[0].counts"],
        id="counts pick instead of the pick itself",
    ),
    pytest.param(
        with_change(", refund_of: e1}", "}"),
        ["events[2].refund_of", "refund needs refund_of"],
        id="refund without refund_of",
    ),
    pytest.param(
        with_change("amount: 30000,", "amount: 30000, refund_of: e1,"),
        ["events[1].refund_of", "only a refund"],
        id="refund_of on a charge",
    ),
    pytest.param(
        with_change("{id: e2,", "{id: e1,"),
        ["events[1].id", "'e1' appears twice"],
        id="duplicate event ids",
    ),
    pytest.param(
        with_change("{id: e2,", "{id: '',"),
        ["events[1].id"],
        id="empty event id",
    ),
    pytest.param(
        with_change("amount: 3000,", "amount: -3000,"),
        ["events[0].amount", "greater than 0"],
        id="negative amount",
    ),
    pytest.param(
        with_change("amount: 3000,", "amount: 0,"),
        ["events[0].amount", "greater than 0"],
        id="zero amount",
    ),
    pytest.param(
        with_change("amount: 3000,", 'amount: "1000",'),
        ["events[0].amount", "integer"],
        id="amount as a string",
    ),
    pytest.param(
        with_change("amount: 3000,", "amount: 12.5,"),
        ["events[0].amount", "integer"],
        id="amount with a fraction",
    ),
    pytest.param(
        with_change("amount: 3000,", "amount: 3000.0,"),
        ["events[0].amount", "integer"],
        id="amount as a float",
    ),
    pytest.param(
        with_change("e1, kind: charge", "e1, kind: payment"),
        ["events[0].kind"],
        id="unknown event kind",
    ),
    pytest.param(
        with_change(
            "  birth_date: 1980-01-01\n", "  birth_date: 1980-01-01\n  birth_date: 1981-01-01\n"
        ),
        ["scenario.yaml", "birth_date", "appears twice"],
        id="duplicated YAML key",
    ),
    pytest.param(
        "- person\n- events\n",
        ["(top level)", "expected a mapping"],
        id="a list, not a mapping",
    ),
    pytest.param(
        "just text\n",
        ["(top level)", "expected a mapping"],
        id="a string, not a mapping",
    ),
    pytest.param(
        "",
        ["(top level)", "expected a mapping"],
        id="empty document",
    ),
    pytest.param(
        "person: [\n",
        ["line 2", "not valid YAML"],
        id="invalid YAML",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_YAML)
def test_a_bad_yaml_scenario_is_refused_naming_the_file_and_the_key(text, fragments):
    with pytest.raises(ScenarioError) as refused:
        read(text)

    message = str(refused.value)
    assert message.startswith("scenario.yaml")
    for fragment in fragments:
        assert fragment in message


BAD_JSON = [
    pytest.param('{"person": {', ["line 1", "not valid JSON"], id="invalid JSON"),
    pytest.param(
        '{"person": {"card_applied_on": "2021-03-15", "card_applied_on": "2021-03-16"}}',
        ["card_applied_on", "appears twice"],
        id="duplicate JSON keys",
    ),
    pytest.param("[1, 2]", ["(top level)", "expected a mapping"], id="a JSON list"),
    pytest.param("null", ["(top level)", "expected a mapping"], id="JSON null"),
    pytest.param(
        with_change('"amount": 3000,', '"amount": "3000",', VALID_JSON),
        ["events[0].amount", "integer"],
        id="JSON amount as a string",
    ),
    pytest.param(
        with_change('"at": "2021-05-09T12:00:00+09:00"', '"at": "2021-05-09T12:00:00"', VALID_JSON),
        ["events[0].at", "no UTC offset"],
        id="JSON timestamp without offset",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_JSON)
def test_a_bad_json_scenario_is_refused_naming_the_file_and_the_key(text, fragments):
    with pytest.raises(ScenarioError) as refused:
        read(text, "scenario.json")

    message = str(refused.value)
    assert message.startswith("scenario.json")
    for fragment in fragments:
        assert fragment in message
