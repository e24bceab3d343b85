"""What the use cases need from storage: repositories inside one unit of work.

`db/` implements these over SQLAlchemy; tests use in-memory fakes. A unit of
work rolls back unless `commit()` runs inside its `with` block.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from mynapoint.domain.account_previews import AccountPreview
from mynapoint.domain.accounts import CodeTries, PaymentAccount
from mynapoint.domain.assist import AssistedSession
from mynapoint.domain.audit import AuditSearch, ChainHead, PublishedHead, SealedEntry
from mynapoint.domain.auth import Challenge, Session
from mynapoint.domain.ledger import (
    OperatorKey,
    PersonSnapshot,
    StoredApplication,
)
from mynapoint.domain.mykey import MyKey
from mynapoint.domain.staff import StaffAccount, StaffSession
from mynapoint.services.ledger_ports import (
    EventRepository,
    GrantRepository,
    IngestJobRepository,
    NoticeRepository,
    SettlementRepository,
)
from mynapoint.services.policy_ports import ReplayRepository


class ChallengeRepository(Protocol):
    def add(self, challenge: Challenge) -> None: ...

    def get(self, challenge_id: str) -> Challenge | None: ...

    def use(self, challenge_id: str, at: datetime) -> Challenge | None:
        """Use a challenge once: the challenge, marked used at `at`, if it was unused and not
        expired at `at`; None otherwise (unknown, used already — two logins raced for it —
        or expired), and then nothing changes."""
        ...

    def purge(self, expired_before: datetime) -> int:
        """Delete the challenges that expired before then, used or not; how many."""
        ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> None: ...

    def get(self, token_hash: str) -> Session | None: ...

    def end(self, token_hash: str, at: datetime) -> None: ...

    def keep_preview(self, token_hash: str, preview: AccountPreview) -> None:
        """Keep the account this session's preview checked, replacing any earlier one."""
        ...

    def preview(self, token_hash: str) -> AccountPreview | None: ...

    def forget_preview(self, token_hash: str, preview_id: str) -> bool:
        """Forget the session's preview if it is `preview_id`; False if it was not (a newer
        preview replaced it, or it was used already)."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete the sessions that expired or ended before then; how many."""
        ...


class MyKeyRepository(Protocol):
    def for_person(self, person: str) -> MyKey | None: ...

    def add(self, mykey: MyKey) -> bool:
        """Store a new MyKey ID; False (and nothing stored) if the person already has one or
        the ID is taken. Both are unique in the database, so concurrent requests cannot both win.
        """
        ...

    def count(self) -> int:
        """The MyKey IDs stored (a whole-table count: for checks and reports; the budget frame
        uses `reserve`)."""
        ...

    def reserve(self, frame: int | None) -> bool:
        """Take the next place among the reserved MyKey IDs, if fewer than `frame` (None: no
        frame) are taken; False (and nothing taken) when the frame is full. Concurrent
        reservations cannot overshoot it, and one is refused only when every place is taken;
        a rolled-back unit of work gives its place back."""
        ...


class PersonRepository(Protocol):
    def save(self, snapshot: PersonSnapshot, at: datetime) -> None:
        """Insert or refresh the platform's copy of a person's card facts."""
        ...

    def save_locked(self, snapshot: PersonSnapshot, at: datetime) -> None:
        """`save`, then `lock([snapshot.person])`, in one step."""
        ...

    def get(self, person: str) -> PersonSnapshot | None: ...

    def get_many(self, persons: Sequence[str]) -> dict[str, PersonSnapshot]: ...

    def lock(self, persons: Sequence[str]) -> None:
        """Hold these persons' ledgers until the unit of work ends (in a stable order, so two
        batches never deadlock): concurrent re-evaluations of one person run one at a time."""
        ...


class OperatorKeyRepository(Protocol):
    def add(self, key: OperatorKey) -> None: ...

    def get(self, key_id: str) -> OperatorKey | None: ...

    def of_operator(self, operator_code: str) -> list[OperatorKey]:
        """The operator's keys, revoked ones too, the newest first."""
        ...

    def set_revoked_at(self, key_id: str, at: datetime) -> None:
        """The key stops working at `at` (now: revoked; later: the end of an overlap)."""
        ...


