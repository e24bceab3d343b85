"""Read a scenario file (YAML or JSON) for `simulate`, naming the key of every problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from mynapoint.domain.applications import ApplicationRequest
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.errors import InvalidCounts, UnknownService
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.services import Catalog
from mynapoint.rules.loader import validation_message
from mynapoint.rules.schema import Day, Strict, Timestamp, describe
from mynapoint.rules.yaml_source import SourceError, parse_yaml
from mynapoint.services.simulate import Scenario


class ScenarioError(SourceError):
    """A scenario that cannot be evaluated: the message names the key and the expected form."""


class PersonIn(Strict):
    card_applied_on: Day
    card_applied_online: bool = False
    birth_date: Day | None = None
    died_on: Day | None = None
    certificate_issued_at: Timestamp | None = None


class ApplicationIn(Strict):
    measure: Measure
    service: str
    counts: Literal["charge", "purchase"] | None = None
    applied_at: Timestamp


class EventIn(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    id: Annotated[str, Field(min_length=1, max_length=128)]
    kind: EventKind
    amount: Annotated[int, Field(strict=True, gt=0)]
    at: Timestamp
    refund_of: str | None = None


class ScenarioIn(Strict):
    person: PersonIn
    applications: list[ApplicationIn] = []
    events: list[EventIn] = []
    as_of: Day | None = None


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ScenarioError(f"key '{key}' appears twice")
        seen[key] = value
    return seen


def parse_document(text: str, source: str) -> Any:  # noqa: ANN401 - any JSON/YAML value
    if source.lower().endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
            ) from None
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
    try:
        return parse_yaml(text, source)
    except SourceError as exc:
        raise ScenarioError(str(exc)) from None


def scenario_from_text(text: str, source: str, rules: CampaignRules, catalog: Catalog) -> Scenario:
    data = parse_document(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: (top level): expected a mapping with person, applications and events, "
            f"got {describe(data)}"
        )
    try:
        raw = ScenarioIn.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_message(source, exc)) from None
    return _scenario(raw, source, rules, catalog)


def read_scenario(path: Path, rules: CampaignRules, catalog: Catalog) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc}") from None
    return scenario_from_text(text, path.name, rules, catalog)


def _scenario(raw: ScenarioIn, source: str, rules: CampaignRules, catalog: Catalog) -> Scenario:
    person = PersonFacts(
        card_applied_on=raw.person.card_applied_on,
        card_applied_online=raw.person.card_applied_online,
        birth_date=raw.person.birth_date,
        died_on=raw.person.died_on,
        certificate_issued_at=raw.person.certificate_issued_at,
    )
    applications = []
    for index, app in enumerate(raw.applications):
        where = f"{source}: applications[{index}]"
        try:
            service = catalog.get(app.service)
        except UnknownService:
            known = ", ".join(sorted(s.code for s in catalog))
            raise ScenarioError(
                f"{where}.service: '{app.service}' is not in the service catalog; "
                f"expected one of {known}"
            ) from None
        counts = EventKind(app.counts) if app.counts is not None else None
        try:
            service.resolve_counts(rules.rule(app.measure).kind, counts)
        except InvalidCounts as exc:
            raise ScenarioError(f"{where}.counts: {_counts_message(exc, app.measure)}") from None
        applications.append(
            ApplicationRequest(index, app.measure, app.service, app.applied_at, counts)
        )
    events = []
    seen: set[str] = set()
    for index, event in enumerate(raw.events):
        where = f"{source}: events[{index}]"
        if event.id in seen:
            raise ScenarioError(f"{where}.id: '{event.id}' appears twice; ids must be unique")
        seen.add(event.id)
        if event.kind is EventKind.REFUND and event.refund_of is None:
            raise ScenarioError(
                f"{where}.refund_of: a refund needs refund_of, the id of the event it refunds"
            )
        if event.kind is not EventKind.REFUND and event.refund_of is not None:
            raise ScenarioError(
                f"{where}.refund_of: only a refund has refund_of; this event is a {event.kind}"
            )
        events.append(SpendingEvent(event.id, event.kind, event.amount, event.at, event.refund_of))
    return Scenario(person, tuple(applications), tuple(events), raw.as_of)


def _counts_message(error: InvalidCounts, measure: Measure) -> str:
    allowed = error.details.get("allowed")
    if not allowed:
        return f"measure {measure.value} is a fixed grant; leave counts out"
    return error.message
