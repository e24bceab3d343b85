"""Set up linked people directly through the storage ports (no cards, no RSA keys)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from mynapoint.db.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory
from mynapoint.domain.ledger import PersonSnapshot, StoredApplication
from mynapoint.domain.measures import Channel, EventKind, Measure
from mynapoint.services.operators import issue_operator_key
from mynapoint.services.ports import UnitOfWork


def link_person(
    uow: UnitOfWork,
    *,
    person: str | None = None,
    service_code: str = "paypay",
    payment_service_id: str | None = None,
    measure: Measure = Measure.PHASE1,
    counts: EventKind | None = EventKind.CHARGE,
    applied_at: datetime,
    card_applied_on: date = date(2020, 6, 1),
    died_on: date | None = None,
) -> tuple[str, str]:
    """A person with an active application linking a payment account; returns (person, id)."""
    person = person or secrets.token_hex(8)
    payment_service_id = payment_service_id or f"{secrets.randbelow(10**16):016d}"
    with uow:
        uow.persons.save(
            PersonSnapshot(
                person=person,
                birth_date=date(1980, 4, 1),
                card_applied_on=card_applied_on,
                card_applied_online=False,
                died_on=died_on,
                adult_ward=False,
                certificate_issued_at=applied_at,
            ),
            applied_at,
        )
        assert (
            uow.applications.link_account(service_code, payment_service_id, person, applied_at)
            == person
        )
        assert uow.applications.add(
            StoredApplication(
                application_id=secrets.token_hex(8),
                person=person,
                measure=measure,
                service_code=service_code,
                payment_service_id=payment_service_id,
                counts=counts,
                channel=Channel.ONLINE,
                applied_at=applied_at,
            )
        )
        uow.commit()
    return person, payment_service_id


def operator_key(uow: UnitOfWork, operator_code: str, catalog, now: datetime) -> str:
    return issue_operator_key(uow, operator_code, catalog, now)


@dataclass(frozen=True)
class PidLoggingFactory(UnitOfWorkFactory):
    """Opens units of work like the platform's factory and notes which process asked. It lives
    here, in a module on the tests' import path, so that a worker process can unpickle it."""

    log: str = ""

    def __call__(self) -> SqlUnitOfWork:
        with Path(self.log).open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return super().__call__()
