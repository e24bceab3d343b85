"""What has expired is deleted: login challenges, citizen and staff sign-ins, and wrong security
codes that no longer count (issue 11 item 8: rows nobody asked for must not pile up).

A challenge or a session is kept for an hour after it expired or ended, so that a client that
comes back with it is told `challenge_expired` or `token_expired` rather than that it never
existed; after that it is gone. Support-corner sessions are records of what was done for a
citizen (the supervisor's log): they are not purged. The server runs `purge_expired` at start
and every 10 minutes (web/app.py); it is safe to run from anywhere at any time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mynapoint.domain.staff import STAFF_IDLE_LIMIT
from mynapoint.services.ports import UnitOfWork

log = logging.getLogger("mynapoint.expiry")

PURGE_EVERY = timedelta(minutes=10)
EXPIRED_KEPT = timedelta(hours=1)


@dataclass(frozen=True)
class Purged:
    challenges: int
    citizen_sessions: int
    staff_sessions: int
    code_tries: int

    @property
    def total(self) -> int:
        return self.challenges + self.citizen_sessions + self.staff_sessions + self.code_tries


def purge_expired(uow: UnitOfWork, now: datetime) -> Purged:
    """Delete what expired (by the platform clock) and say how much went."""
    kept_since = now - EXPIRED_KEPT
    with uow:
        purged = Purged(
            challenges=uow.challenges.purge(kept_since),
            citizen_sessions=uow.sessions.purge(kept_since),
            staff_sessions=uow.staff_sessions.purge(kept_since, kept_since - STAFF_IDLE_LIMIT),
            code_tries=uow.accounts.purge_code_tries(now),
        )
        uow.commit()
    return purged


async def keep_purging(
    unit_of_work: Callable[[], UnitOfWork],
    now: Callable[[], datetime],
    every: timedelta = PURGE_EVERY,
) -> None:
    """`purge_expired` at once and then every `every`, until cancelled (the server stops). A
    failed purge (the database away) is logged and tried again at the next turn."""
    while True:
        attempt = asyncio.ensure_future(
            asyncio.to_thread(lambda: purge_expired(unit_of_work(), now()))
        )
        try:
            purged = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            await asyncio.wait([attempt])
            raise
        except Exception as exc:  # noqa: BLE001 - the next turn tries again
            # A warning without a trace: the usual cause is a database restarting.
            log.warning("purging expired rows failed: %s; trying again later", type(exc).__name__)
        else:
            if purged.total:
                log.info(
                    "purged expired rows",
                    extra={
                        "challenges": purged.challenges,
                        "citizen_sessions": purged.citizen_sessions,
                        "staff_sessions": purged.staff_sessions,
                        "code_tries": purged.code_tries,
                    },
                )
        await asyncio.sleep(every.total_seconds())
