"""`mynapoint staff …`: console accounts (INTERFACES "Staff and administration"): support-corner
staff, city administrators, the ministry's accounts and payment operators' accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.domain.staff import InvalidStaffInput, Role, Scope, StaffNameTaken
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.staff import add_staff, known_scopes

staff = typer.Typer(
    help="Console accounts (corners, cities, ministry, payment operators): add one "
    "(with a one-time password).",
    no_args_is_help=True,
)


@staff.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="Sign-in name: a-z, 0-9, '.', '_', '-', e.g. chuo-tanaka.")
    ],
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            help="staff, supervisor, admin (support corners); city_admin; ministry_admin, "
            "ministry_viewer, auditor, policy_analyst (the ministry); operator_admin, "
            "operator_staff.",
        ),
    ],
    corner: Annotated[
        str | None,
        typer.Option("--corner", help="Corner code (staff and supervisors), e.g. chuo."),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="City code (city_admin), e.g. fukuoka."),
    ] = None,
    operator: Annotated[
        str | None,
        typer.Option(
            "--operator",
            help="Payment operator code (operator_admin, operator_staff), e.g. paypay.",
        ),
    ] = None,
) -> None:
    """Create an account and print its one-time password (changed at first sign-in)."""
    platform = _platform(ctx)
    scope = Scope(corner=corner, city=city, operator=operator)
    try:
        added = add_staff(
            platform.unit_of_work(),
            PasswordHasher(),
            name=name,
            role=role,
            scope=scope,
            known=known_scopes(load_corner_directory(), platform.catalog),
            now=platform.clock.now(),
        )
    except InvalidStaffInput as exc:
        raise _fail(exc.message, EXIT_USAGE) from None
    except StaffNameTaken as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None
    typer.echo(added.one_time_password)
    where = (
        f"corner {corner}"
        if corner is not None
        else f"city {city}"
        if city is not None
        else f"operator {operator}"
        if operator is not None
        else "every corner"
        if role is Role.ADMIN
        else "the ministry"
    )
    typer.echo(
        f"(one-time password of {role.value} '{name}' at {where}: shown only this once; "
        "it must be changed at the first sign-in)",
        err=True,
    )
