"""`mynapoint stats …`: the program's statistics (services/statistics.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from mynapoint.cli.common import open_platform
from mynapoint.domain.calendar import to_jst
from mynapoint.services.statistics import refresh

stats = typer.Typer(
    help="The program's statistics: the summary tables the ministry's screens and the open "
    "data read.",
    no_args_is_help=True,
)


@stats.command("refresh")
def refresh_command(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Recompute every day, not only those changed since the last refresh (after "
            "rows were written with past timestamps, e.g. a loaded history).",
        ),
    ] = False,
) -> None:
    """Refresh the summary tables now, as the worker and the server do every
    MYNAPOINT_STATISTICS_REFRESH_SECONDS; prints as of when, and what was recomputed."""
    platform = open_platform(ctx)
    done = refresh(platform.statistics, platform.clock.now(), full=full)
    kind = "full" if done.full else "incremental"
    typer.echo(
        f"statistics as of {to_jst(done.computed_at).isoformat()}: {kind} refresh, "
        f"{done.days} metric-days recomputed"
    )
