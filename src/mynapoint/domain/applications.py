"""Who may apply for which measure, when, with which service (RULES.md R3, R10-R13, R15)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.measures import ApplicationRefusal, EventKind, Measure
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.services import PaymentService


@dataclass(frozen=True)
class ApplicationRequest:
    index: int
    measure: Measure
    service_code: str
    applied_at: datetime
    counts: EventKind | None = None
    # The linked (service_code, payment_service_id); None in scenarios, where every event
    # is on the applied service.
    account: tuple[str, str] | None = None


def refusal_for(
    request: ApplicationRequest,
    service: PaymentService,
    person: PersonFacts,
    applied_measures: Collection[Measure],
    rules: CampaignRules,
    as_of: date | None = None,
) -> ApplicationRefusal | None:
    """Why this application is refused, or None when it stands.

    `applied_measures` are the measures the person already holds an application
    for; a phase-1 application also stands for measure 1 (RULES.md R3).
    """
    return _refusal(
        request.measure, request.applied_at, service, person, applied_measures, rules, as_of
    )


def person_refusal(
    measure: Measure,
    at: datetime,
    person: PersonFacts,
    applied_measures: Collection[Measure],
    rules: CampaignRules,
    as_of: date | None = None,
) -> ApplicationRefusal | None:
    """`refusal_for` without a service: why this person cannot apply for `measure` at `at`
    with any service, asked before they choose one (the pages say it before any input)."""
    return _refusal(measure, at, None, person, applied_measures, rules, as_of)


def _refusal(
    measure: Measure,
    at: datetime,
    service: PaymentService | None,
    person: PersonFacts,
    applied_measures: Collection[Measure],
    rules: CampaignRules,
    as_of: date | None,
) -> ApplicationRefusal | None:
    if measure in applied_measures or any(
        carried in applied_measures for carried in rules.carried_from(measure)
    ):
        return ApplicationRefusal.ALREADY_APPLIED
    rule = rules.measures.get(measure)
    terms = rule.terms_at(at, as_of) if rule is not None else None
    if terms is None or not terms.applications.contains(at):
        return ApplicationRefusal.APPLICATION_WINDOW_CLOSED
    if service is not None and (not service.takes_part_in(measure) or service.is_closed_at(at)):
        return ApplicationRefusal.SERVICE_NOT_ACCEPTING
    if not terms.admits_card(person.card_applied_on, online=person.card_applied_online):
        return ApplicationRefusal.NOT_ELIGIBLE
    if person.is_deceased_at(at):
        return ApplicationRefusal.NOT_ELIGIBLE
    issued = person.certificate_issued_at
    if issued is not None and at < issued + terms.rule.waiting_after_issuance:
        return ApplicationRefusal.WAITING_PERIOD
    return None
