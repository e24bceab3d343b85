"""Evaluate a scenario with the campaign rules: the use case behind `mynapoint simulate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.points import Outcome, evaluate
from mynapoint.domain.services import Catalog


@dataclass(frozen=True)
class Scenario:
    person: PersonFacts
    applications: Sequence[ApplicationRequest] = ()
    events: Sequence[SpendingEvent] = field(default_factory=tuple)
    as_of: date | None = None


def simulate(scenario: Scenario, rules: CampaignRules, catalog: Catalog) -> Outcome:
    return evaluate(
        scenario.person,
        scenario.applications,
        scenario.events,
        rules,
        catalog,
        scenario.as_of,
    )


def outcome_document(outcome: Outcome) -> dict[str, Any]:
    """The JSON shape of INTERFACES.md, keys in the documented order."""
    return {
        "total_points": outcome.total_points,
        "by_measure": {measure.value: points for measure, points in outcome.by_measure.items()},
        "grants": [
            {
                "event_id": grant.event_id,
                "application": grant.application,
                "measure": grant.measure.value,
                "points": grant.points,
                "grant_on": grant.grant_on.isoformat(),
            }
            for grant in outcome.grants
        ],
        "ignored": [
            {"event_id": ignored.event_id, "reason": ignored.reason.value}
            for ignored in outcome.ignored
        ],
        "rejected_applications": [
            {
                "index": rejected.index,
                "measure": rejected.measure.value,
                "code": rejected.code.value,
            }
            for rejected in outcome.rejected_applications
        ],
    }