class AccountRepository(Protocol):
    def save(self, account: PaymentAccount, at: datetime) -> bool:
        """Register or replace an account (every person's tries start again); True if new."""
        ...

    def get(self, service_code: str, payment_service_id: str) -> PaymentAccount | None: ...

    def count_by_service(self, operator_code: str) -> dict[str, int]:
        """How many accounts the operator registered, per service code."""
        ...

    def replace_code_hash(
        self, service_code: str, payment_service_id: str, old: str, new: str
    ) -> bool:
        """Store `new` as the account's code hash if it still holds `old` (a hash of an older
        form, replaced after a successful check); False when the account changed meanwhile."""
        ...

    def code_tries(
        self, person: str, service_code: str, payment_service_id: str
    ) -> CodeTries | None:
        """The person's wrong security codes for this account ID (registered or not)."""
        ...

    def record_wrong_code(
        self,
        person: str,
        service_code: str,
        payment_service_id: str,
        *,
        at: datetime,
        lock_until: datetime,
    ) -> CodeTries:
        """Atomically count one wrong code of the person for the account ID: the
        ACCOUNT_CODE_TRIES-th in a row locks the person out of it until `lock_until`; a live
        lock is left as it is; tries whose lock ended, or older than CODE_TRIES_KEPT, count
        from 1 again. Concurrent wrong codes never pass ACCOUNT_CODE_TRIES."""
        ...

    def forget_code_tries(
        self, person: str, service_code: str, payment_service_id: str, at: datetime
    ) -> None:
        """A right code: the person's wrong ones are forgotten, unless a lock is live at `at`."""
        ...

    def unlock(self, service_code: str, payment_service_id: str) -> int:
        """Forget every person's tries for the account (its operator lifts the locks);
        returns how many persons had some."""
        ...

    def purge_code_tries(self, now: datetime) -> int:
        """Delete the tries that no longer count at `now` (lock ended, or older than
        CODE_TRIES_KEPT); returns how many."""
        ...


