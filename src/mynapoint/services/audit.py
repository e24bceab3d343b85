"""The audit log of assisted actions: record, publish the head, verify (RULES.md §6).

Every assisted action is recorded in the same transaction as the action itself,
so that neither lands without the other. The head (entry count + hash of that
entry) is published at least daily and on demand:

- on demand: `mynapoint audit publish`;
- daily: the server publishes when it starts, unless a head was published less
  than a day of platform time ago, and then checks every 10 minutes whether a
  day has passed since the last one (`keep_publishing`).

A published head is signed with the audit key (services/head_signing.py, a file the
database does not hold), stored in `audit_heads` and written as a JSON line to the
structured log (logger `mynapoint.audit`), which whoever can rewrite the database
cannot rewrite. `mynapoint audit verify --head …` checks the log against a head taken
from there (its signature too, when it carries one); without `--head` it uses the
genuine stored head that counts most, and reports stored heads that the key did not sign.
No head is published over a log that fails verification: that would bless the damage.
The tables themselves refuse UPDATE and DELETE (migration 0009's triggers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mynapoint.domain.audit import (
    AuditEntry,
    AuditSearch,
    ChainHead,
    ChainProblem,
    PublishedHead,
    SealedEntry,
    forged_head,
    head_of,
    seal,
    trusted_head,
    verify_chain,
)
from mynapoint.domain.errors import MynapointError
from mynapoint.services.head_signing import AuditKey, HeadVerifier
from mynapoint.services.ports import UnitOfWork

log = logging.getLogger("mynapoint.audit")

PUBLISH_EVERY = timedelta(days=1)
CHECK_EVERY = timedelta(minutes=10)

# What a use case that can be assisted (preview, apply, the MyKey ID) calls inside its own
# unit of work, right before it commits, with what happened ("applied") and its facts: the
# support corner records the action there (`record`), so that neither lands without the
# other, and may refuse it (raising rolls the action back). None elsewhere.
BeforeCommit = Callable[[UnitOfWork, str, Mapping[str, Any]], None]


class AuditChainBroken(MynapointError):
    code = "audit_chain_broken"

    def __init__(self, problems: list[ChainProblem]) -> None:
        found = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        super().__init__(
            f"the audit log fails verification ({found}); no head was published",
            problems=[str(problem) for problem in problems],
        )
        self.problems = problems


@dataclass(frozen=True)
class AuditReport:
    entries: int
    head: ChainHead  # the log's head as stored now
    checked_against: ChainHead | None
    # When `checked_against` was published; None when it was given unsigned or there is none.
    published_at: datetime | None
    problems: tuple[ChainProblem, ...]
    # `checked_against` carries a signature that verifies with the audit key.
    signed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AuditPage:
    """One page of the entries matching a search, newest first."""

    total: int
    page: int  # from 1
    per_page: int
    entries: tuple[SealedEntry, ...]
    actions: tuple[str, ...]  # every action in the log, to search by

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The number of the page's first entry in the matches (0 when none)."""
        return (self.page - 1) * self.per_page + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1 if self.entries else 0


