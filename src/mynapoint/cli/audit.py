"""`mynapoint audit …`: publish the audit log's head, and verify the log against one.

The server publishes a head at least daily by itself; `audit publish` does it on
demand. Keep published heads where the database's writers cannot change them (the
server's logs, a ticket, a printout): `audit verify --head COUNT:HASH` with such a
head shows whether any entry up to COUNT was since edited, removed or cut off.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.domain.audit import ChainHead, parse_head
from mynapoint.domain.calendar import to_jst
from mynapoint.logs import JsonFormatter
from mynapoint.services.audit import AuditChainBroken, publish_head, verify

audit = typer.Typer(
    help="The audit log of assisted actions: publish its head, verify it against one.",
    no_args_is_help=True,
)


def _log_heads_to_stderr(ctx: typer.Context) -> None:
    """The published head as a JSON log line on stderr, as the server logs it."""
    logger = logging.getLogger("mynapoint.audit")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    ctx.call_on_close(restore)


@audit.command("publish")
def publish_command(ctx: typer.Context) -> None:
    """Verify the log, then publish its head now; prints COUNT:HASH."""
    platform = _platform(ctx)
    _log_heads_to_stderr(ctx)
    try:
        head = publish_head(platform.unit_of_work(), platform.clock.now())
    except AuditChainBroken as broken:
        for problem in broken.problems:
            typer.echo(f"mynapoint: {problem}", err=True)
        raise _fail(broken.message, EXIT_REFUSED) from None
    typer.echo(str(head))


@audit.command("verify")
def verify_command(
    ctx: typer.Context,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="COUNT:HASH",
            help="A published head; default the last one the platform stored.",
        ),
    ] = None,
) -> None:
    """Check the hash chain, and that entry COUNT has the published HASH (later entries allowed)."""
    given: ChainHead | None = None
    if head is not None:
        try:
            given = parse_head(head)
        except ValueError as exc:
            raise _fail(f"--head: {exc}", EXIT_USAGE) from None
    platform = _platform(ctx)
    try:
        report = verify(platform.unit_of_work(), given)
    except ValueError as exc:
        # A stored value no longer of its column's type (a time that is not a time).
        raise _fail(
            f"the audit log cannot be read, so it was altered: {exc}", EXIT_REFUSED
        ) from None
    if report.checked_against is None:
        against = (
            "no head published yet: entries removed from the end cannot be detected; "
            "publish one with `mynapoint audit publish`"
        )
    elif given is not None:
        against = f"checked against the given head {report.checked_against}"
    else:
        published = (
            ""
            if report.published_at is None
            else f" published {to_jst(report.published_at).isoformat(timespec='seconds')}"
        )
        against = f"checked against the last head{published}, {report.checked_against}"
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"mynapoint: {problem}", err=True)
        raise _fail(
            f"the audit log fails verification: {_problems(len(report.problems))} ({against})",
            EXIT_REFUSED,
        )
    typer.echo(f"audit log intact: {report.entries} entries, head {report.head}")
    typer.echo(against)


def _problems(count: int) -> str:
    return f"{count} problem" if count == 1 else f"{count} problems"
