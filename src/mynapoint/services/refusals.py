"""Why a person cannot apply for a measure, said with the facts and the rule that explain it
(RULES.md R3, R10-R13): the refusal the API answers, and each open measure's standing that the
pages show before anything is typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mynapoint.domain.applications import person_refusal
from mynapoint.domain.calendar import jst_date, to_jst
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.cards import CardFacts
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import ApplicationRefusal, Measure


class ApplicationRefused(MynapointError):
    """A refusal of the campaign rules; its code is the refusal's (already_applied, …)."""

    def __init__(self, refusal: ApplicationRefusal, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.code = refusal.value
        self.refusal = refusal


def refusal_error(
    refusal: ApplicationRefusal,
    rules: CampaignRules,
    measure: Measure,
    holder: CardFacts,
    at: datetime,
    *,
    service_code: str | None = None,
    held: set[Measure] | None = None,
) -> ApplicationRefused:
    """The refusal as the API answers it, with the facts and the rule that explain it (the
    pages say the same before any input, from these details)."""
    rule = rules.rule(measure)
    at_text = to_jst(at).isoformat(timespec="minutes")
    details: dict[str, object] = {"measure": measure.value}
    if refusal is ApplicationRefusal.ALREADY_APPLIED:
        carried = [m for m in rules.carried_from(measure) if held and m in held]
        if carried:
            message = (
                f"your {carried[0].value} application carries into {measure.value} with the "
                "same service; there is nothing more to apply for"
            )
            details["carried_from"] = carried[0].value
        else:
            message = (
                f"you have applied for {measure.value} already; an application cannot be "
                "changed (only cancelled on its own day)"
            )
    elif refusal is ApplicationRefusal.APPLICATION_WINDOW_CLOSED:
        message = f"applications for {measure.value} ({rule.name_en}) are not open at {at_text}"
    elif refusal is ApplicationRefusal.SERVICE_NOT_ACCEPTING:
        message = f"service '{service_code}' takes no {measure.value} applications at {at_text}"
        details["service_code"] = service_code
    elif refusal is ApplicationRefusal.WAITING_PERIOD:
        opens = holder.certificate_issued_at + rule.waiting_after_issuance
        message = (
            f"the certificate was issued at "
            f"{to_jst(holder.certificate_issued_at).isoformat(timespec='minutes')}; "
            f"{measure.value} can be applied for from {to_jst(opens).isoformat(timespec='minutes')}"
        )
        details["applies_from"] = to_jst(opens).isoformat()
    else:
        message = _not_eligible(rules, measure, holder, at, details)
    return ApplicationRefused(refusal, message, **details)


def _not_eligible(
    rules: CampaignRules,
    measure: Measure,
    holder: CardFacts,
    at: datetime,
    details: dict[str, object],
) -> str:
    """Why a person is not eligible: the day of death, or the card cut-off (R10, R12)."""
    if holder.died_on is not None and jst_date(at) >= holder.died_on:
        details["cause"] = "holder_deceased"
        return f"the card holder died on {holder.died_on}; no application can be made"
    applied: date = holder.card_applied_on
    details["cause"] = "card_cutoff"
    details["card_applied_on"] = applied.isoformat()
    terms = rules.rule(measure).terms_at(at, None)
    cutoff = None if terms is None else terms.card_cutoff
    if cutoff is None:
        return f"{measure.value} at this date is not open to this card (applied for on {applied})"
    details["card_applied_by"] = cutoff.applied_by.isoformat()
    online = ""
    if cutoff.applied_online_by is not None:
        details["card_applied_online_by"] = cutoff.applied_online_by.isoformat()
        online = f" (online applications by {cutoff.applied_online_by})"
    return (
        f"{measure.value} at this date is for cards applied for by {cutoff.applied_by}{online}; "
        f"this card was applied for on {applied}"
    )


@dataclass(frozen=True)
class MeasureStanding:
    """One measure taking applications now, and why this person cannot apply (None: they can)."""

    measure: Measure
    refused: ApplicationRefused | None


def person_standing(
    rules: CampaignRules, holder: CardFacts, held: set[Measure], now: datetime
) -> list[MeasureStanding]:
    """Per measure whose applications are open now: whether this card holder can apply with
    any service, and the refusal that says why not (the application's own checks,
    domain/applications.py, asked before anything is typed)."""
    person = holder.person_facts()
    found = []
    for measure in rules.measures:
        if person_refusal(measure, now, person, set(), rules) in _NOT_OPEN:
            continue  # not taking applications now: nobody's standing to speak of
        refusal = person_refusal(measure, now, person, held, rules)
        error = (
            None
            if refusal is None
            else refusal_error(refusal, rules, measure, holder, now, held=held)
        )
        found.append(MeasureStanding(measure, error))
    return found


_NOT_OPEN = frozenset({ApplicationRefusal.APPLICATION_WINDOW_CLOSED})
