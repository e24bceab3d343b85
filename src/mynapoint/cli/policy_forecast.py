"""`mynapoint policy forecast` and `mynapoint policy backtest`: the budget frames' forecast and
its check against the recorded history (services/policy_forecast.py, policy_backtest.py)."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE, fail, iso, open_platform
from mynapoint.cli.policy_diff import diff_lines
from mynapoint.domain.rule_changes import change_document
from mynapoint.domain.rules_diff import rules_diff
from mynapoint.rules.candidates import IN_FORCE, Candidate, resolve_candidate
from mynapoint.services.policy_backtest import HORIZONS_DAYS, Backtest, Check, backtest
from mynapoint.services.policy_forecast import (
    WINDOW_DAYS,
    Z_95,
    Band,
    Fill,
    Forecast,
    ForecastDayOutOfRange,
    Projection,
    forecast_from,
    read_history,
)
from mynapoint.services.statistics import StatisticsNotComputed

WindowOption = Annotated[
    int,
    typer.Option("--window", min=1, help="The pace is the mean of this many last days of data."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]


def _candidate(name: str) -> Candidate | None:
    """The candidate `--rules` names (None for the rules in force, forecast anyway)."""
    try:
        candidate = resolve_candidate(name)
    except ValueError as exc:  # unreadable, not YAML, not UTF-8, or not valid rules
        raise fail(f"candidate rules '{name}': {exc}", EXIT_USAGE) from None
    return None if name == IN_FORCE else candidate


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(
            f"{option} '{value}' is not a day; give YYYY-MM-DD, e.g. 2021-06-01", EXIT_USAGE
        ) from None


def forecast_command(
    ctx: typer.Context,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            metavar="CANDIDATE_FILE",
            help="A candidate campaigns file: forecast under it too (every window it states; "
            "its rates and fixed points scale the recorded pace). `in-force`: the rules in "
            "force only.",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="Forecast from the data through this day (default: the last complete day "
            "of the statistics), with the rules in force as announced by then.",
        ),
    ] = None,
    window: WindowOption = WINDOW_DAYS,
    as_json: JsonOption = False,
) -> None:
    """Forecast each budget frame's persons and yen at the phase's close and the day it fills,
    with a 95 % band of the pace, under the rules in force (and a candidate's)."""
    day = _day("--as-of", as_of)
    candidate = _candidate(rules) if rules is not None else None
    platform = open_platform(ctx)
    try:
        history = read_history(platform.statistics)
        made = [forecast_from(history, platform.rules, as_of=day, window_days=window)]
        if candidate is not None:
            made.append(
                forecast_from(
                    history,
                    platform.rules,
                    candidate=(candidate.name, candidate.rules),
                    as_of=day,
                    window_days=window,
                )
            )
    except StatisticsNotComputed as exc:
        raise fail(exc.message, EXIT_REFUSED) from None
    except ForecastDayOutOfRange as exc:
        raise fail(exc.message, EXIT_USAGE) from None
    changes = () if candidate is None else rules_diff(platform.rules, candidate.rules)
    if as_json:
        document: dict[str, Any] = {"forecasts": [forecast_document(f) for f in made]}
        if candidate is not None:
            document["changes"] = [change_document(change) for change in changes]
        _print_json(document)
        return
    typer.echo("\n".join(forecast_lines(made[0])))
    if len(made) > 1:
        typer.echo("ルールの違い / what the candidate changes")
        typer.echo("\n".join(diff_lines(changes)))
        typer.echo("\n".join(forecast_lines(made[1], against=made[0])))


def backtest_command(
    ctx: typer.Context,
    start: Annotated[
        str,
        typer.Option(
            "--from",
            metavar="YYYY-MM-DD",
            help="Forecast from the data through this day only, as a forecast made then.",
        ),
    ],
    horizons: Annotated[
        list[int] | None,
        typer.Option(
            "--horizon",
            min=1,
            help="Days after --from to check the forecast against the record (repeat it); "
            f"default {', '.join(map(str, HORIZONS_DAYS))}. The data's last day is checked too.",
        ),
    ] = None,
    window: WindowOption = WINDOW_DAYS,
    as_json: JsonOption = False,
) -> None:
    """Forecast from a past day with the data through it only, and print predicted against
    recorded for each horizon: the error in units and %, and whether the record fell inside
    the band."""
    day = _day("--from", start)
    if day is None:  # a required option; typer says so before this
        raise fail("--from is required", EXIT_USAGE)
    platform = open_platform(ctx)
    try:
        done = backtest(
            platform.statistics,
            platform.rules,
            day,
            horizons or HORIZONS_DAYS,
            window_days=window,
        )
    except StatisticsNotComputed as exc:
        raise fail(exc.message, EXIT_REFUSED) from None
    except ForecastDayOutOfRange as exc:
        raise fail(exc.message, EXIT_USAGE) from None
    if as_json:
        _print_json(backtest_document(done))
        return
    typer.echo("\n".join(backtest_lines(done)))


# --- text ------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{round(value):,}"


def _band(band: Band, per_day: bool = False) -> str:
    if per_day:
        return f"{band.expected:,.1f} a day ({band.low:,.1f} to {band.high:,.1f})"
    return f"{_n(band.expected)} ({_n(band.low)} to {_n(band.high)})"


def _fill(projection: Projection) -> str:
    if projection.full:
        return "full already"
    fill: Fill = projection.fill
    if fill.expected is None and fill.early is None:
        return f"not before {projection.closes} (at none of the paces)"
    expected = str(fill.expected) if fill.expected else f"not before {projection.closes}"
    early = str(fill.early) if fill.early else "-"
    late = str(fill.late) if fill.late else f"not before {projection.closes}"
    return f"{expected} (early {early}, late {late})"


def _rules_line(made: Forecast) -> str:
    if made.rules == IN_FORCE:
        return f"the rules in force as announced by {made.last_day}"
    return f"candidate {made.rules} (every window it states)"


def _against(projection: Projection, base: Projection | None) -> list[str]:
    if base is None:
        return []
    change = projection.at_close.expected - base.at_close.expected
    return [f"  {'':8} against the rules in force: {change:+,.0f} at the close ({base.closes})"]


def forecast_lines(made: Forecast, against: Forecast | None = None) -> list[str]:
    """The forecast as text; `against`: the rules in force, to show what a candidate changes."""
    bases = {f.frame.phase: f for f in against.frames} if against is not None else {}
    lines = [
        f"Forecast under {_rules_line(made)}",
        f"  statistics computed at {iso(made.computed_at)}; data through {made.last_day}",
        (
            f"  pace: mean of the last {made.window_days} days; band: mean ± {Z_95}·sd/√"
            f"{made.window_days} (docs/POLICY.md, Forecast)"
        ),
    ]
    for frame in made.frames:
        lines.append(f"{frame.frame.phase} frame (announced {frame.frame.announced})")
        base = bases.get(frame.frame.phase)
        for side, projection in (("persons", frame.persons), ("yen", frame.yen)):
            before = None if base is None else getattr(base, side)
            share = 100.0 * projection.used / projection.size if projection.size else 100.0
            lines += [
                f"  {side:8} used {_n(projection.used)} of {_n(projection.size)} ({share:.2f} %)",
                f"  {'':8} pace {_band(projection.pace, per_day=True)}",
                f"  {'':8} at the close ({projection.closes}): {_band(projection.at_close)}",
                f"  {'':8} fills: {_fill(projection)}",
                *_against(projection, before),
            ]
    lines += [f"{phase} frame: not announced by {made.last_day}" for phase in made.not_announced]
    return lines


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f} %"


