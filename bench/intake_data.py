"""The data of `make bench-intake`: linked persons set up through the repositories, and the
event file (charges in time order, about 1 % refunds of earlier ones)."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from mynapoint.db.engine import create_engine_for
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import PersonSnapshot, StoredApplication
from mynapoint.domain.measures import Channel, EventKind, Measure

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

SEED = 20210501
SERVICE = "paypay"
SETUP_BATCH = 5_000
SETUP_WORKERS = min(2, os.cpu_count() or 1)
REFUND_SHARE = 0.01
APPLIED_AT = datetime(2021, 5, 1, 10, 0, tzinfo=JST)
EVENTS_FROM = datetime(2021, 5, 2, 0, 0, tzinfo=JST)
EVENTS_UNTIL = datetime(2021, 10, 1, 0, 0, tzinfo=JST)  # exclusive: the last day is 2021-09-30
HEADER = "event_id,service_code,payment_service_id,kind,amount,occurred_at,refund_of\n"


def set_up_persons(url: URL, rng: random.Random, count: int) -> list[str]:
    """Linked persons through the repositories; returns their PayPay payment_service_ids.

    Units of work of SETUP_BATCH persons, shared out among SETUP_WORKERS processes.
    """
    accounts = [f"{n:016d}" for n in rng.sample(range(10**15, 10**16), count)]
    batches = [
        (start, accounts[start : start + SETUP_BATCH]) for start in range(0, count, SETUP_BATCH)
    ]
    address = url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(SETUP_WORKERS, mp_context=context) as pool:
        for linked in pool.map(_link_batch, itertools.repeat(address), batches):
            if linked:
                sys.exit(f"setup: {linked}")
    return accounts


_engines: dict[str, Engine] = {}


def _link_batch(address: str, batch: tuple[int, list[str]]) -> str:
    """One unit of work of persons numbered from `start`; an error message, or ''."""
    if address not in _engines:
        _engines[address] = create_engine_for(address)
    start, accounts = batch
    uow = SqlUnitOfWork(_engines[address])
    with uow:
        for n, payment_service_id in enumerate(accounts, start=start):
            person = _bench_id("person", n)
            uow.persons.save(
                PersonSnapshot(
                    person=person,
                    birth_date=date(1960, 4, 1) + timedelta(days=n % 15_000),
                    card_applied_on=date(2020, 6, 1),
                    card_applied_online=False,
                    died_on=None,
                    adult_ward=False,
                    certificate_issued_at=datetime(2021, 4, 1, 10, 0, tzinfo=JST),
                ),
                APPLIED_AT,
            )
            if uow.applications.link_account(SERVICE, payment_service_id, person, APPLIED_AT) != (
                person
            ):
                return f"account {payment_service_id} was already linked"
            added = uow.applications.add(
                StoredApplication(
                    application_id=_bench_id("application", n),
                    person=person,
                    measure=Measure.PHASE1,
                    service_code=SERVICE,
                    payment_service_id=payment_service_id,
                    counts=EventKind.CHARGE,
                    channel=Channel.ONLINE,
                    applied_at=APPLIED_AT,
                )
            )
            if not added:
                return f"person {person} already has a phase-1 application"
        uow.commit()
    return ""


def _bench_id(kind: str, n: int) -> str:
    return hashlib.blake2b(f"{SEED}:{kind}:{n}".encode(), digest_size=8).hexdigest()


def write_events(path: Path, rng: random.Random, accounts: list[str], count: int) -> int:
    """Charges on the accounts and ~1 % refunds of earlier ones, in time order; returns the
    number of refunds."""
    refunds = round(count * REFUND_SHARE)
    charges = count - refunds
    span = int((EVENTS_UNTIL - EVENTS_FROM).total_seconds())
    start = int(EVENTS_FROM.timestamp())
    charge_rows = sorted(
        (start + rng.randrange(span), rng.choice(accounts), rng.randint(100, 9_000))
        for _ in range(charges)
    )
    # (at, order, event_id, account, kind, amount, refund_of); a refund sorts after its original.
    rows = [
        (at, 0, f"c{n:07d}", account, "charge", amount, "")
        for n, (at, account, amount) in enumerate(charge_rows)
    ]
    end = start + span - 1
    for n in range(refunds):
        at, _, original, account, _, amount, _ = rows[rng.randrange(charges)]
        refund = amount if rng.random() < 0.5 else rng.randint(1, amount)
        when = min(at + rng.randrange(14 * 86_400), end)
        rows.append((when, 1, f"r{n:06d}", account, "refund", refund, original))
    rows.sort()
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        out.writelines(
            f"{event_id},{SERVICE},{account},{kind},{amount},"
            f"{datetime.fromtimestamp(at, JST).isoformat()},{refund_of}\n"
            for at, _, event_id, account, kind, amount, refund_of in rows
        )
    return refunds
