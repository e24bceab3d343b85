"""Facts of the My Number Card and its user certificate (RULES.md §4), as the platform sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.ledger import PersonSnapshot
from mynapoint.domain.persons import PersonFacts

PIN_TRIES = 3  # the card locks after 3 consecutive wrong PINs, across days
CERTIFICATE_YEARS = 5  # valid until the holder's 5th birthday after issuance


def birthday_in(year: int, birth_date: date) -> date:
    """A 29 February birthday falls on 28 February in common years."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def certificate_not_after(birth_date: date, issued_at: datetime) -> datetime:
    """The last instant of the holder's 5th birthday after issuance (JST)."""
    issued_on = jst_date(issued_at)
    # A birthday still ahead this year is the first one after issuance.
    ahead = birthday_in(issued_on.year, birth_date) > issued_on
    year = issued_on.year + CERTIFICATE_YEARS - (1 if ahead else 0)
    last_day = birthday_in(year, birth_date)
    return datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=JST) - timedelta(
        seconds=1
    )


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    return years - (1 if birthday_in(day.year, birth_date) > day else 0)


@dataclass(frozen=True)
class CardFacts:
    """What the card authority answers by certificate serial (RULES.md §4)."""

    serial: str
    person: str  # the authority's opaque anchor of the person; never a My Number
    card_applied_on: date
    card_applied_online: bool
    birth_date: date
    died_on: date | None
    adult_ward: bool
    certificate_issued_at: datetime
    predecessor: str | None  # the serial this certificate renewed or replaced
    revoked_at: datetime | None = None
    # The city or ward on the resident register, a JIS local government code: what the
    # ministry's statistics count by (the platform keeps its own copy, platform_persons).
    municipality: str | None = None

    def snapshot(self) -> PersonSnapshot:
        """What the platform keeps of the answer (platform_persons)."""
        return PersonSnapshot(
            person=self.person,
            birth_date=self.birth_date,
            card_applied_on=self.card_applied_on,
            card_applied_online=self.card_applied_online,
            died_on=self.died_on,
            adult_ward=self.adult_ward,
            certificate_issued_at=self.certificate_issued_at,
            municipality=self.municipality,
        )

    def person_facts(self) -> PersonFacts:
        """What the campaign rules judge an application on."""
        return PersonFacts(
            card_applied_on=self.card_applied_on,
            card_applied_online=self.card_applied_online,
            birth_date=self.birth_date,
            died_on=self.died_on,
            certificate_issued_at=self.certificate_issued_at,
        )
