"""Counterfactual replay (issue 16): every applicant's recorded applications and events judged
again by the one engine under candidate rules, beside what was actually granted. Read-only: a
replay reads histories and writes no grant, no reason, nothing.

Without `as_of`, "actual" is what the ledger recorded (the grant instructions' lines), and each
person is also judged under the rules in force: a person whose verdict differs from the
record is counted as mismatched — 0 when the ledger is up to date, the check that keeps the
tool honest. With `as_of` D, the history is cut to what the platform had recorded by the end
of D (applications made, events occurred and received, cancellations made by then), both
rule sets are read as announced by D, and "actual" is the verdict of the rules in force on
that history.

A `sample` judges only the applicants whose hash falls below the fraction (the same persons in
every run); the totals are then estimated by Horvitz-Thompson (each sampled person stands for
1/fraction persons), with the standard error sqrt((1 - f) · Σy²) / f of Bernoulli sampling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from mynapoint.domain.calendar import start_of_jst_day
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.ledger import StoredApplication, StoredEvent
from mynapoint.domain.measures import Measure
from mynapoint.domain.municipalities import UNKNOWN
from mynapoint.domain.replay_tally import ALL, DIMENSIONS, PersonPoints, Tally, age_band
from mynapoint.domain.services import Catalog
from mynapoint.services.ledger import History, evaluate_person
from mynapoint.services.ports import UnitOfWork

# Persons judged together by one process (one read of their histories per REPLAY_BATCH).
REPLAY_CHUNK = 2_000
REPLAY_BATCH = 250  # as services.ledger.REEVALUATE_BATCH: the memory of one read
APPLICANTS_PAGE = 10_000
Z_95 = 1.96


@dataclass(frozen=True)
class ReplayRules:
    """What one replay judges with: both rule sets, the catalog, the cut and the day ages are
    taken on. Sent as it is to every worker process."""

    in_force: CampaignRules
    candidate: CampaignRules
    catalog: Catalog
    as_of: date | None
    on: date


def sampled(person: str, fraction: float) -> bool:
    """Whether `person` is in a sample of `fraction` (0 < fraction <= 1): a hash, so the same
    persons in every run and on every process."""
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(person.encode(), digest_size=8, person=b"mynareplay").digest()
    return int.from_bytes(digest) < fraction * 2**64


def cut(history: History, as_of: date) -> History:
    """The history as the platform had recorded it by the end of `as_of` (JST)."""
    end = start_of_jst_day(as_of + timedelta(days=1))
    applications: list[StoredApplication] = [
        a if a.cancelled_at is None or a.cancelled_at < end else replace(a, cancelled_at=None)
        for a in history.applications
        if a.applied_at < end
    ]
    events: list[StoredEvent] = [
        e for e in history.events if e.occurred_at < end and e.received_at < end
    ]
    return History(history.snapshot, applications, events, [])


def _points(by_measure: dict[Measure, int]) -> dict[str, int]:
    return {str(m): p for m, p in by_measure.items() if p != 0}


def _at_cap(points: dict[str, int], rules: CampaignRules) -> bool:
    held: dict[str, int] = {}
    for measure, value in points.items():
        rule = rules.measures.get(Measure(measure))
        if rule is not None and rule.cap_group is not None:
            held[rule.cap_group] = held.get(rule.cap_group, 0) + value
    return any(held.get(group, 0) >= cap for group, cap in rules.cap_groups.items())


def judge_person(history: History, rules: ReplayRules) -> tuple[PersonPoints, bool]:
    """The person's points actually and under the candidate, and whether the rules in force
    disagree with the recorded grants (always False with as_of)."""
    if rules.as_of is not None:
        history = cut(history, rules.as_of)
    snapshot, applications, events = history.snapshot, history.applications, history.events
    in_force = evaluate_person(
        snapshot, applications, events, rules.in_force, rules.catalog, rules.as_of
    )[0]
    candidate = evaluate_person(
        snapshot, applications, events, rules.candidate, rules.catalog, rules.as_of
    )[0]
    verdict = _points(dict(in_force.by_measure))
    mismatched = False
    if rules.as_of is None:
        recorded: dict[str, int] = {}
        for _source, measure, points in history.instructed:
            recorded[measure] = recorded.get(measure, 0) + points
        actual = {m: p for m, p in recorded.items() if p != 0}
        mismatched = actual != verdict
    else:
        actual = verdict
    proposed = _points(dict(candidate.by_measure))
    ordered = sorted(applications, key=lambda a: (a.cancelled_at is not None, a.applied_at))
    service = ordered[0].service_code if ordered else "none"
    return (
        PersonPoints(
            actual=actual,
            candidate=proposed,
            service=service,
            age=age_band(snapshot.birth_date, rules.on),
            ward=snapshot.municipality or UNKNOWN,
            actual_at_cap=_at_cap(actual, rules.in_force),
            candidate_at_cap=_at_cap(proposed, rules.candidate),
        ),
        mismatched,
    )


def replay_chunk(
    new_uow: Callable[[], UnitOfWork], rules: ReplayRules, persons: list[str]
) -> Tally:
    """One chunk of a replay, read outside any transaction (a module function: a worker
    process runs it)."""
    tally = Tally()
    uow = new_uow()
    for start in range(0, len(persons), REPLAY_BATCH):
        batch = persons[start : start + REPLAY_BATCH]
        with uow.reading():
            snapshots = uow.persons.get_many(batch)
            applications = uow.applications.for_persons(batch)
            events = uow.events.for_persons(batch)
            lines = uow.grants.lines_for_persons(batch)
        for person in batch:
            snapshot = snapshots.get(person)
            if snapshot is None:  # an applicant always has one; a hand-made row may not
                continue
            history = History(
                snapshot,
                applications.get(person, []),
                events.get(person, []),
                lines.get(person, []),
            )
            points, mismatched = judge_person(history, rules)
            tally.count(points)
            tally.mismatched += mismatched
    return tally


def applicant_chunks(
    new_uow: Callable[[], UnitOfWork], fraction: float, chunk: int = REPLAY_CHUNK
) -> Iterator[list[str]]:
    """Every applicant in the sample, `chunk` at a time, paged through in person order."""
    uow = new_uow()
    after: str | None = None
    pending: list[str] = []
    while True:
        with uow.reading():
            page = uow.applications.applicants(after, APPLICANTS_PAGE)
        if not page:
            break
        after = page[-1]
        pending.extend(p for p in page if sampled(p, fraction))
        while len(pending) >= chunk:
            yield pending[:chunk]
            pending = pending[chunk:]
    if pending:
        yield pending


def count_applicants(new_uow: Callable[[], UnitOfWork]) -> int:
    uow = new_uow()
    with uow.reading():
        return uow.applications.count_applicants()


def replay(
    new_uow: Callable[[], UnitOfWork],
    rules: ReplayRules,
    fraction: float = 1.0,
    *,
    pool: Executor | None = None,
    workers: int = 1,
    progress: Callable[[int], None] = lambda _: None,
    chunk: int = REPLAY_CHUNK,
) -> Tally:
    """Judge every sampled applicant, on the `pool`'s processes when given (a few chunks in
    flight per process), and return the merged tally; `progress` hears of each chunk done
    (its number of persons)."""
    total = Tally()
    chunks = applicant_chunks(new_uow, fraction, chunk)
    if pool is None:
        for persons in chunks:
            total.merge(replay_chunk(new_uow, rules, persons))
            progress(len(persons))
        return total
    in_flight: dict[Future[Tally], int] = {}
    limit = 2 * max(1, workers)
    for persons in chunks:
        in_flight[pool.submit(replay_chunk, new_uow, rules, persons)] = len(persons)
        if len(in_flight) >= limit:
            _collect(in_flight, total, progress, FIRST_COMPLETED)
    while in_flight:
        _collect(in_flight, total, progress, FIRST_COMPLETED)
    return total


def _collect(
    in_flight: dict[Future[Tally], int],
    total: Tally,
    progress: Callable[[int], None],
    when: str,
) -> None:
    done, _ = wait(in_flight, return_when=when)
    for future in done:
        total.merge(future.result())
        progress(in_flight.pop(future))


@dataclass(frozen=True)
class Estimate:
    """A total over every applicant: exact for a whole replay, else estimated from the sample
    with a 95 % interval of ± `margin`."""

    value: int
    margin: int  # 0 when exact


@dataclass(frozen=True)
class Estimates:
    persons: Estimate
    actual: Estimate
    candidate: Estimate
    difference: Estimate
    actual_reached: Estimate
    candidate_reached: Estimate


def estimates(tally: Tally, fraction: float) -> Estimates:
    def scaled(value: int, squares: int | None = None) -> Estimate:
        if fraction >= 1:
            return Estimate(value, 0)
        # For a count, y is 0 or 1, so Σy² = Σy.
        spread = value if squares is None else squares
        return Estimate(
            round(value / fraction),
            round(Z_95 * math.sqrt((1 - fraction) * spread) / fraction),
        )

    line = tally.line(ALL, ALL) if (ALL, ALL) in tally.lines else None
    actual = line.actual_points if line else 0
    candidate = line.candidate_points if line else 0
    return Estimates(
        persons=scaled(tally.persons),
        actual=scaled(actual, tally.squares[0]),
        candidate=scaled(candidate, tally.squares[1]),
        difference=scaled(candidate - actual, tally.squares[2]),
        actual_reached=scaled(line.actual_persons if line else 0),
        candidate_reached=scaled(line.candidate_persons if line else 0),
    )


def fraction_of(sample_percent: float | None) -> float:
    if sample_percent is None:
        return 1.0
    if not 0 < sample_percent <= 100:
        msg = f"--sample takes a percentage above 0 and at most 100, not {sample_percent:g}"
        raise ValueError(msg)
    return sample_percent / 100


def replay_document(
    tally: Tally, fraction: float, rules_name: str, as_of: date | None, on: date
) -> dict[str, Any]:
    """The replay's result as `mynapoint policy replay --json` prints it and a stored run keeps
    it (docs/POLICY.md)."""
    found = estimates(tally, fraction)
    return {
        "rules": rules_name,
        "as_of": None if as_of is None else as_of.isoformat(),
        "ages_on": on.isoformat(),
        "sample_percent": round(fraction * 100, 6),
        "persons_judged": tally.persons,
        "mismatched": tally.mismatched,
        "estimates": {
            name: {"value": estimate.value, "margin": estimate.margin}
            for name, estimate in (
                ("persons", found.persons),
                ("actual_points", found.actual),
                ("candidate_points", found.candidate),
                ("difference", found.difference),
                ("actual_reached", found.actual_reached),
                ("candidate_reached", found.candidate_reached),
            )
        },
        "breakdowns": {
            dimension: [
                {
                    "key": key,
                    "persons": line.persons,
                    "actual_points": line.actual_points,
                    "candidate_points": line.candidate_points,
                    "actual_persons": line.actual_persons,
                    "candidate_persons": line.candidate_persons,
                }
                for key, line in tally.rows(dimension)
            ]
            for dimension in DIMENSIONS
            if dimension != ALL
        },
    }