def browse(uow: UnitOfWork, criteria: AuditSearch, page: int, per_page: int) -> AuditPage:
    """The `page`-th page (from 1; past the last: the last) of the matching entries."""
    page = max(page, 1)
    with uow:
        total, entries = uow.audit.search(criteria, (page - 1) * per_page, per_page)
        last_page = max(1, -(-total // per_page))
        if page > last_page:
            page = last_page
            total, entries = uow.audit.search(criteria, (page - 1) * per_page, per_page)
        actions = uow.audit.actions()
    return AuditPage(total, page, per_page, tuple(entries), tuple(actions))


def record(
    uow: UnitOfWork,
    *,
    now: datetime,
    actor: str,
    role: str,
    corner: str | None,
    action: str,
    mykey_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> SealedEntry:
    """Append an entry inside the caller's `with uow:` block; the caller commits.

    On PostgreSQL the end of the log stays locked until that commit, so record last,
    just before committing: other assisted actions wait for it, and taking other row
    locks after this one could deadlock with a transaction that took them first.
    """
    tip = uow.audit.lock_tip()
    entry = AuditEntry(
        seq=tip.count + 1,
        at=now,
        actor=actor,
        role=role,
        corner=corner,
        mykey_id=mykey_id,
        action=action,
        details=dict(details or {}),
    )
    sealed = seal(entry, tip.hash)
    uow.audit.add(sealed)
    return sealed


def publish_head(uow: UnitOfWork, now: datetime, key: AuditKey) -> PublishedHead:
    """Verify the log, then sign, store and log its head; raises AuditChainBroken instead."""
    with uow:
        head = _publish(uow, now, key)
        uow.commit()
    _log_published(head)
    return head


def publish_if_due(
    uow: UnitOfWork, now: datetime, key: AuditKey, every: timedelta = PUBLISH_EVERY
) -> PublishedHead | None:
    """Publish unless the last head is younger than `every`; the head, or None if not due.
    Processes checking at the same moment (every worker of every server) publish one head."""
    with uow:
        uow.audit.lock_heads()
        latest = uow.audit.latest_head()
        if latest is not None and now - latest.published_at < every:
            return None
        head = _publish(uow, now, key)
        uow.commit()
    _log_published(head)
    return head


def verify(
    uow: UnitOfWork, verifier: HeadVerifier, head: ChainHead | PublishedHead | None = None
) -> AuditReport:
    """Check the chain, against `head` if given (and its signature, if it carries one), else
    against the genuine stored head that counts most (and every stored head's signature)."""
    with uow:
        # The heads first: entries only grow, so those read next include all they count.
        stored = uow.audit.heads() if head is None else []
        entries = uow.audit.entries()
    problems: list[ChainProblem] = []
    published: PublishedHead | None
    if head is None:
        published, problems = trusted_head(stored, verifier.is_genuine)
    elif isinstance(head, PublishedHead):
        published = head
        if not verifier.is_genuine(head):
            problems.append(forged_head(head))
    else:
        published = None
    against = head if isinstance(head, ChainHead) else None
    if published is not None:
        against = published.head
    problems.extend(verify_chain(entries, against))
    return AuditReport(
        entries=len(entries),
        head=head_of(entries),
        checked_against=against,
        published_at=None if published is None else published.published_at,
        problems=tuple(sorted(problems, key=lambda p: p.seq)),
        signed=published is not None and verifier.is_genuine(published),
    )


async def keep_publishing(
    unit_of_work: Callable[[], UnitOfWork],
    now: Callable[[], datetime],
    key: Callable[[], AuditKey],
    *,
    check_every: timedelta = CHECK_EVERY,
    every: timedelta = PUBLISH_EVERY,
) -> None:
    """Publish when due, at once and then every `check_every`, until cancelled.

    The database work runs in a thread. A publish under way when the task is
    cancelled is let finish first, so that the engine is not disposed under it.
    """
    while True:
        attempt = asyncio.ensure_future(
            asyncio.to_thread(_publish_when_due, unit_of_work, now, key, every)
        )
        try:
            await asyncio.shield(attempt)
        except asyncio.CancelledError:
            await asyncio.wait([attempt])
            raise
        await asyncio.sleep(check_every.total_seconds())


def _publish(uow: UnitOfWork, now: datetime, key: AuditKey) -> PublishedHead:
    # No lock: one read of the entries is one snapshot, and an entry appended
    # meanwhile only means that the head published is not the newest.
    latest, problems = trusted_head(uow.audit.heads(), key.verifier().is_genuine)
    entries = uow.audit.entries()
    problems.extend(verify_chain(entries, None if latest is None else latest.head))
    if problems:
        raise AuditChainBroken(problems)
    head = key.sign(head_of(entries), now)
    uow.audit.add_head(head)
    return head


def _log_published(head: PublishedHead) -> None:
    # After the commit: the log never names a head that was rolled back.
    log.info(
        "audit head published: %s",
        head.head,
        extra={
            "audit_head": str(head.head),
            "signed_head": str(head),
            "entry_count": head.head.count,
            "head_hash": head.head.hash,
            "published_at": head.published_at.isoformat(),
        },
    )


def _publish_when_due(
    unit_of_work: Callable[[], UnitOfWork],
    now: Callable[[], datetime],
    key: Callable[[], AuditKey],
    every: timedelta,
) -> None:
    try:
        publish_if_due(unit_of_work(), now(), key(), every)
    except AuditChainBroken as broken:
        log.error(  # noqa: TRY400 - the problems are the point, not a traceback
            "the audit log fails verification; no head published",
            extra={"problems": broken.details["problems"]},
        )
    except Exception:
        # An outage must not end the daily publishing for good.
        log.exception("publishing the audit head failed; the next check tries again")
