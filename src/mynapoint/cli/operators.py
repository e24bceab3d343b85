"""`mynapoint operator …`: payment operators of the catalog and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.services.operators import UnknownOperator, issue_operator_key

operators = typer.Typer(
    help="Payment operators (決済事業者) of the service catalog: API keys.",
    no_args_is_help=True,
)


@operators.command("key")
def key(
    ctx: typer.Context,
    operator_code: Annotated[str, typer.Argument(help="An operator code of the catalog.")],
) -> None:
    """Issue an API key for the operator: printed once, stored only as a hash."""
    platform = _platform(ctx)
    try:
        issued = issue_operator_key(
            platform.unit_of_work(), operator_code, platform.catalog, platform.clock.now()
        )
    except UnknownOperator as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None
    typer.echo(issued)
    typer.echo(
        f"(the API key of operator '{operator_code}' is shown only this once: keep it now; "
        "send it as Authorization: Bearer <key>)",
        err=True,
    )
