"""What every command shares: exit codes, the error line, and the wired platform."""

from __future__ import annotations

import typer

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import load_settings

EXIT_REFUSED = 1  # the operation was refused or some input was rejected
EXIT_USAGE = 2  # usage or unreadable input
EXIT_LOCKED = 3  # the card is locked


def fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"mynapoint: {message}", err=True)
    return typer.Exit(code)


def open_platform(ctx: typer.Context) -> Platform:
    try:
        platform = build_platform(load_settings())
    except ValueError as exc:
        raise fail(f"cannot open the database: {exc}", EXIT_USAGE) from None
    # Closed when the command ends, however it ends: a command run in-process (tests, a
    # shell) must not leave pooled database connections open behind it.
    ctx.call_on_close(platform.engine.dispose)
    return platform
