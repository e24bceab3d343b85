"""`mynapoint audit …`: publish the audit log's head, and verify the log against one.

The server publishes a head at least daily by itself; `audit publish` does it on
demand. Keep published heads where the database's writers cannot change them (the
server's logs, a ticket, a printout): `audit verify --head HEAD` with such a head
shows whether any entry up to its count was since edited, removed or cut off.
A signed head (`COUNT:HASH,PUBLISHED_AT,SIGNATURE`) is checked with the public key
alone by `audit check-head`, without the database.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.config import load_settings
from mynapoint.domain.audit import ChainHead, PublishedHead, parse_any_head, parse_signed_head
from mynapoint.domain.calendar import to_jst
from mynapoint.logs import JsonFormatter
from mynapoint.services.audit import AuditChainBroken, publish_head, verify
from mynapoint.services.head_signing import AuditKey, AuditKeyFile, HeadVerifier

if TYPE_CHECKING:
    from mynapoint.bootstrap import Platform

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
    """Verify the log, then sign and publish its head now; prints COUNT:HASH, then the signed
    head COUNT:HASH,PUBLISHED_AT,SIGNATURE."""
    platform = _platform(ctx)
    _log_heads_to_stderr(ctx)
    try:
        head = publish_head(platform.unit_of_work(), platform.clock.now(), _key(platform))
    except AuditChainBroken as broken:
        for problem in broken.problems:
            typer.echo(f"mynapoint: {problem}", err=True)
        raise _fail(broken.message, EXIT_REFUSED) from None
    typer.echo(str(head.head))
    typer.echo(str(head))


@audit.command("public-key")
def public_key_command() -> None:
    """Print the public key (PEM) that checks signed heads; creates the key if there is none."""
    try:
        verifier = AuditKeyFile(load_settings().audit_signing_key_path).verifier()
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the audit signing key: {exc}", EXIT_USAGE) from None
    typer.echo(verifier.pem(), nl=False)


@audit.command("check-head")
def check_head_command(
    head: Annotated[str, typer.Argument(metavar="COUNT:HASH,PUBLISHED_AT,SIGNATURE")],
    public_key: Annotated[
        Path,
        typer.Option(
            "--public-key",
            metavar="FILE",
            help="The PEM that `mynapoint audit public-key` prints.",
        ),
    ],
) -> None:
    """Check a signed head with the public key alone, no database: exit 0 genuine, 1 not."""
    try:
        signed = parse_signed_head(head)
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    try:
        verifier = HeadVerifier.from_pem(public_key.read_bytes())
    except (OSError, ValueError) as exc:
        raise _fail(f"--public-key: {exc}", EXIT_USAGE) from None
    if not verifier.is_genuine(signed):
        raise _fail(
            f"the head {signed.head} does not verify with this public key: it was altered, "
            "or signed by another key",
            EXIT_REFUSED,
        )
    typer.echo(f"head {signed.head} published {_jst(signed)}: signature genuine")


@audit.command("verify")
def verify_command(
    ctx: typer.Context,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HEAD",
            help="A published head, COUNT:HASH or signed COUNT:HASH,PUBLISHED_AT,SIGNATURE "
            "(its signature is checked too); default the stored head that counts most.",
        ),
    ] = None,
) -> None:
    """Check the hash chain, and that entry COUNT has the published HASH (later entries allowed)."""
    given: ChainHead | PublishedHead | None = None
    if head is not None:
        try:
            given = parse_any_head(head)
        except ValueError as exc:
            raise _fail(f"--head: {exc}", EXIT_USAGE) from None
    platform = _platform(ctx)
    try:
        report = verify(platform.unit_of_work(), _key(platform).verifier(), given)
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
        signed = ", signature genuine" if report.signed else ""
        against = f"checked against the given head {report.checked_against}{signed}"
    else:
        published = (
            ""
            if report.published_at is None
            else f" published {to_jst(report.published_at).isoformat(timespec='seconds')}"
        )
        which = "the last signed head" if report.signed else "the last head (unsigned)"
        against = f"checked against {which}{published}, {report.checked_against}"
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"mynapoint: {problem}", err=True)
        raise _fail(
            f"the audit log fails verification: {_problems(len(report.problems))} ({against})",
            EXIT_REFUSED,
        )
    typer.echo(f"audit log intact: {report.entries} entries, head {report.head}")
    typer.echo(against)


def _key(platform: Platform) -> AuditKey:
    try:
        return platform.audit_key()
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the audit signing key: {exc}", EXIT_USAGE) from None


def _jst(head: PublishedHead) -> str:
    return to_jst(head.published_at).isoformat(timespec="seconds")


def _problems(count: int) -> str:
    return f"{count} problem" if count == 1 else f"{count} problems"
