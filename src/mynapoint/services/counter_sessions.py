"""The counter's sessions: who runs them, how they end, and how each step is recorded.

One assisted session serves one citizen at one terminal (services/assist.py has the steps a
citizen goes through); here is its life: the open session of a clerk, the end of it (by the
clerk, by another card, by inactivity), the refusal of a step that names an ended session,
and the audit entry each of these writes in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mynapoint.domain.assist import AssistedSession, EndReason, SessionEnded, check_step
from mynapoint.domain.audit import SealedEntry
from mynapoint.domain.staff import Role, StaffForbidden
from mynapoint.services.applications import ApplicationDesk
from mynapoint.services.audit import record
from mynapoint.services.auth import CardReader
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.staff import SignedInStaff

# Who ends a session that went idle while nobody looked at its terminal.
PLATFORM_ACTOR = "platform"
PLATFORM_ROLE = "system"
LOG_LIMIT = 100


@dataclass(frozen=True)
class Counter:
    """What the counter needs besides storage."""

    desk: ApplicationDesk
    reader: CardReader
    idle_limit: timedelta


@dataclass(frozen=True)
class Clerk:
    """The staff member at the terminal, at their corner."""

    name: str
    role: Role
    corner: str


def clerk_of(me: SignedInStaff) -> Clerk:
    if not me.account.runs_counter or me.account.corner is None:
        raise StaffForbidden("an administrator belongs to no corner and runs no counter")
    return Clerk(me.account.name, me.account.role, me.account.corner)


@dataclass(frozen=True)
class CornerLog:
    sessions: list[AssistedSession]
    entries: list[SealedEntry]  # newest first


def current(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, now: datetime
) -> tuple[AssistedSession | None, EndReason | None]:
    """The clerk's open session; one gone idle is ended now (and the reason returned)."""
    with uow:
        session = uow.assisted.open_for(clerk.name, lock=True)
        if session is None:
            return None, None
        if not session.is_idle_at(now, counter.idle_limit):
            return session, None
        end_session(uow, clerk, session, EndReason.INACTIVITY, now)
        uow.commit()
    return None, EndReason.INACTIVITY


def end(
    uow: UnitOfWork,
    clerk: Clerk,
    session_id: str | None,
    reason: EndReason,
    now: datetime,
) -> None:
    """End the clerk's open session (the one named, if a name is given); ending twice is a no-op."""
    with uow:
        session = uow.assisted.open_for(clerk.name, lock=True)
        if session is None or (session_id is not None and session.session_id != session_id):
            return
        end_session(uow, clerk, session, reason, now)
        uow.commit()


def keep_alive(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, session_id: str, now: datetime
) -> datetime | None:
    """The clerk is typing into the session's page: activity, as a step is (nothing is
    recorded: nothing happened yet). The session's new idle deadline; None when it has
    ended, or had gone idle (it is ended now, as `current` would)."""
    with uow:
        session = uow.assisted.get(session_id, lock=True)
        if session is None or not session.is_open or session.staff != clerk.name:
            return None
        if session.is_idle_at(now, counter.idle_limit):
            end_session(uow, clerk, session, EndReason.INACTIVITY, now)
            uow.commit()
            return None
        kept = session.touched(now)
        uow.assisted.save(kept)
        uow.commit()
    return kept.idle_deadline(counter.idle_limit)


def end_idle(uow: UnitOfWork, counter: Counter, corner: str | None, now: datetime) -> int:
    """End every session at the corner (all corners: None) idle for the limit or longer."""
    ended = 0
    with uow:
        for session in uow.assisted.open_sessions(corner):
            if session.is_idle_at(now, counter.idle_limit):
                locked = uow.assisted.get(session.session_id, lock=True)
                if locked is None or not locked.is_open:
                    continue
                uow.assisted.save(locked.ended(now, EndReason.INACTIVITY))
                record(
                    uow,
                    now=now,
                    actor=PLATFORM_ACTOR,
                    role=PLATFORM_ROLE,
                    corner=locked.corner,
                    action="session_ended",
                    mykey_id=locked.mykey_id,
                    details={"session": locked.session_id, "reason": EndReason.INACTIVITY.value},
                )
                ended += 1
        if ended:
            uow.commit()
    return ended


