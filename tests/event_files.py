"""Linked crowds and shuffled event files for the intake tests that run real processes
(test_intake_crash, test_intake_pending, test_job_queue): one way to make them, one way to
run the command line on a database, one way to read the ledger back."""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ledger_setup import link_person
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import create_engine_for
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.ingest.event_rows import CSV_HEADER
from mynapoint.services.clock import FixedClock

# (source, measure, points) of a person's grant lines
GrantLines = dict[str, list[tuple[str, str, int]]]
# (event_id, the reason it earns nothing, or None)
StoredEvents = frozenset[tuple[str, str | None]]


@dataclass(frozen=True)
class Crowd:
    """The linked persons of one test: `{prefix}-000`, … each with PayPay account
    `account_base + number` (16 digits)."""

    prefix: str
    account_base: int

    def person(self, number: int) -> str:
        return f"{self.prefix}-{number:03d}"

    def payment_service_id(self, number: int) -> str:
        return f"{self.account_base + number:016d}"

    def persons(self, numbers: Iterable[int]) -> list[str]:
        return [self.person(number) for number in numbers]

    def link(
        self,
        database_url: str,
        var_dir: Path,
        numbers: Iterable[int],
        *,
        applied_at: datetime,
        now: datetime,
    ) -> None:
        """Link `numbers` (applications made at `applied_at`) on a database the platform
        migrates first, its clock at `now`, through the storage ports."""
        platform = build_platform(
            Settings(database_url=database_url, var_dir=var_dir), clock=FixedClock(now)
        )
        try:
            for number in numbers:
                link_person(
                    platform.unit_of_work(),
                    person=self.person(number),
                    payment_service_id=self.payment_service_id(number),
                    applied_at=applied_at,
                )
        finally:
            platform.engine.dispose()


@dataclass(frozen=True)
class EventMix:
    """What a crowd's file holds: per person `per_person` events at random minutes of `days`
    days from `start`; a draw below `refunds` refunds an earlier event of the person (at or
    after it: some refunds come before their charge in the shuffled file), below
    `not_counted` is a purchase (the application counts charges), else a charge."""

    per_person: int
    start: datetime
    days: int
    refunds: float
    not_counted: float
    amounts: tuple[int, int]
    id_digits: int = 2  # event ids `{letter}{number:03d}-{index:0{id_digits}d}`


def two_hundred_days(per_person: int) -> EventMix:
    """Charges from 2021-04-20 over 200 days (some before a May application), 10 % refunds,
    10 % purchases that do not count, 1–1,500 yen: the crash and job-queue tests' mix."""
    return EventMix(
        per_person=per_person,
        start=datetime(2021, 4, 20, 0, 0, tzinfo=JST),
        days=200,
        refunds=0.1,
        not_counted=0.2,
        amounts=(1, 1500),
    )


def shuffled_event_lines(
    crowd: Crowd, numbers: Iterable[int], mix: EventMix, *, letter: str, seed: int
) -> list[str]:
    """CSV lines (no header) of charges, purchases and refunds for `numbers`, shuffled, so
    every batch touches most persons."""
    draw = random.Random(seed)  # noqa: S311 - test data, not secrets
    lines = []
    for number in numbers:
        spent: list[tuple[str, datetime]] = []
        for index in range(mix.per_person):
            event_id = f"{letter}{number:03d}-{index:0{mix.id_digits}d}"
            at = mix.start + timedelta(minutes=draw.randint(0, 60 * 24 * mix.days))
            roll = draw.random()
            if roll < mix.refunds and spent:
                refund_of, original_at = draw.choice(spent)
                kind, at = "refund", max(at, original_at)
            else:
                kind, refund_of = ("purchase" if roll < mix.not_counted else "charge"), ""
                spent.append((event_id, at))
            lines.append(
                f"{event_id},paypay,{crowd.payment_service_id(number)},{kind},"
                f"{draw.randint(*mix.amounts)},{at.isoformat()},{refund_of}\n"
            )
    draw.shuffle(lines)
    return lines


def write_event_file(path: Path, lines: list[str]) -> Path:
    """An ingest CSV file: the header, then `lines`."""
    path.write_text(",".join(CSV_HEADER) + "\n" + "".join(lines), encoding="utf-8")
    return path


def command_environment(database_url: str, var_dir: Path, now: datetime) -> dict[str, str]:
    """The environment for `python -m mynapoint.cli …` on `database_url`, its clock at `now`."""
    return os.environ | {
        "MYNAPOINT_DATABASE_URL": database_url,
        "MYNAPOINT_VAR_DIR": str(var_dir),
        "MYNAPOINT_CLOCK_START": now.isoformat(),
    }


def read_grants_and_events(
    database_url: str, persons: list[str]
) -> tuple[GrantLines, StoredEvents]:
    """`persons`' grant lines, and every stored event of theirs with its reason."""
    engine = create_engine_for(database_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            lines = uow.grants.lines_for_persons(persons)
            stored = uow.events.for_persons(persons)
    finally:
        engine.dispose()
    events = frozenset(
        (event.event_id, event.reason.value if event.reason else None)
        for person_events in stored.values()
        for event in person_events
    )
    return lines, events
