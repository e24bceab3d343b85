"""The points engine: one person's applications and events in, grants and reasons out.

The one piece of code that computes points: `mynapoint simulate`, the API and
batch intake all call `evaluate`. It is pure: the rules, the catalog and the
person's facts come in as values, and the same input gives the same output,
whatever order the events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.calendar import as_utc, jst_date
from mynapoint.domain.campaigns import CampaignRules, MeasureTerms
from mynapoint.domain.caps import CapLedger
from mynapoint.domain.errors import InvalidEvent
from mynapoint.domain.events import SpendingEvent
from mynapoint.domain.measures import (
    ApplicationRefusal,
    EventKind,
    IgnoreReason,
    Measure,
    MeasureKind,
)
from mynapoint.domain.persons import PersonFacts
from mynapoint.domain.services import Catalog, PaymentService


@dataclass(frozen=True)
class Grant:
    """Points for one counted event or refund (negative: a clawback), or a fixed grant."""

    event_id: str | None
    application: int
    measure: Measure
    points: int
    grant_on: date


@dataclass(frozen=True)
class Ignored:
    event_id: str
    reason: IgnoreReason


@dataclass(frozen=True)
class RejectedApplication:
    index: int
    measure: Measure
    code: ApplicationRefusal


@dataclass(frozen=True)
class Outcome:
    grants: tuple[Grant, ...]
    ignored: tuple[Ignored, ...]
    rejected_applications: tuple[RejectedApplication, ...]
    by_measure: Mapping[Measure, int]

    @property
    def total_points(self) -> int:
        return sum(self.by_measure.values())


@dataclass(frozen=True)
class _Accepted:
    request: ApplicationRequest
    service: PaymentService
    counted_kind: EventKind | None


@dataclass
class _Counted:
    """An event that entered a running total; refunds lower its net amount."""

    application: _Accepted
    measure: Measure
    group: str
    net_yen: int


@dataclass
class _State:
    person: PersonFacts
    rules: CampaignRules
    catalog: Catalog
    as_of: date | None
    events: Mapping[str, SpendingEvent]
    # When the first spending measure opens (as announced by as_of), worked out once.
    spending_start: datetime | None
    accepted: dict[Measure, _Accepted] = field(default_factory=dict)
    ledgers: dict[str, CapLedger] = field(default_factory=dict)
    held: dict[Measure, int] = field(default_factory=dict)
    earned_under: dict[Measure, int] = field(default_factory=dict)
    counted: dict[str, _Counted] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    rejected: list[RejectedApplication] = field(default_factory=list)

    def ledger(self, group: str, rate_percent: int) -> CapLedger:
        if group not in self.ledgers:
            self.ledgers[group] = CapLedger(self.rules.cap_groups[group], rate_percent)
        return self.ledgers[group]

    def grant(
        self, event_id: str | None, application: int, measure: Measure, points: int, grant_on: date
    ) -> None:
        self.held[measure] = self.held.get(measure, 0) + points
        self.earned_under.setdefault(measure, application)
        self.grants.append(Grant(event_id, application, measure, points, grant_on))

    def ignore(self, event: SpendingEvent, reason: IgnoreReason) -> None:
        self.ignored.append(Ignored(event.event_id, reason))


def evaluate(
    person: PersonFacts,
    applications: Sequence[ApplicationRequest],
    events: Iterable[SpendingEvent],
    rules: CampaignRules,
    catalog: Catalog,
    as_of: date | None = None,
) -> Outcome:
    """Evaluate one person's whole history under the rules as announced by `as_of`.

    Raises UnknownService, InvalidCounts or InvalidEvent for input that no rule
    can judge; everything a rule can judge ends up in the outcome.
    """
    by_id: dict[str, SpendingEvent] = {}
    for event in events:
        if event.event_id in by_id:
            raise InvalidEvent(
                f"event id '{event.event_id}' appears twice", event_id=event.event_id, field="id"
            )
        by_id[event.event_id] = event
    state = _State(person, rules, catalog, as_of, by_id, rules.program_spending_start(as_of))
    for _key, item in sorted(_timeline(applications, by_id), key=lambda pair: pair[0]):
        if isinstance(item, ApplicationRequest):
            _apply(state, item)
        elif item.is_refund:
            _refund(state, item)
        else:
            _spend(state, item)
    measures = set(state.accepted) | set(state.held)
    by_measure = {m: state.held.get(m, 0) for m in _MEASURES if m in measures}
    rejected = tuple(sorted(state.rejected, key=lambda r: r.index))
    return Outcome(tuple(state.grants), tuple(state.ignored), rejected, by_measure)


_SortKey = tuple[datetime, int, int, str]
_MEASURES = tuple(Measure)  # in their declared order (iterating the Enum itself is slower)


def _timeline(
    applications: Sequence[ApplicationRequest], events: Mapping[str, SpendingEvent]
) -> Iterable[tuple[_SortKey, ApplicationRequest | SpendingEvent]]:
    # An application at the same instant as an event comes first (an event at
    # exactly applied_at counts); a refund never comes before what it refunds.
    for request in applications:
        yield (as_utc(request.applied_at), 0, request.index, ""), request
    # Events are aware (SpendingEvent checks), and aware datetimes compare as instants
    # whatever their offsets: no conversion needed.
    for event in events.values():
        at = event.at
        if event.is_refund:
            original = events.get(event.refund_of or "")
            if original is not None:
                at = max(at, original.at)
            yield (at, 2, 0, event.event_id), event
        else:
            yield (at, 1, 0, event.event_id), event


def _apply(state: _State, request: ApplicationRequest) -> None:
    service = state.catalog.get(request.service_code)
    rule = state.rules.measures.get(request.measure)
    kind = rule.kind if rule is not None else MeasureKind.SPENDING
    counted_kind = service.resolve_counts(kind, request.counts)
    refusal = refusal_for(
        request, service, state.person, state.accepted.keys(), state.rules, state.as_of
    )
    if refusal is not None or rule is None:
        code = refusal or ApplicationRefusal.APPLICATION_WINDOW_CLOSED
        state.rejected.append(RejectedApplication(request.index, request.measure, code))
        return
    accepted = _Accepted(request, service, counted_kind)
    state.accepted[request.measure] = accepted
    if rule.kind is MeasureKind.FIXED:
        # R19: the fixed grant is dated as if it were a charge at the application instant.
        grant_on = service.grant_on(None, jst_date(request.applied_at))
        state.grant(None, request.index, request.measure, rule.fixed_points, grant_on)


def _covering(state: _State, measure: Measure) -> _Accepted | None:
    accepted = state.accepted.get(measure)
    if accepted is not None:
        return accepted
    for carried in state.rules.carried_from(measure):
        if carried in state.accepted:
            return state.accepted[carried]
    return None


def _spend(state: _State, event: SpendingEvent) -> None:
    judged = _judge(state, event)
    if isinstance(judged, IgnoreReason):
        state.ignore(event, judged)
        return
    terms, application = judged
    group = terms.rule.cap_group or ""
    measure = terms.rule.measure
    ledger = state.ledger(group, terms.rule.rate_percent)
    already_capped = ledger.is_reached()
    before = ledger.points()
    ledger.add(application.service.rounding, event.amount)
    state.counted[event.event_id] = _Counted(application, measure, group, event.amount)
    if already_capped:
        state.ignore(event, IgnoreReason.CAP_REACHED)
        return
    grant_on = application.service.grant_on(application.counted_kind, jst_date(event.at))
    state.grant(
        event.event_id, application.request.index, measure, ledger.points() - before, grant_on
    )


def _judge(state: _State, event: SpendingEvent) -> IgnoreReason | tuple[MeasureTerms, _Accepted]:
    """Why a charge or purchase earns nothing, or the terms and application it counts under."""
    start = state.spending_start
    if start is None or event.at < start:
        return IgnoreReason.BEFORE_PROGRAM_START
    found = state.rules.spending_terms_all_at(event.at, state.as_of)
    if not found:
        return IgnoreReason.AFTER_DEADLINE
    # Where windows overlap (a candidate's, never the rules in force), the first measure that
    # takes the event judges it; if none does, the first one's reason stands.
    first: IgnoreReason | None = None
    for terms in found:
        judged = _judge_under(state, event, terms)
        if not isinstance(judged, IgnoreReason):
            return judged
        first = first or judged
    assert first is not None  # noqa: S101 - found is not empty
    return first


def _judge_under(
    state: _State, event: SpendingEvent, terms: MeasureTerms
) -> IgnoreReason | tuple[MeasureTerms, _Accepted]:
    person = state.person
    if not terms.admits_card(person.card_applied_on, online=person.card_applied_online):
        return IgnoreReason.NOT_ELIGIBLE_CARD_DATE
    application = _covering(state, terms.rule.measure)
    if application is None or not _same_account(event, application):
        # No spending application covers this event's account (yet).
        return IgnoreReason.BEFORE_APPLICATION
    service = application.service
    if service.is_closed_at(event.at) or not service.takes_part_in(terms.rule.measure):
        return IgnoreReason.SERVICE_CLOSED
    if person.is_deceased_at(event.at):
        return IgnoreReason.HOLDER_DECEASED
    if event.kind is not application.counted_kind:
        return IgnoreReason.NOT_COUNTED_KIND
    return terms, application


def _same_account(event: SpendingEvent, application: _Accepted) -> bool:
    linked = application.request.account
    return event.account is None or linked is None or event.account == linked


def _refund(state: _State, refund: SpendingEvent) -> None:
    original = state.events.get(refund.refund_of or "")
    if original is None or original.is_refund:
        state.ignore(refund, IgnoreReason.UNKNOWN_ORIGINAL)
        return
    counted = state.counted.get(original.event_id)
    if counted is None:
        # R8: an event that never entered the running total has nothing to lower.
        state.ignore(refund, IgnoreReason.REFUND_OF_UNCOUNTED)
        return
    service = counted.application.service
    ledger = state.ledgers[counted.group]
    before = ledger.points()
    net_after = max(0, counted.net_yen - refund.amount)
    ledger.lower(service.rounding, counted.net_yen, net_after)
    counted.net_yen = net_after
    clawback = before - ledger.points()
    grant_on = service.grant_on(counted.application.counted_kind, jst_date(refund.at))
    if clawback == 0:
        state.grant(
            refund.event_id, counted.application.request.index, counted.measure, 0, grant_on
        )
        return
    # R8: taken from the measures holding the points, most recent first; none goes negative.
    group_measures = [
        rule.measure for rule in state.rules.spending_measures() if rule.cap_group == counted.group
    ]
    for measure in reversed(group_measures):
        take = min(state.held.get(measure, 0), clawback)
        if take > 0:
            state.grant(refund.event_id, state.earned_under[measure], measure, -take, grant_on)
            clawback -= take
        if clawback == 0:
            break
