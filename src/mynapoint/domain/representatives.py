"""Who applies for a card holder: the holder, or their legal representative (RULES.md R14).

A holder under 15, or an adult ward, applies through the legal representative (法定代理人),
who proves presence with their own card; a holder of 15-17 applies alone, or with a guardian
present when the account is the guardian's; an adult who is not a ward applies alone.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from mynapoint.domain.cards import age_on

# Under this age the legal representative applies (RULES.md R14).
CHILD_AGE = 15
# R14 speaks of holders under 15, of 15-17 and of adults: the age of majority of the 2022 Civil
# Code (18), applied to every application day [choice].
ADULT_AGE = 18


class Representation(StrEnum):
    """Whether an application may, must or must not carry a legal representative's signature."""

    REQUIRED = "required"  # under 15, or an adult ward: only through the representative
    OPTIONAL = "optional"  # 15-17: alone, or with a guardian present
    NOT_ALLOWED = "not_allowed"  # an adult who is not a ward applies in person


class RepresentedBecause(StrEnum):
    """Why a holder needs their legal representative (a stable value of error details)."""

    UNDER_15 = "under_15"
    ADULT_WARD = "adult_ward"


def representation_for(birth_date: date, *, adult_ward: bool, on: date) -> Representation:
    """What R14 says of an application made on `on` (JST) by this holder."""
    if adult_ward or age_on(birth_date, on) < CHILD_AGE:
        return Representation.REQUIRED
    if age_on(birth_date, on) < ADULT_AGE:
        return Representation.OPTIONAL
    return Representation.NOT_ALLOWED


def represented_because(birth_date: date, *, adult_ward: bool, on: date) -> RepresentedBecause:
    """Why the representative is required: the age first, then the wardship."""
    if age_on(birth_date, on) < CHILD_AGE or not adult_ward:
        return RepresentedBecause.UNDER_15
    return RepresentedBecause.ADULT_WARD
