"""What a policy-lab replay counts (issue 16): per person, the points actually granted and the
points the candidate rules would have granted, added up by measure, service, age band and ward,
with the distribution of points per person. A tally of some persons merges with a tally of
others (chunks judged on other processes), and travels as JSON (a replay's parts are stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from mynapoint.domain.cards import age_on

# The breakdowns, in the order a report shows them.
ALL: Final = "all"
MEASURE: Final = "measure"
SERVICE: Final = "service"
AGE: Final = "age"
WARD: Final = "ward"
POINTS: Final = "points"  # the distribution of points per person: persons per band
AT_CAP: Final = "at_cap"  # persons whose spending points reached a cap group's cap
DIMENSIONS: Final = (ALL, MEASURE, SERVICE, AGE, WARD, POINTS, AT_CAP)

# Age bands (lower bounds) on the replay's reference day; under 15 applies through a
# representative (R14).
AGE_BANDS: Final = (0, 15, 20, 30, 40, 50, 60, 70, 80)
# Bands of points per person: 0, then 2,500-yen steps up to the program's 20,000.
POINT_STEP: Final = 2_500
POINT_TOP: Final = 20_000


def age_band(birth_date: date, on: date) -> str:
    age = age_on(birth_date, on)
    lower = max(b for b in AGE_BANDS if b <= max(age, 0))
    following = [b for b in AGE_BANDS if b > lower]
    return f"{lower}-{following[0] - 1}" if following else f"{lower}+"


def points_band(points: int) -> str:
    """'0', '1-2499', '2500-4999', …, '17500-19999', '20000+' (a clawback below 0 is '0')."""
    if points <= 0:
        return "0"
    if points >= POINT_TOP:
        return f"{POINT_TOP}+"
    lower = points // POINT_STEP * POINT_STEP
    return f"{max(lower, 1)}-{lower + POINT_STEP - 1}"


def points_bands() -> tuple[str, ...]:
    """Every band of `points_band`, lowest first (a chart shows the empty ones too)."""
    inner = (
        f"{max(lower, 1)}-{lower + POINT_STEP - 1}" for lower in range(0, POINT_TOP, POINT_STEP)
    )
    return ("0", *inner, f"{POINT_TOP}+")


@dataclass
class Line:
    """One row of a breakdown: points and persons with points, actually and under the candidate.
    In the POINTS and AT_CAP breakdowns only the persons count."""

    actual_points: int = 0
    candidate_points: int = 0
    actual_persons: int = 0  # with points
    candidate_persons: int = 0
    persons: int = 0  # in the row, with points or not

    def add(self, other: Line) -> None:
        self.persons += other.persons
        self.actual_points += other.actual_points
        self.candidate_points += other.candidate_points
        self.actual_persons += other.actual_persons
        self.candidate_persons += other.candidate_persons


@dataclass(frozen=True)
class PersonPoints:
    """One person's points by measure, actually and under the candidate, and who they are in
    the breakdowns."""

    actual: Mapping[str, int]  # measure -> points
    candidate: Mapping[str, int]
    service: str  # the service of their first application
    age: str
    ward: str
    actual_at_cap: bool
    candidate_at_cap: bool


@dataclass
class Tally:
    persons: int = 0
    # Persons whose evaluation under the rules in force differs from the grants recorded for
    # them (a replay without --as-of; 0 when the ledger is up to date).
    mismatched: int = 0
    lines: dict[tuple[str, str], Line] = field(default_factory=dict)
    # Sums of squares of each person's total (actual, candidate, candidate - actual): a
    # sample's standard error (services/policy_replay.py).
    squares: list[int] = field(default_factory=lambda: [0, 0, 0])

    def line(self, dimension: str, key: str) -> Line:
        found = self.lines.get((dimension, key))
        if found is None:
            found = self.lines[dimension, key] = Line()
        return found

    def count(self, person: PersonPoints) -> None:
        self.persons += 1
        actual, candidate = sum(person.actual.values()), sum(person.candidate.values())
        self.squares[0] += actual * actual
        self.squares[1] += candidate * candidate
        self.squares[2] += (candidate - actual) ** 2
        for dimension, key in ((ALL, ALL), (SERVICE, person.service), (AGE, person.age),
                               (WARD, person.ward)):  # fmt: skip
            self.line(dimension, key).add(_line(actual, candidate))
        for measure in sorted(person.actual.keys() | person.candidate.keys()):
            line = _line(person.actual.get(measure, 0), person.candidate.get(measure, 0))
            self.line(MEASURE, measure).add(line)
        self.line(POINTS, points_band(actual)).actual_persons += 1
        self.line(POINTS, points_band(candidate)).candidate_persons += 1
        cap = self.line(AT_CAP, ALL)
        cap.persons += 1
        cap.actual_persons += person.actual_at_cap
        cap.candidate_persons += person.candidate_at_cap

    def merge(self, other: Tally) -> None:
        self.persons += other.persons
        self.mismatched += other.mismatched
        for key, line in other.lines.items():
            self.line(*key).add(line)
        self.squares = [a + b for a, b in zip(self.squares, other.squares, strict=True)]

    def rows(self, dimension: str) -> list[tuple[str, Line]]:
        """The breakdown's rows: bands in their order, others by key."""
        found = {key: line for (d, key), line in self.lines.items() if d == dimension}
        if dimension == POINTS:
            return [(band, found.get(band, Line())) for band in points_bands()]
        if dimension == AGE:
            return sorted(found.items(), key=lambda item: int(item[0].split("-")[0].rstrip("+")))
        return sorted(found.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "mismatched": self.mismatched,
            "squares": list(self.squares),
            "lines": [
                [
                    d,
                    k,
                    line.actual_points,
                    line.candidate_points,
                    line.actual_persons,
                    line.candidate_persons,
                    line.persons,
                ]
                for (d, k), line in sorted(self.lines.items())
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        tally = cls(int(data["persons"]), int(data["mismatched"]))
        tally.squares = [int(v) for v in data["squares"]]
        for d, k, ap, cp, apn, cpn, n in data["lines"]:
            tally.lines[str(d), str(k)] = Line(int(ap), int(cp), int(apn), int(cpn), int(n))
        return tally


def merged(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def _line(actual: int, candidate: int) -> Line:
    return Line(actual, candidate, int(actual > 0), int(candidate > 0), 1)
