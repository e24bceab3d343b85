"""Campaign rules: the measures, their windows, caps and cut-offs, as values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.domain.versions import Versioned


@dataclass(frozen=True)
class Window:
    """Half-open [starts, ends) of aware instants; compared in absolute time, stated in JST."""

    starts: datetime
    ends: datetime

    def __post_init__(self) -> None:
        if self.ends <= self.starts:
            raise ValueError(
                f"window ends {self.ends.isoformat()} at or before it starts "
                f"{self.starts.isoformat()}"
            )

    def contains(self, at: datetime) -> bool:
        return self.starts <= at < self.ends


@dataclass(frozen=True)
class CardCutoff:
    """Only cards applied for by `applied_by` (inclusive, JST) take part.

    `applied_online_by` relieves online card applications (phase 2 accepted
    online applications made on 2023-03-01, the day after the deadline).
    """

    applied_by: date
    applied_online_by: date | None = None

    def admits(self, card_applied_on: date, *, online: bool) -> bool:
        if card_applied_on <= self.applied_by:
            return True
        return (
            online
            and self.applied_online_by is not None
            and (card_applied_on <= self.applied_online_by)
        )


@dataclass(frozen=True)
class BudgetFrame:
    phase: str
    yen: int
    persons: int
    announced: date


@dataclass(frozen=True)
class MeasureRule:
    measure: Measure
    phase: str
    name_ja: str
    name_en: str
    kind: MeasureKind
    announced: date
    applications_open: datetime
    applications_close: Versioned[datetime]
    card_cutoff: Versioned[CardCutoff | None]
    waiting_after_issuance: timedelta
    rate_percent: int = 0  # spending measures
    cap_group: str | None = None  # spending measures sharing one running total and cap
    fixed_points: int = 0  # fixed measures
    spending_opens: datetime | None = None
    spending_closes: Versioned[datetime] | None = None
    carries_into: Measure | None = None  # an application for this measure also covers that one
    notes: tuple[str, ...] = ()
    # Terms depend only on the JST day and as_of; the engine asks for them per event.
    _terms: dict[tuple[date, date | None], MeasureTerms | None] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def is_announced(self, as_of: date | None) -> bool:
        return as_of is None or self.announced <= as_of

    def terms_at(self, at: datetime, as_of: date | None) -> MeasureTerms | None:
        """What governs an action at `at`, as announced by `as_of`; None if not yet announced."""
        day = jst_date(at)
        key = (day, as_of)
        if key not in self._terms:
            self._terms[key] = self._terms_on(day, as_of)
        return self._terms[key]

    def _terms_on(self, day: date, as_of: date | None) -> MeasureTerms | None:
        if not self.is_announced(as_of):
            return None
        closes = self.applications_close.version_on(day, as_of)
        cutoff = self.card_cutoff.version_on(day, as_of)
        if closes is None or cutoff is None:
            return None
        spending: Window | None = None
        if self.spending_opens is not None and self.spending_closes is not None:
            spending_close = self.spending_closes.version_on(day, as_of)
            if spending_close is None:
                return None
            spending = Window(self.spending_opens, spending_close.value)
        return MeasureTerms(
            rule=self,
            applications=Window(self.applications_open, closes.value),
            spending=spending,
            card_cutoff=cutoff.value,
        )


@dataclass(frozen=True)
class MeasureTerms:
    rule: MeasureRule
    applications: Window
    spending: Window | None
    card_cutoff: CardCutoff | None

    def admits_card(self, card_applied_on: date, *, online: bool) -> bool:
        return self.card_cutoff is None or self.card_cutoff.admits(card_applied_on, online=online)


@dataclass(frozen=True)
class CampaignRules:
    measures: Mapping[Measure, MeasureRule]
    cap_groups: Mapping[str, int]  # group -> cap in points (yen)
    person_total_cap: int
    budget_frames: tuple[BudgetFrame, ...] = ()

    def rule(self, measure: Measure) -> MeasureRule:
        return self.measures[measure]

    _spending: tuple[MeasureRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spending = tuple(r for r in self.measures.values() if r.kind is MeasureKind.SPENDING)
        object.__setattr__(self, "_spending", spending)

    def spending_measures(self) -> tuple[MeasureRule, ...]:
        return self._spending

    def program_spending_start(self, as_of: date | None) -> datetime | None:
        starts = [
            r.spending_opens
            for r in self.spending_measures()
            if r.spending_opens is not None and r.is_announced(as_of)
        ]
        return min(starts) if starts else None

    def spending_terms_at(self, at: datetime, as_of: date | None) -> MeasureTerms | None:
        """The first spending measure whose spending window holds `at`."""
        found = self.spending_terms_all_at(at, as_of)
        return found[0] if found else None

    def spending_terms_all_at(self, at: datetime, as_of: date | None) -> tuple[MeasureTerms, ...]:
        """Every spending measure whose spending window holds `at`, in the rules' order. The
        rules in force never overlap two windows; a candidate may (phase 1 extended into phase
        2's months), and the engine then judges an event by the first that takes it."""
        found = []
        for rule in self.spending_measures():
            terms = rule.terms_at(at, as_of)
            if terms is not None and terms.spending is not None and terms.spending.contains(at):
                found.append(terms)
        return tuple(found)

    def carried_from(self, measure: Measure) -> tuple[Measure, ...]:
        """Measures whose applications also cover `measure` (phase 1 into measure 1)."""
        return tuple(r.measure for r in self.measures.values() if r.carries_into is measure)
