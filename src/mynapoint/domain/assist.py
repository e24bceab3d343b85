"""Assisted sessions at a support-corner counter (RULES.md §6, "The incident to design against").

A session belongs to one card read, one staff member and one corner. It ends by itself
after the application, after inactivity, and whenever another card is read; every step
names the session it belongs to, and a step for a session that has ended does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import EventKind, Measure

DEFAULT_IDLE_LIMIT = timedelta(minutes=2)


class EndReason(StrEnum):
    APPLIED = "applied"  # the application was committed
    ENDED_BY_STAFF = "ended_by_staff"
    INACTIVITY = "inactivity"
    NEXT_CARD = "next_card"  # another card was read at this terminal
    CARD_MISMATCH = "card_mismatch"  # a different card signed the commit
    SIGNED_OUT = "signed_out"
    SIGNED_IN_AGAIN = "signed_in_again"  # the staff member signed in anew, elsewhere


@dataclass(frozen=True)
class Preview:
    """What the citizen is asked to confirm: the account and its holder's masked name."""

    preview_id: str
    measure: Measure
    service_code: str
    payment_service_id: str
    counts: EventKind | None
    holder_name_masked: str
    with_representative: bool
    at: datetime


@dataclass(frozen=True)
class AssistedSession:
    session_id: str
    staff: str
    corner: str
    card_serial: str
    person: str
    mykey_id: str | None
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    preview: Preview | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def is_idle_at(self, now: datetime, limit: timedelta) -> bool:
        return now - self.last_activity_at >= limit

    def idle_deadline(self, limit: timedelta) -> datetime:
        return self.last_activity_at + limit

    def touched(self, now: datetime) -> AssistedSession:
        return replace(self, last_activity_at=max(now, self.last_activity_at))

    def ended(self, now: datetime, reason: EndReason) -> AssistedSession:
        # The preview goes with the session: nothing of it can be committed any more.
        return replace(self, ended_at=now, end_reason=reason, preview=None)


class SessionEnded(MynapointError):
    """A step for an assisted session that is no longer this terminal's open session."""

    code = "session_ended"

    def __init__(self, session_id: str, reason: EndReason | None = None) -> None:
        super().__init__(
            f"assisted session {session_id} has ended"
            + ("" if reason is None else f" ({reason.value})")
            + "; read the card again to start a new one",
            session_id=session_id,
            reason=None if reason is None else reason.value,
        )
        self.reason = reason


class PreviewOutdated(MynapointError):
    """The confirmation answered is not the latest one shown for the session."""

    code = "preview_outdated"


class CardMismatch(MynapointError):
    """The card that signed is not the card the session was started with."""

    code = "card_mismatch"


def check_step(
    session: AssistedSession | None,
    session_id: str,
    staff: str,
    now: datetime,
    idle_limit: timedelta,
) -> AssistedSession:
    """The open session a step names, if it is this staff member's and not idle; else raises."""
    if session is None or session.session_id != session_id or session.staff != staff:
        raise SessionEnded(session_id)
    if not session.is_open:
        raise SessionEnded(session_id, session.end_reason)
    if session.is_idle_at(now, idle_limit):
        raise SessionEnded(session_id, EndReason.INACTIVITY)
    return session


class RepresentativeCardMissing(MynapointError):
    """The application was shown as made by a legal representative, whose card did not sign."""

    code = "representative_card_required"
