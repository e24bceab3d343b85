"""How good is the budget forecast? Backtests on the demo's generated history.

Loads the history `make run` loads (5,000 persons, seed 20210719, platform day 2021-07-19) into
a scratch SQLite database, then forecasts from every 14th day of the spending period with the
data up to that day only (services/policy_backtest.py, as `mynapoint policy backtest`) and
summarises the errors per horizon: the mean |error| over the recorded total, the median and
mean |error| over what was added after the forecast's day, and how often the record fell inside
the band. The checks whose day lies after a deadline extended later are shown apart (a
forecast made before 2021-03-26 knew the phase-1 close as 2021-03-31). docs/POLICY.md quotes
the figures.

    .venv/bin/python bench/forecast_backtest.py [--persons N] [--window W ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.demo import seed_generated_history
from mynapoint.domain.calendar import JST
from mynapoint.rules.loader import load_campaigns
from mynapoint.services.policy_backtest import Check, backtest_from
from mynapoint.services.policy_forecast import DailyHistory, read_history

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
FIRST_START = date(2020, 9, 15)
EVERY_DAYS = 14
HORIZONS = (7, 30, 90)
EXTENSION_ANNOUNCED = date(2021, 3, 26)  # phase 1 moved from 2021-03-31 to 2021-09-30
FIRST_CLOSE = date(2021, 3, 31)


def load(persons: int, folder: Path) -> DailyHistory:
    settings = Settings(
        database_url=f"sqlite:///{folder / 'history.sqlite'}",
        var_dir=folder,
        clock_start=DEMO_DAY,
        demo_history_persons=persons,
    )
    platform = build_platform(settings)
    try:
        seed_generated_history(platform)
        return read_history(platform.statistics)
    finally:
        platform.engine.dispose()


def knew_the_close(check: Check) -> bool:
    started = check.day - timedelta(days=check.horizon_days)
    return check.day <= FIRST_CLOSE or started >= EXTENSION_ANNOUNCED


def summary(title: str, checks: dict[tuple[str, int], list[Check]]) -> None:
    print(title)
    for (side, horizon), found in sorted(checks.items()):
        if not found:
            continue
        total = statistics.fmean(abs(c.error_percent or 0.0) for c in found)
        grown = [abs(c.growth_error_percent) for c in found if c.growth_error_percent is not None]
        inside = sum(c.inside for c in found)
        print(
            f"  {side:8} {horizon:3} d  n={len(found):2}  |error|/total {total:5.1f} %  "
            f"|error|/growth median {statistics.median(grown):5.1f} % "
            f"mean {statistics.fmean(grown):5.1f} %  in band {inside}/{len(found)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--window", type=int, action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        history = load(args.persons, Path(folder))
    rules = load_campaigns()
    starts = []
    start = FIRST_START
    while start < history.last_day:
        starts.append(start)
        start += timedelta(days=EVERY_DAYS)
    print(
        f"{args.persons:,} persons; forecasts from {starts[0]} to {starts[-1]} every "
        f"{EVERY_DAYS} days ({len(starts)}); data through {history.last_day}"
    )
    for window in args.window or [28]:
        checks: dict[tuple[str, int], list[Check]] = defaultdict(list)
        for day in starts:
            done = backtest_from(history, rules, day, HORIZONS, window_days=window, to_end=False)
            for check in done.checks:
                checks[check.side, check.horizon_days].append(check)
        summary(f"window {window} days, every check:", checks)
        known = {key: [c for c in found if knew_the_close(c)] for key, found in checks.items()}
        summary(f"window {window} days, within the windows known on the forecast's day:", known)


if __name__ == "__main__":
    main()