_COLUMNS = "{:7} {:8} {:>7}  {:10}  {:>37}  {:>14}  {:>14}  {:>8}  {:>9}  {}"


def backtest_lines(done: Backtest) -> list[str]:
    made = done.forecast
    lines = [
        (
            f"Backtest: forecast from {made.last_day} with the data through it only (pace of "
            f"the last {made.window_days} days, rules as announced by then); statistics "
            f"computed at {iso(made.computed_at)}"
        ),
        _COLUMNS.format(
            "frame", "side", "horizon", "day", "predicted (band)", "recorded", "error",
            "error %", "of growth", "in band",
        ),
    ]  # fmt: skip
    for check in done.checks:
        predicted = check.predicted
        lines.append(
            _COLUMNS.format(
                check.phase,
                check.side,
                f"{check.horizon_days} d",
                str(check.day),
                f"{_n(predicted.expected)} ({_n(predicted.low)} to {_n(predicted.high)})",
                _n(check.actual),
                _n(check.error),
                _percent(check.error_percent),
                _percent(check.growth_error_percent),
                "yes" if check.inside else "no",
            )
        )
    lines += [f"{phase} frame: not announced by {made.last_day}" for phase in made.not_announced]
    if done.beyond:
        beyond = ", ".join(f"{h} d" for h in done.beyond)
        lines.append(f"not checked (past the data's last day): {beyond}")
    return lines


# --- JSON ------------------------------------------------------------------------------------


def _print_json(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _band_document(band: Band) -> dict[str, float]:
    return {"expected": band.expected, "low": band.low, "high": band.high}


def _day_text(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _projection_document(projection: Projection) -> dict[str, Any]:
    return {
        "size": projection.size,
        "used": projection.used,
        "full": projection.full,
        "pace_per_day": _band_document(projection.pace),
        "closes": projection.closes.isoformat(),
        "at_close": _band_document(projection.at_close),
        "fills_on": {
            "expected": _day_text(projection.fill.expected),
            "early": _day_text(projection.fill.early),
            "late": _day_text(projection.fill.late),
        },
    }


def forecast_document(made: Forecast) -> dict[str, Any]:
    return {
        "rules": made.rules,
        "computed_at": iso(made.computed_at),
        "last_day": made.last_day.isoformat(),
        "window_days": made.window_days,
        "frames": [
            {
                "phase": frame.frame.phase,
                "announced": frame.frame.announced.isoformat(),
                "persons": _projection_document(frame.persons),
                "yen": _projection_document(frame.yen),
            }
            for frame in made.frames
        ],
        "not_announced": list(made.not_announced),
    }


def _check_document(check: Check) -> dict[str, Any]:
    return {
        "phase": check.phase,
        "side": check.side,
        "horizon_days": check.horizon_days,
        "day": check.day.isoformat(),
        "used": check.used,
        "predicted": _band_document(check.predicted),
        "actual": check.actual,
        "error": check.error,
        "error_percent": check.error_percent,
        "growth_error_percent": check.growth_error_percent,
        "inside_band": check.inside,
    }


def backtest_document(done: Backtest) -> dict[str, Any]:
    return {
        "forecast": forecast_document(done.forecast),
        "checks": [_check_document(check) for check in done.checks],
        "beyond_data": list(done.beyond),
    }
