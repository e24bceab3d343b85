"""Stopped linkages (紐づけ停止): what the card authority reports, and what operators are told.

R15: from the day of death, events earn nothing; points earned before it are
still granted. The person's linkages are stopped and each operator is told
(GET /api/v1/operator/notices). A certificate revoked with no successor stops
the linkages too.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.ledger import LinkageNotice
from mynapoint.domain.services import Catalog
from mynapoint.services.ledger import reevaluate
from mynapoint.services.ports import UnitOfWork


def _notices(
    uow: UnitOfWork, person: str, reason: str, on: date, catalog: Catalog, now: datetime
) -> list[LinkageNotice]:
    accounts = sorted(
        {
            (a.service_code, a.payment_service_id)
            for a in uow.applications.for_person(person)
            if a.is_active
        }
    )
    return [
        LinkageNotice(
            notice_id=secrets.token_hex(12),
            operator_code=catalog.get(service_code).operator.code,
            service_code=service_code,
            payment_service_id=payment_service_id,
            reason=reason,
            effective_on=on,
            created_at=now,
        )
        for service_code, payment_service_id in accounts
    ]


def record_death(
    uow: UnitOfWork,
    person: str,
    died_on: date,
    rules: CampaignRules,
    catalog: Catalog,
    now: datetime,
) -> int:
    """Stop the person's linkages from `died_on`; returns how many operators' notices were made."""
    with uow:
        snapshot = uow.persons.get(person)
        if snapshot is None:
            # Never applied on the platform: nothing is linked, nothing to tell.
            return 0
        uow.persons.save(replace(snapshot, died_on=died_on), now)
        notices = _notices(uow, person, "holder_deceased", died_on, catalog, now)
        uow.notices.add_many(notices)
        reevaluate(uow, [person], rules, catalog, now)
        uow.commit()
    return len(notices)


def record_revocation(
    uow: UnitOfWork, person: str, revoked_on: date, catalog: Catalog, now: datetime
) -> int:
    """A certificate revoked with no successor: the operators are told to stop the linkage."""
    with uow:
        notices = _notices(uow, person, "certificate_revoked", revoked_on, catalog, now)
        uow.notices.add_many(notices)
        uow.commit()
    return len(notices)
