"""`mynapoint staff …`: support-corner staff accounts (INTERFACES "Staff and administration")."""

from __future__ import annotations

from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.domain.staff import InvalidStaffInput, Role, StaffNameTaken
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.staff import add_staff

staff = typer.Typer(
    help="Support-corner staff accounts: add one (with a one-time password).",
    no_args_is_help=True,
)


@staff.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="Sign-in name: a-z, 0-9, '.', '_', '-', e.g. chuo-tanaka.")
    ],
    role: Annotated[Role, typer.Option("--role", help="staff, supervisor or admin.")],
    corner: Annotated[
        str | None,
        typer.Option("--corner", help="Corner code (staff and supervisors), e.g. chuo."),
    ] = None,
) -> None:
    """Create a staff account and print its one-time password (changed at first sign-in)."""
    corners = {c.code for c in load_corner_directory().corners()}
    platform = _platform(ctx)
    try:
        added = add_staff(
            platform.unit_of_work(),
            PasswordHasher(),
            name=name,
            role=role,
            corner=corner,
            corners=corners,
            now=platform.clock.now(),
        )
    except InvalidStaffInput as exc:
        raise _fail(exc.message, EXIT_USAGE) from None
    except StaffNameTaken as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None
    typer.echo(added.one_time_password)
    where = "every corner" if corner is None else f"corner {corner}"
    typer.echo(
        f"(one-time password of {role.value} '{name}' at {where}: shown only this once; "
        "it must be changed at the first sign-in)",
        err=True,
    )
