"""What a signed-in person may apply for now with one service, asked of the campaign rules.

The same domain check the application itself runs (domain/applications.py `refusal_for`),
asked per measure before the form is shown, so the page offers only what can succeed and
says why not otherwise. The application still decides: a race or a change of facts between
the form and the commit ends in the same refusal, shown next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.cards import CardFacts
from mynapoint.domain.measures import ApplicationRefusal, Measure, MeasureKind
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.representatives import Representation, representation_for
from mynapoint.domain.services import PaymentService
from mynapoint.web.error_messages import message_for
from mynapoint.web.i18n import current_locale


@dataclass(frozen=True)
class MeasureChoice:
    measure: Measure
    name: str
    kind: MeasureKind


@dataclass(frozen=True)
class Standing:
    open: list[MeasureChoice]  # measures the person can apply for now with this service
    refused: list[tuple[MeasureChoice, str]]  # measures open now but not to this person, and why
    closed: str | None  # why nothing at all can be applied for with this service now


def measure_name(rules: CampaignRules, measure: Measure) -> str:
    rule = rules.rule(measure)
    return rule.name_en if current_locale() == "en" else rule.name_ja


def choice_of(rules: CampaignRules, measure: Measure) -> MeasureChoice:
    return MeasureChoice(measure, measure_name(rules, measure), rules.rule(measure).kind)


def person_facts(card: CardFacts) -> PersonFacts:
    return PersonFacts(
        card_applied_on=card.card_applied_on,
        card_applied_online=card.card_applied_online,
        birth_date=card.birth_date,
        died_on=card.died_on,
        certificate_issued_at=card.certificate_issued_at,
    )


def standing(
    rules: CampaignRules,
    service: PaymentService,
    card: CardFacts,
    held: set[Measure],
    now: datetime,
) -> Standing:
    person = person_facts(card)
    open_now: list[MeasureChoice] = []
    refused: list[tuple[MeasureChoice, str]] = []
    closed = ApplicationRefusal.APPLICATION_WINDOW_CLOSED
    for measure in Measure:
        if not service.takes_part_in(measure):
            continue
        request = ApplicationRequest(0, measure, service.code, now)
        # Asked first as if nothing were held: a measure whose window is not open now is
        # left out, whatever the person holds (an "already applied" for a measure of next
        # year would only confuse).
        unheld = refusal_for(request, service, person, set(), rules)
        if unheld in {
            ApplicationRefusal.APPLICATION_WINDOW_CLOSED,
            ApplicationRefusal.SERVICE_NOT_ACCEPTING,
        }:
            if unheld is ApplicationRefusal.SERVICE_NOT_ACCEPTING:
                closed = unheld
            continue
        refusal = refusal_for(request, service, person, held, rules)
        if refusal is None:
            open_now.append(choice_of(rules, measure))
        else:
            refused.append((choice_of(rules, measure), message_for(refusal.value)))
    nothing = not open_now and not refused
    return Standing(open_now, refused, message_for(closed.value) if nothing else None)


def representation(card: CardFacts, now: datetime) -> Representation:
    """Whether the legal representative may, must or must not apply (DOMAIN R14)."""
    return representation_for(card.birth_date, adult_ward=card.adult_ward, on=jst_date(now))


def may_have_representative(card: CardFacts, now: datetime) -> bool:
    """A holder for whom a legal representative may apply (DOMAIN R14): a minor or a ward."""
    return representation(card, now) is not Representation.NOT_ALLOWED
