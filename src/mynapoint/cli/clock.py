"""`mynapoint clock …`: the platform clock recorded in the database (INTERFACES, "The
platform clock"): read it, restart it at another instant, or go back to real time."""

from __future__ import annotations

from typing import Annotated

import typer

from mynapoint.cli.cards import parse_moment
from mynapoint.cli.common import iso, open_platform
from mynapoint.db.clock import clear_clock, set_clock
from mynapoint.services.clock import ANCHOR_REFRESH, SystemClock

clock = typer.Typer(
    help="The platform clock every process on the database shares: read, restart, clear.",
    no_args_is_help=True,
)

_FOLLOW = (
    f"processes already running on this database follow within "
    f"{int(ANCHOR_REFRESH.total_seconds())} s"
)


@clock.command("now")
def now_command(ctx: typer.Context) -> None:
    """Print platform now (ISO 8601, JST), e.g. for a script's occurred_at; stderr says where
    it comes from."""
    platform = open_platform(ctx)
    typer.echo(iso(platform.clock.now()))


@clock.command("set")
def set_command(
    ctx: typer.Context,
    start: Annotated[
        str,
        typer.Argument(help="A timestamp with offset (e.g. 2021-07-19T10:00:00+09:00) or a date."),
    ],
) -> None:
    """Restart platform time at START from now, for every process on the database (a new
    demo run); it wins over MYNAPOINT_CLOCK_START from then on."""
    platform = open_platform(ctx, announce=False)
    before = platform.clock.now()
    at = parse_moment(start, "START", platform)
    set_clock(platform.engine, at, SystemClock().now())
    typer.echo(f"platform time restarts at {iso(at)} (it was {iso(before)}); {_FOLLOW}")


@clock.command("clear")
def clear_command(ctx: typer.Context) -> None:
    """Forget the recorded clock: the database runs on real time until a process started
    with MYNAPOINT_CLOCK_START (e.g. `make run`) or `clock set` records one again."""
    platform = open_platform(ctx, announce=False)
    clear_clock(platform.engine)
    typer.echo(f"no platform clock is recorded any more: real time from now on; {_FOLLOW}")
