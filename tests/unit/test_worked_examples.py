"""docs/RULES.md §8 worked examples 1-6 and 10, through the simulate use case."""

from __future__ import annotations

from typing import Any

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.ingest.scenario import scenario_from_text
from mynapoint.services.simulate import outcome_document, simulate


def run(text: str, rules: CampaignRules, catalog: Catalog) -> dict[str, Any]:
    return outcome_document(
        simulate(scenario_from_text(text, "t.yaml", rules, catalog), rules, catalog)
    )


def reasons(document: dict[str, Any]) -> dict[str, str]:
    return {item["event_id"]: item["reason"] for item in document["ignored"]}


def points(document: dict[str, Any]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for grant in document["grants"]:
        out[grant["event_id"]] = out.get(grant["event_id"], 0) + grant["points"]
    return out


def test_example_1_charge_before_the_application_earns_nothing(rules, catalog):
    document = run(
        """
person: {card_applied_on: 2021-03-15}
applications:
  - {measure: phase1, service: paypay, counts: charge, applied_at: 2021-05-10T10:00:00+09:00}
events:
  - {id: e1, kind: charge, amount: 3000, at: 2021-05-09T12:00:00+09:00}
  - {id: e2, kind: charge, amount: 30000, at: 2021-05-11T12:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert document["total_points"] == 5000
    assert reasons(document) == {"e1": "before_application"}
    assert points(document) == {"e2": 5000}


def test_example_2_charge_before_september_2020_earns_nothing(rules, catalog):
    document = run(
        """
person: {card_applied_on: 2020-06-01}
applications:
  - {measure: phase1, service: suica, applied_at: 2020-08-20T10:00:00+09:00}
events:
  - {id: aug31, kind: charge, amount: 20000, at: 2020-08-31T12:00:00+09:00}
  - {id: sep01, kind: charge, amount: 20000, at: 2020-09-01T12:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert reasons(document) == {"aug31": "before_program_start"}
    assert points(document) == {"sep01": 5000}
    assert document["total_points"] == 5000


def test_example_3_three_purchases_of_4000_earn_1000_each(rules, catalog):
    document = run(
        """
person: {card_applied_on: 2020-06-01}
applications:
  - {measure: phase1, service: paypay, counts: purchase, applied_at: 2020-09-01T09:00:00+09:00}
events:
  - {id: p1, kind: purchase, amount: 4000, at: 2020-10-01T12:00:00+09:00}
  - {id: p2, kind: purchase, amount: 4000, at: 2020-10-02T12:00:00+09:00}
  - {id: p3, kind: purchase, amount: 4000, at: 2020-10-03T12:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert points(document) == {"p1": 1000, "p2": 1000, "p3": 1000}
    assert document["total_points"] == 3000


def test_example_4_one_charge_of_50000_reaches_the_cap_and_later_charges_earn_nothing(
    rules, catalog
):
    document = run(
        """
person: {card_applied_on: 2020-06-01}
applications:
  - {measure: phase1, service: waon, applied_at: 2020-09-01T09:00:00+09:00}
events:
  - {id: big, kind: charge, amount: 50000, at: 2020-10-01T12:00:00+09:00}
  - {id: later1, kind: charge, amount: 1000, at: 2020-10-02T12:00:00+09:00}
  - {id: later2, kind: charge, amount: 20000, at: 2020-12-02T12:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert points(document) == {"big": 5000}
    assert reasons(document) == {"later1": "cap_reached", "later2": "cap_reached"}
    assert document["total_points"] == 5000


def test_example_5_card_applied_for_in_may_2021_earns_nothing_in_phase1_but_counts_in_2022(
    rules, catalog
):
    document = run(
        """
person: {card_applied_on: 2021-05-01}
applications:
  - {measure: phase1, service: paypay, counts: charge, applied_at: 2021-06-01T10:00:00+09:00}
  - {measure: phase2_spending, service: paypay, counts: charge,
     applied_at: 2022-01-05T10:00:00+09:00}
events:
  - {id: y2021, kind: charge, amount: 10000, at: 2021-07-01T12:00:00+09:00}
  - {id: y2022, kind: charge, amount: 10000, at: 2022-01-06T12:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert document["rejected_applications"] == [
        {"index": 0, "measure": "phase1", "code": "not_eligible"}
    ]
    assert reasons(document) == {"y2021": "not_eligible_card_date"}
    assert points(document) == {"y2022": 2500}
    assert document["by_measure"] == {"phase2_spending": 2500}


def test_example_6_measure_2_grants_7500_once_without_spending(rules, catalog):
    document = run(
        """
person: {card_applied_on: 2021-10-01}
applications:
  - {measure: phase2_health_insurance, service: paypay, applied_at: 2022-07-01T10:00:00+09:00}
  - {measure: phase2_health_insurance, service: waon, applied_at: 2022-07-02T10:00:00+09:00}
""",
        rules,
        catalog,
    )
    assert document["total_points"] == 7500
    assert document["grants"] == [
        {
            "event_id": None,
            "application": 0,
            "measure": "phase2_health_insurance",
            "points": 7500,
            "grant_on": "2022-07-01",
        }
    ]
    assert document["rejected_applications"] == [
        {"index": 1, "measure": "phase2_health_insurance", "code": "already_applied"}
    ]


def test_example_10_a_refund_of_8000_claws_back_2000(rules, catalog):
    document = run(
        """
person: {card_applied_on: 2020-06-01}
applications:
  - {measure: phase1, service: paypay, counts: purchase, applied_at: 2020-09-01T09:00:00+09:00}
events:
  - {id: buy, kind: purchase, amount: 20000, at: 2020-10-05T12:00:00+09:00}
  - {id: back, kind: refund, amount: 8000, at: 2020-10-20T12:00:00+09:00, refund_of: buy}
""",
        rules,
        catalog,
    )
    assert document["grants"] == [
        {
            "event_id": "buy",
            "application": 0,
            "measure": "phase1",
            "points": 5000,
            "grant_on": "2020-11-05",
        },
        {
            "event_id": "back",
            "application": 0,
            "measure": "phase1",
            "points": -2000,
            "grant_on": "2020-11-20",
        },
    ]
    assert document["total_points"] == 3000