def corner_log(
    uow: UnitOfWork, counter: Counter, viewer: SignedInStaff, corner: str, now: datetime
) -> CornerLog:
    """The corner's sessions and audit entries, newest first: for its supervisor or an admin."""
    if not viewer.account.oversees(corner):
        raise StaffForbidden(f"the records of corner '{corner}' are not yours to see")
    end_idle(uow, counter, corner, now)
    with uow:
        sessions = uow.assisted.recent(corner, LOG_LIMIT)
        entries = uow.audit.recent(corner, LOG_LIMIT)
    return CornerLog(sessions, entries)


def check_session(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, session_id: str, now: datetime
) -> AssistedSession:
    """The open session a step names; a refused step is recorded (and an idle session ended)."""
    try:
        with uow:
            return locked_step(uow, counter, clerk, session_id, now)
    except SessionEnded as ended:
        refused_step(uow, clerk, session_id, now, ended)
        raise


def locked_step(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, session_id: str, now: datetime
) -> AssistedSession:
    session = uow.assisted.get(session_id, lock=True)
    return check_step(session, session_id, clerk.name, now, counter.idle_limit)


def refused_step(
    uow: UnitOfWork, clerk: Clerk, session_id: str, now: datetime, ended: SessionEnded
) -> None:
    with uow:
        session = uow.assisted.get(session_id, lock=True)
        if session is None or session.staff != clerk.name:
            session = None  # not this clerk's: nothing of it is named
        elif session.is_open and ended.reason is EndReason.INACTIVITY:
            end_session(uow, clerk, session, EndReason.INACTIVITY, now)
        reason = None if ended.reason is None else ended.reason.value
        details = {"session": session_id, "reason": reason}
        record_step(uow, clerk, session, now, "step_refused", details, with_session=False)
        uow.commit()


def touch(
    uow: UnitOfWork, clerk: Clerk, session_id: str, now: datetime, idle_limit: timedelta
) -> None:
    session = uow.assisted.get(session_id, lock=True)
    if (
        session is not None
        and session.is_open
        and session.staff == clerk.name
        and not session.is_idle_at(now, idle_limit)
    ):
        uow.assisted.save(session.touched(now))


def end_session(
    uow: UnitOfWork,
    clerk: Clerk,
    session: AssistedSession,
    reason: EndReason,
    now: datetime,
    *,
    mykey_id: str | None = None,
    card_serial: str | None = None,
) -> None:
    uow.assisted.save(session.ended(now, reason))
    record_end(uow, clerk, session, reason, now, mykey_id=mykey_id, card_serial=card_serial)


def record_end(
    uow: UnitOfWork,
    clerk: Clerk,
    session: AssistedSession,
    reason: EndReason,
    now: datetime,
    *,
    mykey_id: str | None = None,
    card_serial: str | None = None,
) -> None:
    details: dict[str, Any] = {"reason": reason.value}
    if card_serial is not None:
        details["card_serial"] = card_serial
    record_step(uow, clerk, session, now, "session_ended", details, mykey_id=mykey_id)


def record_step(
    uow: UnitOfWork,
    clerk: Clerk,
    session: AssistedSession | None,
    now: datetime,
    action: str,
    details: Mapping[str, Any],
    *,
    mykey_id: str | None = None,
    with_session: bool = True,
) -> None:
    written = dict(details)
    if session is not None and with_session:
        written = {"session": session.session_id, **written}
    record(
        uow,
        now=now,
        actor=clerk.name,
        role=clerk.role.value,
        corner=clerk.corner,
        action=action,
        mykey_id=mykey_id or (None if session is None else session.mykey_id),
        details=written,
    )


def record_alone(
    uow: UnitOfWork,
    counter: Counter,
    clerk: Clerk,
    session: AssistedSession | None,
    now: datetime,
    action: str,
    details: Mapping[str, Any],
) -> None:
    """A refused step changed nothing but the session's activity: recorded on its own."""
    with uow:
        if session is not None:
            touch(uow, clerk, session.session_id, now, counter.idle_limit)
        record_step(uow, clerk, session, now, action, details)
        uow.commit()