class ApplicationRepository(Protocol):
    def add(self, application: StoredApplication) -> bool:
        """False (nothing stored) if the person already has an active application for the
        measure: a unique index decides between concurrent requests."""
        ...

    def get(self, application_id: str) -> StoredApplication | None: ...

    def for_person(self, person: str) -> list[StoredApplication]: ...

    def for_persons(self, persons: Sequence[str]) -> dict[str, list[StoredApplication]]: ...

    def applicants(self, after: str | None, limit: int) -> list[str]:
        """Up to `limit` persons with an application (active or cancelled), in order, each
        after `after`: a keyset page through every applicant (the policy lab's replay)."""
        ...

    def count_applicants(self) -> int: ...

    def applicants_through(self, after: str | None, last: str, limit: int) -> list[str]:
        """Like `applicants`, but none after `last` (a replay's part: its bounds)."""
        ...

    def cancel(self, application_id: str, at: datetime) -> None: ...

    def link_account(
        self, service_code: str, payment_service_id: str, person: str, at: datetime
    ) -> str:
        """Link the account to the person unless it is linked already; return whom it is linked
        to (R4: one person per account, decided by the primary key under concurrency)."""
        ...

    def unlink_account(self, service_code: str, payment_service_id: str, person: str) -> None: ...

    def person_for_account(self, service_code: str, payment_service_id: str) -> str | None: ...

    def persons_for_accounts(
        self, accounts: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """The linked person of each (service_code, payment_service_id) that is linked."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log: entries are added and read, never changed or removed."""

    def lock_tip(self) -> ChainHead:
        """Hold the end of the log until the unit of work ends, so that appends from every
        process run one after the other; the last entry's seq and hash (0 and the genesis hash
        when the log is empty)."""
        ...

    def add(self, entry: SealedEntry) -> None:
        """Store an entry; its seq is unique, so a second entry with one number fails."""
        ...

    def entries(self) -> list[SealedEntry]:
        """Every entry as stored, by seq."""
        ...

    def add_head(self, head: PublishedHead) -> None: ...

    def lock_heads(self) -> None:
        """Hold the published heads until the unit of work ends, so that of the processes that
        find a head due at the same moment (every server worker checks), one publishes and the
        others then see its head. Appends to the log do not wait for it."""
        ...

    def latest_head(self) -> PublishedHead | None:
        """The head published last (by publication time), if any."""
        ...

    def heads(self) -> list[PublishedHead]:
        """Every stored head, in the order they were stored."""
        ...

    def recent(self, corner: str | None, limit: int) -> list[SealedEntry]:
        """The newest entries first, at most `limit`; only the corner's when one is given."""
        ...

    def search(
        self, criteria: AuditSearch, offset: int, limit: int
    ) -> tuple[int, list[SealedEntry]]:
        """How many entries match, and the matching ones newest first (by seq), from the
        `offset`-th, at most `limit`."""
        ...

    def actions(self) -> list[str]:
        """The actions the log holds, each once, sorted."""
        ...


class StaffRepository(Protocol):
    def add(self, account: StaffAccount) -> bool:
        """False (nothing stored) if the name is taken."""
        ...

    def get(self, name: str) -> StaffAccount | None: ...

    def set_password(
        self, name: str, password_hash: str, *, must_change: bool, at: datetime
    ) -> None: ...

    def listed(self, corner: str | None) -> list[StaffAccount]:
        """Accounts by name; only the corner's when one is given."""
        ...

    def set_disabled(self, name: str, *, disabled: bool, at: datetime) -> None:
        """Disable the account (it cannot sign in) or enable it again."""
        ...


class StaffSessionRepository(Protocol):
    def add(self, session: StaffSession) -> None: ...

    def get(self, token_hash: str) -> StaffSession | None: ...

    def touch(self, token_hash: str, at: datetime) -> None: ...

    def end(self, token_hash: str, at: datetime) -> None: ...

    def end_all(self, staff: str, at: datetime) -> None: ...

    def purge(self, before: datetime, idle_since: datetime) -> int:
        """Delete the sessions that expired or ended before `before`, or were last seen before
        `idle_since` (past the idle limit); how many."""
        ...


class AssistedSessionRepository(Protocol):
    def add(self, session: AssistedSession) -> bool:
        """False (nothing stored) if the staff member has an open session already: a unique
        index keeps one open session per staff member, whatever races."""
        ...

    def get(self, session_id: str, *, lock: bool = False) -> AssistedSession | None:
        """With `lock`, the row is held until the unit of work ends (PostgreSQL)."""
        ...

    def open_for(self, staff: str, *, lock: bool = False) -> AssistedSession | None: ...

    def save(self, session: AssistedSession) -> None:
        """Store the session's activity, MyKey ID, preview and end."""
        ...

    def recent(self, corner: str | None, limit: int) -> list[AssistedSession]:
        """The newest first; only the corner's when one is given."""
        ...

    def open_sessions(self, corner: str | None) -> list[AssistedSession]: ...


class JobQueue(Protocol):
    """Background work, enqueued in the unit of work's transaction: a job is queued if and
    only if the rows it covers commit (docs/JOBS.md). Each call returns the queued jobs'
    tickets (empty where the serving process runs the work itself, from the rows)."""

    def enqueue_upload(self, job_id: str) -> list[str]:
        """Load the upload job's file (ingest_jobs); the load ends with enqueue_upload_end."""
        ...

    def enqueue_evaluations(self, chunks: Sequence[Sequence[str]]) -> list[str]:
        """Re-evaluate each chunk of persons, one job per chunk, workers taking them side by
        side (each in its own transaction holding its persons' locks)."""
        ...

    def enqueue_upload_end(
        self, job_id: str, markers: Sequence[int], evaluations: Sequence[str]
    ) -> list[str]:
        """Once the `evaluations` are over: clear the pending `markers` they covered and mark
        the upload job done."""
        ...

    def enqueue_upload_parts(self, parts: Sequence[tuple[str, int]]) -> list[str]:
        """Load each part of an upload's file (its ingest_jobs row, up to byte `end`), one
        job per part, workers taking them side by side."""
        ...

    def enqueue_upload_loaded(self, job_id: str, parts: Sequence[str]) -> list[str]:
        """Once the `parts` loads are over: queue the upload's evaluations and end job (or
        fail the upload when a part failed)."""
        ...

    def enqueue_replay_plan(self, replay_id: str) -> list[str]:
        """Cut a stored replay's applicants into parts and queue a job per part."""
        ...

    def enqueue_replay_parts(self, replay_id: str, parts: Sequence[int]) -> list[str]:
        """Judge each part of a replay, one job per part, workers taking them side by side."""
        ...


class UnitOfWork(Protocol):
    challenges: ChallengeRepository
    sessions: SessionRepository
    mykeys: MyKeyRepository
    persons: PersonRepository
    operator_keys: OperatorKeyRepository
    accounts: AccountRepository
    applications: ApplicationRepository
    events: EventRepository
    grants: GrantRepository
    settlements: SettlementRepository
    notices: NoticeRepository
    jobs: IngestJobRepository
    audit: AuditRepository
    staff: StaffRepository
    staff_sessions: StaffSessionRepository
    assisted: AssistedSessionRepository
    replays: ReplayRepository
    queue: JobQueue

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def reading(self) -> Self:
        """For `with uow.reading():`, a block that only reads: each read sees what was
        committed when it ran (as in a READ COMMITTED transaction), without the cost of a
        transaction; a write or commit() in it is refused."""
        ...

    def autocommit(self) -> Self:
        """For `with uow.autocommit():`, a block whose statements each commit as they run:
        for a block that makes one write (a single statement is atomic by itself), without
        the round trips of a transaction around it. commit() in it changes nothing more."""
        ...

    def commit(self) -> None: ...
