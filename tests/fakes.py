"""In-memory stand-ins for the storage ports, for tests that need no database.

`FakeUnitOfWork` obeys the same contract as `mynapoint.db.unit_of_work.SqlUnitOfWork`
(tests/unit_of_work_contract.py and tests/ledger_contract.py run the same tests
on both): changes are visible to other units of work only after `commit()`, a
person has at most one MyKey ID and an ID belongs to one person, a challenge is
used once, a person has one active application per measure and an account is
linked to one person. Reads come back in the order the SQL repositories use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Self

from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES, CODE_TRIES_KEPT, CodeTries
from mynapoint.domain.audit import GENESIS_HASH, AuditSearch, ChainHead
from mynapoint.domain.ledger import EventVerdict, GrantCounts, JobVerdicts, MonthTotals
from mynapoint.domain.measures import IgnoreReason

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import date, datetime
    from types import TracebackType

    from mynapoint.domain.account_previews import AccountPreview
    from mynapoint.domain.accounts import PaymentAccount
    from mynapoint.domain.assist import AssistedSession
    from mynapoint.domain.audit import PublishedHead, SealedEntry
    from mynapoint.domain.auth import Challenge, Session
    from mynapoint.domain.ledger import (
        GrantInstruction,
        IngestJob,
        LinkageNotice,
        OperatorKey,
        PersonSnapshot,
        StoredApplication,
        StoredEvent,
    )
    from mynapoint.domain.mykey import MyKey
    from mynapoint.domain.settlement_approvals import Approval, ApprovalState
    from mynapoint.domain.staff import StaffAccount, StaffSession

    Account = tuple[str, str]  # (service_code, payment_service_id)

# Longer than any test should hold a unit of work open; a nested second unit of
# work on the same database fails after this instead of hanging the run.
_LOCK_TIMEOUT_S = 5


@dataclass
class FakeTables:
    challenges: dict[str, Challenge] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)  # by token hash
    session_previews: dict[str, AccountPreview] = field(default_factory=dict)  # by token hash
    mykeys: dict[str, MyKey] = field(default_factory=dict)  # by MyKey ID
    mykey_reservations: dict[int, int] = field(default_factory=dict)  # places taken, by shard
    persons: dict[str, PersonSnapshot] = field(default_factory=dict)
    operator_keys: dict[str, OperatorKey] = field(default_factory=dict)
    accounts: dict[Account, PaymentAccount] = field(default_factory=dict)
    # A person's wrong security codes, by (service_code, payment_service_id, person).
    code_tries: dict[tuple[str, str, str], CodeTries] = field(default_factory=dict)
    applications: dict[str, StoredApplication] = field(default_factory=dict)
    account_links: dict[Account, str] = field(default_factory=dict)  # the linked person
    events: dict[tuple[str, str], StoredEvent] = field(default_factory=dict)  # by operator, id
    pending: dict[int, tuple[str, ...]] = field(default_factory=dict)  # persons by marker id
    grants: dict[str, GrantInstruction] = field(default_factory=dict)
    settlements: dict[str, datetime] = field(default_factory=dict)  # closed_at by month
    # Statements' approval records by (month, operator code).
    approvals: dict[tuple[str, str], Approval] = field(default_factory=dict)
    notices: dict[str, LinkageNotice] = field(default_factory=dict)
    jobs: dict[str, IngestJob] = field(default_factory=dict)
    job_lines: dict[tuple[str, int], str] = field(default_factory=dict)  # event_id by job, line
    audit_log: dict[int, SealedEntry] = field(default_factory=dict)  # by seq
    audit_heads: dict[int, PublishedHead] = field(default_factory=dict)  # in publishing order
    staff: dict[str, StaffAccount] = field(default_factory=dict)  # by name
    staff_sessions: dict[str, StaffSession] = field(default_factory=dict)  # by token hash
    assisted: dict[str, AssistedSession] = field(default_factory=dict)  # by session id
    # Queued jobs, (kind, arguments) by ticket: committed with their unit of work or not at all.
    queued: dict[int, tuple[str, object]] = field(default_factory=dict)

    def copy(self) -> FakeTables:
        # The values are frozen dataclasses (or strings), so copying the dicts is enough.
        return FakeTables(**{table.name: dict(getattr(self, table.name)) for table in fields(self)})


@dataclass
class FakeDatabase:
    """What has been committed. Share one between several FakeUnitOfWork objects."""

    committed: FakeTables = field(default_factory=FakeTables)
    # Held for a whole `with uow:` block, as SQLite's BEGIN IMMEDIATE is, so
    # that units of work in different threads run one after the other.
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeJobQueue:
    """Keeps what is queued in the unit of work's tables, so a rollback unqueues it; nothing
    runs it (the services under test never wait for a job)."""

    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def enqueue_upload(self, job_id: str) -> list[str]:
        return self._queue("upload", job_id)

    def enqueue_evaluations(self, chunks: Sequence[Sequence[str]]) -> list[str]:
        return [
            ticket for chunk in chunks if chunk for ticket in self._queue("evaluation", list(chunk))
        ]

    def enqueue_upload_end(
        self, job_id: str, markers: Sequence[int], evaluations: Sequence[str]
    ) -> list[str]:
        return self._queue("upload_end", (job_id, list(markers), list(evaluations)))

    def enqueue_replay_plan(self, replay_id: str) -> list[str]:
        return self._queue("replay_plan", replay_id)

    def enqueue_replay_parts(self, replay_id: str, parts: Sequence[int]) -> list[str]:
        return [
            ticket for part in parts for ticket in self._queue("replay_part", (replay_id, part))
        ]

    def _queue(self, kind: str, arguments: object) -> list[str]:
        queued = self._tables().queued
        ticket = len(queued) + 1
        queued[ticket] = (kind, arguments)
        return [str(ticket)]


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase | None = None) -> None:
        self.database = database or FakeDatabase()
        self.commits = 0
        self._working: FakeTables | None = None
        self._reads_only = False
        self._autocommit = False
        self.challenges = FakeChallengeRepository(self._current)
        self.sessions = FakeSessionRepository(self._current)
        self.mykeys = FakeMyKeyRepository(self._current)
        self.persons = FakePersonRepository(self._current)
        self.operator_keys = FakeOperatorKeyRepository(self._current)
        self.accounts = FakeAccountRepository(self._current)
        self.applications = FakeApplicationRepository(self._current)
        self.events = FakeEventRepository(self._current)
        self.grants = FakeGrantRepository(self._current)
        self.settlements = FakeSettlementRepository(self._current)
        self.notices = FakeNoticeRepository(self._current)
        self.jobs = FakeIngestJobRepository(self._current)
        self.audit = FakeAuditRepository(self._current)
        self.staff = FakeStaffRepository(self._current)
        self.staff_sessions = FakeStaffSessionRepository(self._current)
        self.assisted = FakeAssistedSessionRepository(self._current)
        self.queue = FakeJobQueue(self._current)

    @property
    def committed(self) -> FakeTables:
        return self.database.committed

    def __enter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError(
                "this unit of work is already open; finish the `with uow:` block before "
                "starting another"
            )
        if not self.database.lock.acquire(timeout=_LOCK_TIMEOUT_S):
            raise RuntimeError(
                f"another unit of work on this FakeDatabase stayed open for "
                f"{_LOCK_TIMEOUT_S} s; are two `with` blocks nested?"
            )
        self._working = self.database.committed.copy()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._working is None:
            return
        if self._autocommit:
            # Each statement committed as it ran: whatever was written stays, error or not.
            self.database.committed = self._working.copy()
        # Whatever commit() did not take is dropped here: the rollback.
        self._working = None
        self._reads_only = False
        self._autocommit = False
        self.database.lock.release()

    def reading(self) -> Self:
        if self._working is not None:
            raise RuntimeError("reading() comes before its `with` block: `with uow.reading():`")
        self._reads_only = True
        return self

    def autocommit(self) -> Self:
        if self._working is not None:
            raise RuntimeError(
                "autocommit() comes before its `with` block: `with uow.autocommit():`"
            )
        self._autocommit = True
        return self

    def commit(self) -> None:
        if self._reads_only:
            raise RuntimeError("a reading block has nothing to commit; use `with uow:` to write")
        self.database.committed = self._current().copy()
        self.commits += 1

    def _current(self) -> FakeTables:
        if self._working is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._working


class FakeChallengeRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, challenge: Challenge) -> None:
        challenges = self._tables().challenges
        if challenge.challenge_id in challenges:
            raise ValueError(f"challenge '{challenge.challenge_id}' exists already")
        challenges[challenge.challenge_id] = challenge

    def get(self, challenge_id: str) -> Challenge | None:
        return self._tables().challenges.get(challenge_id)

    def use(self, challenge_id: str, at: datetime) -> Challenge | None:
        challenges = self._tables().challenges
        challenge = challenges.get(challenge_id)
        if challenge is None or challenge.used_at is not None or at >= challenge.expires_at:
            return None
        used = challenges[challenge_id] = replace(challenge, used_at=at)
        return used

    def purge(self, expired_before: datetime) -> int:
        challenges = self._tables().challenges
        gone = [key for key, c in challenges.items() if c.expires_at < expired_before]
        for key in gone:
            del challenges[key]
        return len(gone)


class FakeSessionRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, session: Session) -> None:
        sessions = self._tables().sessions
        if session.token_hash in sessions:
            raise ValueError(f"a session with token hash '{session.token_hash}' exists already")
        sessions[session.token_hash] = session

    def get(self, token_hash: str) -> Session | None:
        return self._tables().sessions.get(token_hash)

    def end(self, token_hash: str, at: datetime) -> None:
        sessions = self._tables().sessions
        session = sessions.get(token_hash)
        if session is not None and session.ended_at is None:
            sessions[token_hash] = replace(session, ended_at=at)

    def keep_preview(self, token_hash: str, preview: AccountPreview) -> None:
        if token_hash in self._tables().sessions:
            self._tables().session_previews[token_hash] = preview

    def preview(self, token_hash: str) -> AccountPreview | None:
        return self._tables().session_previews.get(token_hash)

    def forget_preview(self, token_hash: str, preview_id: str) -> bool:
        previews = self._tables().session_previews
        kept = previews.get(token_hash)
        if kept is None or kept.preview_id != preview_id:
            return False
        del previews[token_hash]
        return True

    def purge(self, before: datetime) -> int:
        sessions = self._tables().sessions
        gone = [
            key
            for key, s in sessions.items()
            if s.expires_at < before or (s.ended_at is not None and s.ended_at < before)
        ]
        for key in gone:
            del sessions[key]
            self._tables().session_previews.pop(key, None)
        return len(gone)


class FakeMyKeyRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def for_person(self, person: str) -> MyKey | None:
        return next((m for m in self._tables().mykeys.values() if m.person == person), None)

    def add(self, mykey: MyKey) -> bool:
        mykeys = self._tables().mykeys
        if mykey.mykey_id in mykeys or self.for_person(mykey.person) is not None:
            return False
        mykeys[mykey.mykey_id] = mykey
        return True

    def count(self) -> int:
        return len(self._tables().mykeys)

    def reserve(self, frame: int | None) -> bool:
        # One request at a time here: one counter is exact.
        reservations = self._tables().mykey_reservations
        taken = reservations.get(0, 0)
        if frame is not None and taken >= frame:
            return False
        reservations[0] = taken + 1
        return True


class FakePersonRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def save(self, snapshot: PersonSnapshot, at: datetime) -> None:
        del at  # the update time is kept for operators of the database only
        self._tables().persons[snapshot.person] = snapshot

    def save_locked(self, snapshot: PersonSnapshot, at: datetime) -> None:
        self.save(snapshot, at)
        self.lock([snapshot.person])

    def get(self, person: str) -> PersonSnapshot | None:
        return self._tables().persons.get(person)

    def get_many(self, persons: Sequence[str]) -> dict[str, PersonSnapshot]:
        stored = self._tables().persons
        return {person: stored[person] for person in persons if person in stored}

    def lock(self, persons: Sequence[str]) -> None:
        # A deliberate no-op: the fake holds the whole database for the block.
        del persons
        self._tables()


class FakeOperatorKeyRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, key: OperatorKey) -> None:
        keys = self._tables().operator_keys
        if key.key_id in keys:
            raise ValueError(f"operator key '{key.key_id}' exists already")
        keys[key.key_id] = key

    def get(self, key_id: str) -> OperatorKey | None:
        return self._tables().operator_keys.get(key_id)

    def of_operator(self, operator_code: str) -> list[OperatorKey]:
        keys = self._tables().operator_keys.values()
        keys = [key for key in keys if key.operator_code == operator_code]
        keys.sort(key=lambda k: k.key_id)
        keys.sort(key=lambda k: k.created_at, reverse=True)
        return keys

    def set_revoked_at(self, key_id: str, at: datetime) -> None:
        keys = self._tables().operator_keys
        if key_id in keys:
            keys[key_id] = replace(keys[key_id], revoked_at=at)


class FakeAccountRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def save(self, account: PaymentAccount, at: datetime) -> bool:
        del at  # the update time is kept for operators of the database only
        accounts = self._tables().accounts
        key = (account.service_code, account.payment_service_id)
        existing = accounts.get(key)
        registered_at = account.registered_at if existing is None else existing.registered_at
        accounts[key] = replace(account, registered_at=registered_at)
        if existing is not None:
            self.unlock(*key)
        return existing is None

    def get(self, service_code: str, payment_service_id: str) -> PaymentAccount | None:
        return self._tables().accounts.get((service_code, payment_service_id))

    def count_by_service(self, operator_code: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for account in self._tables().accounts.values():
            if account.operator_code == operator_code:
                counts[account.service_code] = counts.get(account.service_code, 0) + 1
        return counts

    def replace_code_hash(
        self, service_code: str, payment_service_id: str, old: str, new: str
    ) -> bool:
        accounts = self._tables().accounts
        key = (service_code, payment_service_id)
        account = accounts.get(key)
        if account is None or account.security_code_hash != old:
            return False
        accounts[key] = replace(account, security_code_hash=new)
        return True

    def code_tries(
        self, person: str, service_code: str, payment_service_id: str
    ) -> CodeTries | None:
        return self._tables().code_tries.get((service_code, payment_service_id, person))

    def record_wrong_code(
        self,
        person: str,
        service_code: str,
        payment_service_id: str,
        *,
        at: datetime,
        lock_until: datetime,
    ) -> CodeTries:
        tries = self._tables().code_tries
        key = (service_code, payment_service_id, person)
        found = tries.get(key)
        if found is not None and found.is_locked_at(at):
            return found
        stale = (
            found is None
            or found.locked_until is not None
            or (found.last_wrong_at <= at - CODE_TRIES_KEPT)
        )
        counted = 1 if stale or found is None else found.wrong_codes + 1
        tries[key] = CodeTries(
            wrong_codes=counted,
            last_wrong_at=at,
            locked_until=lock_until if counted >= ACCOUNT_CODE_TRIES else None,
        )
        return tries[key]

    def forget_code_tries(
        self, person: str, service_code: str, payment_service_id: str, at: datetime
    ) -> None:
        tries = self._tables().code_tries
        key = (service_code, payment_service_id, person)
        found = tries.get(key)
        if found is not None and not found.is_locked_at(at):
            del tries[key]

    def unlock(self, service_code: str, payment_service_id: str) -> int:
        tries = self._tables().code_tries
        keys = [key for key in tries if key[:2] == (service_code, payment_service_id)]
        for key in keys:
            del tries[key]
        return len(keys)

    def purge_code_tries(self, now: datetime) -> int:
        tries = self._tables().code_tries
        gone = [
            key
            for key, found in tries.items()
            if (found.locked_until is not None and found.locked_until <= now)
            or (found.locked_until is None and found.last_wrong_at <= now - CODE_TRIES_KEPT)
        ]
        for key in gone:
            del tries[key]
        return len(gone)


class FakeApplicationRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, application: StoredApplication) -> bool:
        applications = self._tables().applications
        if application.application_id in applications:
            return False
        if application.is_active and any(
            stored.is_active
            and stored.person == application.person
            and stored.measure == application.measure
            for stored in applications.values()
        ):
            return False
        applications[application.application_id] = application
        return True

    def get(self, application_id: str) -> StoredApplication | None:
        return self._tables().applications.get(application_id)

    def for_person(self, person: str) -> list[StoredApplication]:
        return self.for_persons([person])[person]

    def applicants(self, after: str | None, limit: int) -> list[str]:
        persons = sorted({a.person for a in self._tables().applications.values()})
        return [p for p in persons if after is None or p > after][:limit]

    def applicants_through(self, after: str | None, last: str, limit: int) -> list[str]:
        return [p for p in self.applicants(after, limit) if p <= last]

    def count_applicants(self) -> int:
        return len({a.person for a in self._tables().applications.values()})

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredApplication]]:
        found: dict[str, list[StoredApplication]] = {person: [] for person in persons}
        ordered = sorted(
            self._tables().applications.values(), key=lambda a: (a.applied_at, a.application_id)
        )
        for application in ordered:
            if application.person in found:
                found[application.person].append(application)
        return found

    def cancel(self, application_id: str, at: datetime) -> None:
        applications = self._tables().applications
        application = applications.get(application_id)
        if application is not None and application.is_active:
            applications[application_id] = replace(application, cancelled_at=at)

    def link_account(
        self, service_code: str, payment_service_id: str, person: str, at: datetime
    ) -> str:
        del at  # the link time is kept for operators of the database only
        links = self._tables().account_links
        return links.setdefault((service_code, payment_service_id), person)

    def unlink_account(self, service_code: str, payment_service_id: str, person: str) -> None:
        links = self._tables().account_links
        if links.get((service_code, payment_service_id)) == person:
            del links[service_code, payment_service_id]

    def person_for_account(self, service_code: str, payment_service_id: str) -> str | None:
        return self._tables().account_links.get((service_code, payment_service_id))

    def persons_for_accounts(
        self, accounts: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        links = self._tables().account_links
        return {account: links[account] for account in accounts if account in links}


class FakeEventRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def existing_hashes(self, operator_code: str, event_ids: Sequence[str]) -> dict[str, str]:
        events = self._tables().events
        return {
            event_id: events[operator_code, event_id].content_hash
            for event_id in event_ids
            if (operator_code, event_id) in events
        }

    def add_many(self, events: Sequence[StoredEvent]) -> int:
        stored = self._tables().events
        inserted = 0
        for event in events:
            key = (event.operator_code, event.event_id)
            if key not in stored:
                stored[key] = event
                inserted += 1
        return inserted

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredEvent]]:
        found: dict[str, list[StoredEvent]] = {person: [] for person in persons}
        ordered = sorted(
            self._tables().events.values(),
            key=lambda e: (e.occurred_at, e.operator_code, e.event_id),
        )
        for event in ordered:
            if event.person in found:
                found[event.person].append(event)
        return found

    def mark_pending(self, persons: Sequence[str]) -> int:
        pending = self._tables().pending
        marker_id = max(pending, default=0) + 1
        pending[marker_id] = tuple(sorted(set(persons)))
        return marker_id

    def pending_markers(self) -> list[int]:
        return sorted(self._tables().pending)

    def pending_persons(self, marker_ids: Sequence[int], chunk: int) -> Iterator[list[str]]:
        pending = self._tables().pending
        persons = sorted({p for marker in marker_ids for p in pending.get(marker, ())})
        for start in range(0, len(persons), chunk):
            yield persons[start : start + chunk]

    def clear_pending(self, marker_ids: Sequence[int]) -> None:
        pending = self._tables().pending
        for marker_id in marker_ids:
            pending.pop(marker_id, None)

    def reasons(
        self, operator_code: str, event_ids: Sequence[str]
    ) -> dict[str, IgnoreReason | None]:
        events = self._tables().events
        return {
            event_id: events[operator_code, event_id].reason
            for event_id in event_ids
            if (operator_code, event_id) in events
        }

    def set_reasons(self, reasons: Sequence[tuple[str, str, str | None]]) -> None:
        events = self._tables().events
        for operator_code, event_id, reason in reasons:
            event = events.get((operator_code, event_id))
            if event is not None:
                known = None if reason is None else IgnoreReason(reason)
                events[operator_code, event_id] = replace(event, reason=known)


class FakeGrantRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def lines_for_persons(self, persons: Sequence[str]) -> dict[str, list[tuple[str, str, int]]]:
        found: dict[str, list[tuple[str, str, int]]] = {person: [] for person in persons}
        for instruction in self._in_order():
            if instruction.person in found:
                found[instruction.person].extend(
                    (line.source, line.measure, line.points) for line in instruction.lines
                )
        return found

    def add_many(self, instructions: Sequence[GrantInstruction]) -> None:
        grants = self._tables().grants
        for instruction in instructions:
            if instruction.grant_id in grants:
                raise ValueError(f"grant '{instruction.grant_id}' exists already")
            keys = [(line.source, line.measure) for line in instruction.lines]
            if len(set(keys)) != len(keys):
                raise ValueError(f"grant '{instruction.grant_id}' repeats a (source, measure)")
            # Lines read back ordered by source, then measure, as from the database.
            lines = tuple(sorted(instruction.lines, key=lambda line: (line.source, line.measure)))
            grants[instruction.grant_id] = replace(instruction, lines=lines)

    def pending(
        self,
        operator_code: str,
        due_by: date,
        service_code: str | None,
        after: str | None,
        limit: int,
    ) -> list[GrantInstruction]:
        return [
            instruction
            for instruction in self._in_order()
            if instruction.operator_code == operator_code
            and instruction.acknowledged_at is None
            and instruction.grant_on <= due_by
            and (service_code is None or instruction.service_code == service_code)
            and (after is None or instruction.grant_id > after)
        ][: max(limit, 0)]

    def counts(self, operator_code: str, today: date) -> GrantCounts:
        mine = [g for g in self._tables().grants.values() if g.operator_code == operator_code]
        pending = [g.grant_on for g in mine if g.acknowledged_at is None]
        return GrantCounts(
            overdue=sum(on < today for on in pending),
            due=sum(on == today for on in pending),
            upcoming=sum(on > today for on in pending),
            acknowledged=len(mine) - len(pending),
        )

    def acknowledge(self, operator_code: str, grant_ids: Sequence[str], at: datetime) -> int:
        grants = self._tables().grants
        acknowledged = 0
        for grant_id in dict.fromkeys(grant_ids):
            instruction = grants.get(grant_id)
            if (
                instruction is not None
                and instruction.operator_code == operator_code
                and instruction.acknowledged_at is None
            ):
                grants[grant_id] = replace(instruction, acknowledged_at=at)
                acknowledged += 1
        return acknowledged

    def for_month(self, month: str) -> list[GrantInstruction]:
        return [i for i in self._in_order() if i.settlement_month == month]

    def for_person(self, person: str) -> list[GrantInstruction]:
        return [i for i in self._in_order() if i.person == person]

    def month_totals(self, month: str) -> list[MonthTotals]:
        totals: dict[tuple[str, str], list[int]] = {}
        events: dict[tuple[str, str], set[str]] = {}
        persons: dict[tuple[str, str], set[str]] = {}
        for instruction in self.for_month(month):
            key = (instruction.operator_code, instruction.service_code)
            granted_clawed = totals.setdefault(key, [0, 0])
            granted_clawed[instruction.points < 0] += abs(instruction.points)
            events.setdefault(key, set()).update(
                line.source for line in instruction.lines if line.event_id is not None
            )
            persons.setdefault(key, set()).add(instruction.person)
        return [
            MonthTotals(*key, granted, clawed, len(events[key]), len(persons[key]))
            for key, (granted, clawed) in sorted(totals.items())
        ]

    def _in_order(self) -> list[GrantInstruction]:
        grants = self._tables().grants
        return [grants[grant_id] for grant_id in sorted(grants)]


class FakeSettlementRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def closed_months(self) -> set[str]:
        return set(self._tables().settlements)

    def close(self, month: str, at: datetime) -> bool:
        settlements = self._tables().settlements
        if month in settlements:
            return False
        settlements[month] = at
        return True

    def approvals(self, month: str | None = None) -> list[Approval]:
        found = [a for a in self._tables().approvals.values() if month in {None, a.month}]
        found.sort(key=lambda a: a.operator_code)
        return sorted(found, key=lambda a: a.month, reverse=True)

    def in_payment_file(self, payment_file: str) -> list[Approval]:
        found = self._tables().approvals.values()
        return sorted(
            (a for a in found if a.payment_file == payment_file), key=lambda a: a.operator_code
        )

    def add_approval(self, approval: Approval) -> bool:
        approvals = self._tables().approvals
        key = (approval.month, approval.operator_code)
        if key in approvals:
            return False
        approvals[key] = approval
        return True

    def advance_approval(self, approval: Approval, previous: ApprovalState) -> bool:
        approvals = self._tables().approvals
        key = (approval.month, approval.operator_code)
        if key not in approvals or approvals[key].state is not previous:
            return False
        approvals[key] = approval
        return True


class FakeNoticeRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add_many(self, notices: Sequence[LinkageNotice]) -> None:
        for notice in notices:
            self._tables().notices[notice.notice_id] = notice

    def for_operator(self, operator_code: str) -> list[LinkageNotice]:
        found = [n for n in self._tables().notices.values() if n.operator_code == operator_code]
        return sorted(found, key=lambda n: (n.created_at, n.notice_id))


class FakeIngestJobRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, job: IngestJob) -> None:
        self._tables().jobs[job.job_id] = job

    def get(self, job_id: str) -> IngestJob | None:
        return self._tables().jobs.get(job_id)

    def save(self, job: IngestJob) -> None:
        if job.job_id in self._tables().jobs:
            self._tables().jobs[job.job_id] = job

    def save_if_owned(self, job: IngestJob) -> bool:
        stored = self._tables().jobs.get(job.job_id)
        if stored is None or stored.owner != job.owner:
            return False
        self._tables().jobs[job.job_id] = job
        return True

    def beat(self, job_id: str, owner: str, at: datetime) -> bool:
        stored = self._tables().jobs.get(job_id)
        if stored is None or stored.owner != owner or not stored.is_live:
            return False
        self._tables().jobs[job_id] = replace(stored, heartbeat_at=at)
        return True

    def claim(self, job_id: str, owner: str, expired_before: datetime, at: datetime) -> bool:
        stored = self._tables().jobs.get(job_id)
        if stored is None or not stored.is_live:
            return False
        if stored.heartbeat_at is not None and stored.heartbeat_at >= expired_before:
            return False
        self._tables().jobs[job_id] = replace(stored, owner=owner, heartbeat_at=at)
        return True

    def live(self) -> list[IngestJob]:
        jobs = [job for job in self._tables().jobs.values() if job.is_live]
        return sorted(jobs, key=lambda job: (job.created_at, job.job_id))

    def recent(self, operator_code: str, limit: int) -> list[IngestJob]:
        jobs = self._tables().jobs.values()
        mine = [j for j in jobs if j.operator_code == operator_code and "." not in j.job_id]
        mine.sort(key=lambda job: (job.created_at, job.job_id), reverse=True)
        return mine[:limit]

    def add_progress(self, job_id: str, batch: IngestJob, keep: int) -> None:
        stored = self._tables().jobs[job_id]
        self._tables().jobs[job_id] = replace(
            stored,
            lines=stored.lines + batch.lines,
            read_bytes=stored.read_bytes + batch.read_bytes,
            accepted=stored.accepted + batch.accepted,
            duplicates=stored.duplicates + batch.duplicates,
            rejected=stored.rejected + batch.rejected,
            rejected_lines=tuple(
                sorted(
                    [*stored.rejected_lines, *batch.rejected_lines],
                    key=lambda line: int(str(line["line"])),
                )[:keep]
            ),
        )

    def remove_parts(self, job_id: str) -> None:
        jobs = self._tables().jobs
        for part in [key for key in jobs if key.startswith(f"{job_id}.")]:
            del jobs[part]

    def add_lines(self, job_id: str, lines: Sequence[tuple[int, str]]) -> None:
        stored = self._tables().job_lines
        for line, event_id in lines:
            if (job_id, line) in stored:
                raise ValueError(f"line {line} of job {job_id} is stored already")
            stored[job_id, line] = event_id

    def verdicts(self, job_id: str, operator_code: str, limit: int) -> JobVerdicts:
        tables = self._tables()
        verdicts = [
            EventVerdict(line, event_id, tables.events[operator_code, event_id].reason)
            for (job, line), event_id in sorted(tables.job_lines.items())
            if job == job_id and (operator_code, event_id) in tables.events
        ]
        not_counted = [verdict for verdict in verdicts if not verdict.counted]
        by_reason: dict[IgnoreReason, int] = {}
        for verdict in not_counted:
            assert verdict.reason is not None
            by_reason[verdict.reason] = by_reason.get(verdict.reason, 0) + 1
        return JobVerdicts(
            counted=len(verdicts) - len(not_counted),
            not_counted=len(not_counted),
            not_counted_by_reason=dict(sorted(by_reason.items())),
            not_counted_lines=tuple(not_counted[:limit]),
        )


class FakeAuditRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def lock_tip(self) -> ChainHead:
        # The lock is a deliberate no-op: the fake holds the whole database for the block.
        log = self._tables().audit_log
        if not log:
            return ChainHead(0, GENESIS_HASH)
        last = log[max(log)]
        return ChainHead(last.seq, last.entry_hash)

    def lock_heads(self) -> None:
        # A deliberate no-op: the fake holds the whole database for the block.
        return

    def add(self, entry: SealedEntry) -> None:
        log = self._tables().audit_log
        if entry.seq in log:
            raise ValueError(f"audit entry {entry.seq} exists already")
        log[entry.seq] = entry

    def entries(self) -> list[SealedEntry]:
        log = self._tables().audit_log
        return [log[seq] for seq in sorted(log)]

    def add_head(self, head: PublishedHead) -> None:
        heads = self._tables().audit_heads
        heads[len(heads) + 1] = head

    def latest_head(self) -> PublishedHead | None:
        heads = self._tables().audit_heads
        if not heads:
            return None
        # Latest published first, and of two at one moment the later stored, as in SQL.
        return max(heads.items(), key=lambda item: (item[1].published_at, item[0]))[1]

    def heads(self) -> list[PublishedHead]:
        heads = self._tables().audit_heads
        return [heads[number] for number in sorted(heads)]

    def recent(self, corner: str | None, limit: int) -> list[SealedEntry]:
        log = self._tables().audit_log
        newest = [log[seq] for seq in sorted(log, reverse=True)]
        return [e for e in newest if corner is None or e.entry.corner == corner][: max(limit, 0)]

    def search(
        self, criteria: AuditSearch, offset: int, limit: int
    ) -> tuple[int, list[SealedEntry]]:
        log = self._tables().audit_log
        found = [log[seq] for seq in sorted(log, reverse=True) if criteria.matches(log[seq].entry)]
        start = max(offset, 0)
        return len(found), found[start : start + max(limit, 0)]

    def actions(self) -> list[str]:
        return sorted({sealed.entry.action for sealed in self._tables().audit_log.values()})


class FakeStaffRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, account: StaffAccount) -> bool:
        return self._tables().staff.setdefault(account.name, account) is account

    def get(self, name: str) -> StaffAccount | None:
        return self._tables().staff.get(name)

    def set_password(
        self, name: str, password_hash: str, *, must_change: bool, at: datetime
    ) -> None:
        del at
        staff = self._tables().staff
        if name in staff:
            staff[name] = replace(
                staff[name], password_hash=password_hash, must_change_password=must_change
            )

    def set_disabled(self, name: str, *, disabled: bool, at: datetime) -> None:
        del at
        staff = self._tables().staff
        if name in staff:
            staff[name] = replace(staff[name], disabled=disabled)

    def listed(self, corner: str | None) -> list[StaffAccount]:
        staff = self._tables().staff
        return [
            staff[name] for name in sorted(staff) if corner is None or staff[name].corner == corner
        ]


class FakeStaffSessionRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, session: StaffSession) -> None:
        sessions = self._tables().staff_sessions
        if session.token_hash in sessions:
            raise ValueError(f"a staff session '{session.token_hash}' exists already")
        sessions[session.token_hash] = session

    def get(self, token_hash: str) -> StaffSession | None:
        return self._tables().staff_sessions.get(token_hash)

    def touch(self, token_hash: str, at: datetime) -> None:
        sessions = self._tables().staff_sessions
        session = sessions.get(token_hash)
        if session is not None and session.ended_at is None and session.last_seen_at < at:
            sessions[token_hash] = replace(session, last_seen_at=at)

    def end(self, token_hash: str, at: datetime) -> None:
        sessions = self._tables().staff_sessions
        session = sessions.get(token_hash)
        if session is not None and session.ended_at is None:
            sessions[token_hash] = replace(session, ended_at=at)

    def purge(self, before: datetime, idle_since: datetime) -> int:
        sessions = self._tables().staff_sessions
        gone = [
            key
            for key, s in sessions.items()
            if s.expires_at < before
            or (s.ended_at is not None and s.ended_at < before)
            or s.last_seen_at < idle_since
        ]
        for key in gone:
            del sessions[key]
        return len(gone)

    def end_all(self, staff: str, at: datetime) -> None:
        for session in list(self._tables().staff_sessions.values()):
            if session.staff == staff:
                self.end(session.token_hash, at)


class FakeAssistedSessionRepository:
    def __init__(self, tables: Callable[[], FakeTables]) -> None:
        self._tables = tables

    def add(self, session: AssistedSession) -> bool:
        sessions = self._tables().assisted
        if session.session_id in sessions or self.open_for(session.staff) is not None:
            return False
        sessions[session.session_id] = session
        return True

    def get(self, session_id: str, *, lock: bool = False) -> AssistedSession | None:
        del lock  # the fake holds the whole database for the block
        return self._tables().assisted.get(session_id)

    def open_for(self, staff: str, *, lock: bool = False) -> AssistedSession | None:
        del lock
        return next(
            (s for s in self._tables().assisted.values() if s.staff == staff and s.is_open), None
        )

    def save(self, session: AssistedSession) -> None:
        sessions = self._tables().assisted
        if session.session_id in sessions:
            sessions[session.session_id] = session

    def recent(self, corner: str | None, limit: int) -> list[AssistedSession]:
        found = [
            s for s in self._tables().assisted.values() if corner is None or s.corner == corner
        ]
        found.sort(key=lambda s: s.session_id)
        found.sort(key=lambda s: s.started_at, reverse=True)
        return found[: max(limit, 0)]

    def open_sessions(self, corner: str | None) -> list[AssistedSession]:
        found = [
            s
            for s in self._tables().assisted.values()
            if s.is_open and (corner is None or s.corner == corner)
        ]
        return sorted(found, key=lambda s: (s.started_at, s.session_id))
