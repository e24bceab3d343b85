"""A forecast as a page asks for it (issue 16, item 2; docs/POLICY.md "The forecast page"):
the query's words checked into a request, each mistake a stable code, then the forecast under
the rules in force and, when a candidate is named, under it beside, with the rules' diff.

A page names a packaged candidate only (rules/candidates/), never a path: a request never
reads a file it chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.rules_diff import RuleChange, rules_diff
from mynapoint.rules.candidates import (
    IN_FORCE,
    Candidate,
    packaged_candidate,
    packaged_candidates,
)
from mynapoint.services.policy_backtest import HORIZONS_DAYS, Backtest, backtest_from
from mynapoint.services.policy_forecast import (
    WINDOW_DAYS,
    DailyHistory,
    Forecast,
    ForecastDayOutOfRange,
    forecast_from,
)

MIN_WINDOW_DAYS: Final = 1  # as `mynapoint policy forecast --window`
BACKTEST_DAYS: Final = max(HORIZONS_DAYS)  # the page's backtest starts this long before


class UnknownCandidateName(MynapointError):
    code = "unknown_candidate"


class InvalidForecastDay(MynapointError):
    code = "invalid_day"


class InvalidWindow(MynapointError):
    code = "invalid_window"


@dataclass(frozen=True)
class ForecastRequest:
    candidate: Candidate | None  # None: the rules in force only
    as_of: date | None  # None: the statistics' last complete day
    window_days: int = WINDOW_DAYS


def _candidate(name: str) -> Candidate | None:
    if name in ("", IN_FORCE):
        return None
    if name not in packaged_candidates():
        known = ", ".join((IN_FORCE, *packaged_candidates()))
        raise UnknownCandidateName(
            f"'{name[:40]}' is not a packaged candidate; give one of: {known}",
            given=name[:40],
            known=[IN_FORCE, *packaged_candidates()],
        )
    return packaged_candidate(name)


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidForecastDay(
            f"as_of '{text[:20]}' is not a day; give YYYY-MM-DD, e.g. 2021-06-01",
            given=text[:20],
        ) from None


def _window(text: str) -> int:
    if not text:
        return WINDOW_DAYS
    try:
        days = int(text)
    except ValueError:
        days = None
    if days is None or days < MIN_WINDOW_DAYS:
        raise InvalidWindow(
            f"window '{text[:20]}' is not a number of days; give a whole number from "
            f"{MIN_WINDOW_DAYS}, e.g. {WINDOW_DAYS}",
            given=text[:20],
        )
    return days


def forecast_request(rules: str | None, as_of: str | None, window: str | None) -> ForecastRequest:
    """The request a query gives (blank or missing: the defaults); UnknownCandidateName,
    InvalidForecastDay or InvalidWindow for a word that is not one."""
    return ForecastRequest(
        _candidate((rules or "").strip()),
        _day((as_of or "").strip()),
        _window((window or "").strip()),
    )


@dataclass(frozen=True)
class ForecastPair:
    """The forecast under the rules in force and, with a candidate, under it and what it
    changes (its rules' diff from the rules in force)."""

    in_force: Forecast
    candidate: Forecast | None
    changes: tuple[RuleChange, ...]


def forecast_pair(
    history: DailyHistory, in_force: CampaignRules, request: ForecastRequest
) -> ForecastPair:
    """Both forecasts from `history` (ForecastDayOutOfRange for a day it does not hold)."""
    base = forecast_from(history, in_force, as_of=request.as_of, window_days=request.window_days)
    chosen = request.candidate
    if chosen is None:
        return ForecastPair(base, None, ())
    other = forecast_from(
        history,
        in_force,
        candidate=(chosen.name, chosen.rules),
        as_of=request.as_of,
        window_days=request.window_days,
    )
    return ForecastPair(base, other, rules_diff(in_force, chosen.rules))


def backtest_before(
    history: DailyHistory, in_force: CampaignRules, made: Forecast
) -> Backtest | None:
    """The forecast of the rules in force made BACKTEST_DAYS before `made`'s day, with the data
    through then only, checked at each horizon (HORIZONS_DAYS) against the record; None when
    the data do not reach back that far."""
    start = made.last_day - timedelta(days=BACKTEST_DAYS)
    try:
        return backtest_from(
            history, in_force, start, HORIZONS_DAYS, window_days=made.window_days, to_end=False
        )
    except ForecastDayOutOfRange:
        return None
