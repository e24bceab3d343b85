"""MyKey ID (マイキーID): one per person for life, whichever of the person's cards signs in."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import PersonSnapshot
from mynapoint.domain.mykey import MYKEY_ALPHABET, MYKEY_LENGTH, MyKey
from mynapoint.jpki.ports import CardAuthority
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.ports import UnitOfWork

# A collision among 36^8 (2.8e12) IDs is rare; a few retries make failure practically impossible.
_ATTEMPTS = 8


class BudgetFrameReached(MynapointError):
    code = "budget_frame_reached"


class MyKeyUnavailable(MynapointError):
    code = "internal_error"


@dataclass(frozen=True)
class MyKeyResult:
    mykey: MyKey
    created: bool


def new_mykey_id() -> str:
    return "".join(secrets.choice(MYKEY_ALPHABET) for _ in range(MYKEY_LENGTH))


def budget_frame_persons(rules: CampaignRules, now: datetime) -> int | None:
    """The reservation frame of the phase in force: the newest frame announced by now."""
    today = jst_date(now)
    frames = [f for f in rules.budget_frames if f.announced <= today]
    return max(frames, key=lambda f: f.announced).persons if frames else None


def ensure_mykey(
    uow: UnitOfWork,
    person: str,
    now: datetime,
    rules: CampaignRules,
    *,
    before_commit: BeforeCommit | None = None,
    holder: Callable[[], PersonSnapshot | None] | None = None,
) -> MyKeyResult:
    """The person's MyKey ID, created on first request (R17: a full budget frame refuses new ones).

    The database keeps one ID per person and each ID unique, so two concurrent
    requests for one person end with one ID, which both return. `holder` is asked only when a
    new ID is made: what the card authority answers about the person, which the platform keeps
    (platform_persons; the statistics count MyKey IDs by its municipality).
    """
    with uow:
        existing = uow.mykeys.for_person(person)
        if existing is not None:
            return MyKeyResult(existing, created=False)
        frame = budget_frame_persons(rules, now)
        for _ in range(_ATTEMPTS):
            candidate = MyKey(new_mykey_id(), person, now)
            if uow.mykeys.add(candidate):
                # Reserved after the insert, so that the place (a row lock until the commit)
                # is held only for the audit and the commit; a refusal rolls the ID back.
                if not uow.mykeys.reserve(frame):
                    raise BudgetFrameReached(
                        f"the budget frame of {frame:,} reservations is reached; no new MyKey IDs",
                        frame=frame,
                    )
                snapshot = None if holder is None else holder()
                if snapshot is not None:
                    uow.persons.save(snapshot, now)
                if before_commit is not None:
                    before_commit(uow, "mykey_created", {"mykey_id": candidate.mykey_id})
                uow.commit()
                return MyKeyResult(candidate, created=True)
            existing = uow.mykeys.for_person(person)
            if existing is not None:
                return MyKeyResult(existing, created=False)
    raise MyKeyUnavailable("could not allocate a unique MyKey ID; try again")


def holder_of(authority: CardAuthority, serial: str) -> Callable[[], PersonSnapshot | None]:
    """`ensure_mykey`'s `holder` for the person signed in with the certificate `serial`."""

    def snapshot() -> PersonSnapshot | None:
        facts = authority.facts(serial)
        return None if facts is None else facts.snapshot()

    return snapshot
