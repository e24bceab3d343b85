"""What every command shares: exit codes, the error line, the wired platform, and the line
that says which time the command runs on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import typer

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import load_settings
from mynapoint.domain.calendar import to_jst
from mynapoint.services.clock import RecordedClock

EXIT_REFUSED = 1  # the operation was refused or some input was rejected
EXIT_USAGE = 2  # usage or unreadable input
EXIT_LOCKED = 3  # the card is locked


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"mynapoint: {message}", err=True)
    return typer.Exit(code)


def open_platform(ctx: typer.Context, *, announce: bool = True) -> Platform:
    """The platform on the configured database; `announce` says on stderr which time the
    command runs on (stdout stays the command's answer, for scripts)."""
    try:
        platform = build_platform(load_settings())
    except ValueError as exc:
        raise fail(f"cannot open the database: {exc}", EXIT_USAGE) from None
    # Closed when the command ends, however it ends: a command run in-process (tests, a
    # shell) must not leave pooled database connections open behind it.
    ctx.call_on_close(platform.engine.dispose)
    if announce:
        announce_clock(platform)
    return platform


def announce_clock(platform: Platform) -> None:
    time = describe_clock(platform)
    typer.echo(f"mynapoint: runs on {time.kind} {iso(time.now)} ({time.source})", err=True)
    if time.warning is not None:
        typer.echo(f"mynapoint: warning: {time.warning}", err=True)


@dataclass(frozen=True)
class ClockDescription:
    kind: str  # "platform time" or "real time"
    now: datetime
    source: str  # where that time comes from
    warning: str | None  # MYNAPOINT_CLOCK_START given but not in force


def describe_clock(platform: Platform) -> ClockDescription:
    """Which time the platform runs on (INTERFACES, "The platform clock")."""
    clock = platform.clock
    if not isinstance(clock, RecordedClock):  # a clock wired in by a test
        return ClockDescription("platform time", clock.now(), "a clock set by the caller", None)
    anchor = clock.anchor
    now = clock.now()
    if anchor is None:
        return ClockDescription(
            "real time",
            now,
            "no platform clock is recorded in this database; "
            "MYNAPOINT_CLOCK_START or `mynapoint clock set` records one",
            None,
        )
    source = (
        f"this database's platform clock: started at {iso(anchor.start)} "
        f"when real time was {iso(anchor.recorded_real_at)}"
    )
    given = platform.settings.clock_start
    warning = None
    if given is not None and given != anchor.start:
        warning = (
            f"MYNAPOINT_CLOCK_START={iso(given)} is not used: this database's platform clock, "
            f"recorded earlier, started at {iso(anchor.start)} and a recorded clock wins; "
            f"to restart it, run `mynapoint clock set {iso(given)}`"
        )
    return ClockDescription("platform time", now, source, warning)


def iso(at: datetime) -> str:
    return to_jst(at).isoformat(timespec="seconds")
