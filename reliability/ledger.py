"""What a database holds after a run, and how it differs from what it must hold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reliability.cluster import Cluster
from reliability.dataset import OPERATOR, EventFacts

Source = tuple[str, str, str]  # (person, source, measure); source is event:ID or application:ID


@dataclass(frozen=True)
class Ledger:
    events: dict[str, EventFacts]
    points: dict[Source, int]  # net points per source, zero sums left out
    instructions: int
    pending: int  # pending_evaluations rows: persons whose events were never evaluated

    @property
    def total(self) -> int:
        return sum(self.points.values())

    def by_person(self) -> dict[str, int]:
        sums: dict[str, int] = defaultdict(int)
        for (person, _, _), points in self.points.items():
            sums[person] += points
        return {person: points for person, points in sums.items() if points}


def read_ledger(cluster: Cluster, database: str) -> Ledger:
    events = {
        str(event_id): EventFacts(str(account), str(kind), int(str(amount)), _text(refund_of))
        for event_id, account, kind, amount, refund_of in cluster.rows(
            "SELECT event_id, payment_service_id, kind, amount, refund_of FROM spending_events "
            "WHERE operator_code = %s",
            database,
            (OPERATOR,),
        )
    }
    points = {
        (str(person), str(source), str(measure)): int(str(total))
        for person, source, measure, total in cluster.rows(
            "SELECT person, source, measure, sum(points) FROM grant_lines "
            "GROUP BY person, source, measure HAVING sum(points) <> 0",
            database,
        )
    }
    ((instructions,),) = cluster.rows("SELECT count(*) FROM grant_instructions", database)
    ((pending,),) = cluster.rows("SELECT count(*) FROM pending_evaluations", database)
    return Ledger(events, points, int(str(instructions)), int(str(pending)))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Differences:
    missing_events: int  # valid events not stored
    unexpected_events: int  # stored events that are not in the input, or stored otherwise
    short_sources: int  # a grant or clawback of the reference missing or smaller
    doubled_sources: int  # a grant or clawback larger than the reference's (made twice)
    points: int
    reference_points: int
    instructions: int
    reference_instructions: int
    pending: int

    @property
    def lost(self) -> int:
        return self.missing_events + self.short_sources

    @property
    def doubled(self) -> int:
        return self.unexpected_events + self.doubled_sources

    def problems(self, *, compare_instructions: bool = False) -> list[str]:
        found = []
        if self.missing_events:
            found.append(f"{self.missing_events:,} valid events not stored")
        if self.unexpected_events:
            found.append(f"{self.unexpected_events:,} events stored that were not sent so")
        if self.short_sources or self.doubled_sources:
            found.append(
                f"points {self.points:,} vs reference {self.reference_points:,} "
                f"({self.short_sources:,} events short, {self.doubled_sources:,} over)"
            )
        if compare_instructions and self.instructions != self.reference_instructions:
            found.append(
                f"{self.instructions:,} instructions vs {self.reference_instructions:,} "
                "in a clean run"
            )
        if self.pending:
            found.append(f"{self.pending} batches of persons left pending evaluation")
        return found


def compare(
    ledger: Ledger,
    expected: dict[str, EventFacts],
    reference: Ledger,
    *,
    only: set[str] | None = None,
) -> Differences:
    """`ledger` against the events that must be stored and a clean run's ledger. With
    `only`, just those event ids (and their sources) are looked at."""
    stored = (
        ledger.events if only is None else {k: v for k, v in ledger.events.items() if k in only}
    )
    mine = _sources(ledger, only)
    theirs = _sources(reference, only)
    keys = mine.keys() | theirs.keys()
    return Differences(
        missing_events=sum(1 for event_id in expected if event_id not in stored),
        unexpected_events=sum(1 for k, v in stored.items() if expected.get(k) != v),
        short_sources=sum(1 for k in keys if _short(mine.get(k, 0), theirs.get(k, 0))),
        doubled_sources=sum(1 for k in keys if _over(mine.get(k, 0), theirs.get(k, 0))),
        points=sum(mine.values()),
        reference_points=sum(theirs.values()),
        instructions=ledger.instructions,
        reference_instructions=reference.instructions,
        pending=ledger.pending,
    )


def _short(points: int, reference: int) -> bool:
    """Less granted, or less clawed back, than the reference: something was not done."""
    return abs(points) < abs(reference) and (points == 0 or (points > 0) == (reference > 0))


def _over(points: int, reference: int) -> bool:
    """More granted or clawed back than the reference, or the other way round: done twice."""
    return points != reference and not _short(points, reference)


def _sources(ledger: Ledger, only: set[str] | None) -> dict[Source, int]:
    if only is None:
        return ledger.points
    return {
        key: points
        for key, points in ledger.points.items()
        if key[1].removeprefix("event:") in only
    }
