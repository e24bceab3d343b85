"""What the platform knows of a person from the card authority (never a My Number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mynapoint.domain.calendar import jst_date


@dataclass(frozen=True)
class PersonFacts:
    card_applied_on: date
    card_applied_online: bool = False
    birth_date: date | None = None
    died_on: date | None = None
    # The newest user certificate's issuance (issue, renewal or reissue): RULES.md R13.
    certificate_issued_at: datetime | None = None

    def is_deceased_at(self, at: datetime) -> bool:
        """Events on or after the JST day of death earn nothing (RULES.md R15)."""
        return self.died_on is not None and jst_date(at) >= self.died_on
