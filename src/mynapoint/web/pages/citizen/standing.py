"""What a signed-in person may apply for now, asked of the campaign rules before any input.

The same domain check the application itself runs (domain/applications.py `refusal_for`,
and `person_refusal` before a service is chosen), with the same refusal the API answers
(services/refusals.py `refusal_error`, whose details carry the rule: the card cut-off,
the moment a waiting time ends), so the page offers only what can succeed and says why not,
with the rule and what to do instead. The application still decides: a race or a change of
facts between the form and the commit ends in the same refusal, shown next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mynapoint.bootstrap import Platform
from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.auth import Session
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.cards import CardFacts
from mynapoint.domain.measures import ApplicationRefusal, Measure, MeasureKind
from mynapoint.domain.representatives import (
    Representation,
    representation_for,
    represented_because,
)
from mynapoint.domain.services import PaymentService
from mynapoint.services.applications import applications_of
from mynapoint.services.refusals import ApplicationRefused, person_standing, refusal_error
from mynapoint.web.error_messages import message_for
from mynapoint.web.i18n import _, current_locale


@dataclass(frozen=True)
class MeasureChoice:
    measure: Measure
    name: str
    kind: MeasureKind


@dataclass(frozen=True)
class RefusedChoice:
    """A measure open now but not to this person: why (with the rule), and what to do."""

    choice: MeasureChoice
    code: str  # the refusal's stable code (already_applied, not_eligible, …)
    why: str
    next_step: str | None


@dataclass(frozen=True)
class Standing:
    open: list[MeasureChoice]  # measures the person can apply for now with this service
    refused: list[RefusedChoice]  # measures open now but not to this person, and why
    closed: str | None  # why nothing at all can be applied for with this service now


@dataclass(frozen=True)
class PersonStanding:
    """Before a service is chosen: what this card holder can apply for now, with any service."""

    open: list[MeasureChoice]
    refused: list[RefusedChoice]
    representative: str | None  # the R14 sentence when the legal representative applies

    @property
    def nothing_open(self) -> bool:
        return not self.open

    def without_applied(self) -> PersonStanding:
        """For my page, which lists the applications already: the other refusals only."""
        others = [r for r in self.refused if r.code != ApplicationRefusal.ALREADY_APPLIED]
        return PersonStanding(self.open, others, self.representative)


def measure_name(rules: CampaignRules, measure: Measure) -> str:
    rule = rules.rule(measure)
    return rule.name_en if current_locale() == "en" else rule.name_ja


def choice_of(rules: CampaignRules, measure: Measure) -> MeasureChoice:
    return MeasureChoice(measure, measure_name(rules, measure), rules.rule(measure).kind)


def explained(rules: CampaignRules, error: ApplicationRefused) -> RefusedChoice:
    measure = Measure(str(error.details["measure"]))
    return RefusedChoice(
        choice_of(rules, measure),
        error.code,
        message_for(error.code, error.details),
        next_step(error),
    )


def next_step(error: ApplicationRefused) -> str | None:
    """What to do instead, where there is something to do."""
    if error.refusal is ApplicationRefusal.ALREADY_APPLIED:
        return _(
            "申込み内容はマイページで確認できます。申し込んだ当日であれば、マイページで取り消して、"
            "別の決済サービスで申し込み直せます。"
        )
    if error.details.get("cause") == "card_cutoff":
        return _(
            "カードの申請日に心当たりがない場合は、お住まいの市区町村の窓口にお問い合わせください。"
            "今後のマイナポイント事業は、決まりしだいトップページでお知らせします。"
        )
    return None


def standing(
    rules: CampaignRules,
    service: PaymentService,
    card: CardFacts,
    held: set[Measure],
    now: datetime,
) -> Standing:
    person = card.person_facts()
    open_now: list[MeasureChoice] = []
    refused: list[RefusedChoice] = []
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
            error = refusal_error(
                refusal, rules, measure, card, now, service_code=service.code, held=held
            )
            refused.append(explained(rules, error))
    nothing = not open_now and not refused
    return Standing(open_now, refused, message_for(closed.value) if nothing else None)


def standing_before_a_service(
    rules: CampaignRules, card: CardFacts, held: set[Measure], now: datetime
) -> PersonStanding:
    """What the person can apply for now, said right after signing in (before any input)."""
    found = person_standing(rules, card, held, now)
    needs = representation(card, now) is Representation.REQUIRED
    because = represented_because(card.birth_date, adult_ward=card.adult_ward, on=jst_date(now))
    return PersonStanding(
        open=[choice_of(rules, s.measure) for s in found if s.refused is None],
        refused=[explained(rules, s.refused) for s in found if s.refused is not None],
        representative=(
            message_for("representative_required", {"reason": because.value}) if needs else None
        ),
    )


def signed_in_standing(platform: Platform, me: Session) -> PersonStanding | None:
    """The standing of the signed-in person (None if the card authority no longer knows the
    card: the page that needs it sends them to sign in again)."""
    card = platform.authority.facts(me.serial)
    if card is None or card.person != me.person:
        return None
    applications = applications_of(platform.unit_of_work(), me.person)
    held = {a.measure for a in applications if a.is_active}
    return standing_before_a_service(platform.rules, card, held, platform.clock.now())


def representation(card: CardFacts, now: datetime) -> Representation:
    """Whether the legal representative may, must or must not apply (RULES.md R14)."""
    return representation_for(card.birth_date, adult_ward=card.adult_ward, on=jst_date(now))


def may_have_representative(card: CardFacts, now: datetime) -> bool:
    """A holder for whom a legal representative may apply (RULES.md R14): a minor or a ward."""
    return representation(card, now) is not Representation.NOT_ALLOWED
