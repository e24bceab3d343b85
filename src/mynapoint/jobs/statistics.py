"""The statistics' scheduled refresh (services/statistics.py): `mynapoint worker` runs it in
its periodic pass, the server in its own loop when it runs the jobs itself (no worker), every
`statistics_refresh_seconds`. Two refreshes at once wait for each other (a lock in the
database), so a worker and a server on one database only ever repeat a little work."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from mynapoint.db.engine import is_database_unavailable
from mynapoint.services.statistics import refresh

if TYPE_CHECKING:
    from mynapoint.bootstrap import Platform
    from mynapoint.domain.statistics import Refresh

log = logging.getLogger("mynapoint.statistics")


def refresh_now(platform: Platform, *, full: bool = False) -> Refresh:
    return refresh(platform.statistics, platform.clock.now(), full=full)


async def refresh_quietly(platform: Platform) -> None:
    """One scheduled refresh; a failure is logged and left for the next one."""
    try:
        await asyncio.to_thread(refresh_now, platform)
    except Exception as exc:
        if is_database_unavailable(exc):
            log.warning("refreshing the statistics: database unavailable, next try later")
        else:
            log.exception("refreshing the statistics failed")


async def keep_refreshing(platform: Platform) -> None:
    """Refresh now and then every `statistics_refresh_seconds`, until cancelled."""
    while True:
        await refresh_quietly(platform)
        await asyncio.sleep(platform.settings.statistics_refresh_seconds)
