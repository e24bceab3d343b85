"""The demo site as `make run` serves it, on a real socket for the browser tests.

Demo mode on, the platform clock fixed on a Monday when the corners are open, the demo
cards, operator key, payment accounts and support-corner staff seeded exactly as
`mynapoint serve` seeds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from live_server import live_server
from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.demo import (
    DemoAccount,
    DemoStaff,
    SeededCard,
    seed_demo_cards,
    seed_demo_history,
    seed_demo_operator,
    seed_demo_staff,
)
from mynapoint.domain.calendar import JST
from mynapoint.services.clock import FixedClock

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)


@dataclass
class DemoSite:
    url: str
    platform: Platform
    clock: FixedClock
    cards: dict[str, SeededCard]
    operator_key: str
    accounts: tuple[DemoAccount, ...]
    staff: tuple[DemoStaff, ...] = ()  # the support-corner staff of 中央区役所


@contextmanager
def demo_site(database_url: str, tmp_path: Path, at: datetime = DEMO_DAY) -> Iterator[DemoSite]:
    settings = Settings(database_url=database_url, var_dir=tmp_path, demo=True)
    clock = FixedClock(at)
    platform = build_platform(settings, clock=clock)
    try:
        cards = {seeded.card.name: seeded for seeded in seed_demo_cards(platform)}
        _, key, accounts = seed_demo_operator(platform)
        seed_demo_history(platform, list(cards.values()))
        staff = seed_demo_staff(platform)
        with live_server(settings, platform) as url:
            yield DemoSite(url, platform, clock, cards, key, accounts, staff)
    finally:
        platform.engine.dispose()
