"""`mynapoint settlement prepare|approve|pay`: a closed month's statements, approved with
four eyes (the approver is not the preparer), then paid in a payment file for the bank.

`pay` writes the payment file under var/settlements/YYYY-MM/ and marks its statements
paid (docs/INTERFACES.md "The payment file").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mynapoint.cli.common import EXIT_REFUSED
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.domain.errors import MynapointError
from mynapoint.services.settlement_approvals import (
    approve_statements,
    catalog_names,
    pay_statements,
    prepare_statements,
)

if TYPE_CHECKING:
    from mynapoint.domain.settlement_approvals import Approval

settlement = typer.Typer(
    help=(
        "Approve a closed month's statements with four eyes and pay them: prepare (a "
        "ministry administrator), approve (another one), pay (writes the payment file)."
    ),
    no_args_is_help=True,
)

Month = Annotated[str, typer.Option("--month", help="YYYY-MM, a month closed by `settle`")]
Operator = Annotated[
    str | None,
    typer.Option("--operator", help="One operator's code; every operator's when left out"),
]
As = Annotated[str, typer.Option("--as", help="The staff account acting: a ministry administrator")]


def _echo(approvals: list[Approval], done: str) -> None:
    for approval in approvals:
        typer.echo(
            f"  {approval.operator_code}: {approval.amount_yen:,} yen, {done} "
            f"(prepared by {approval.prepared_by}"
            + (f", approved by {approval.approved_by}" if approval.approved_by else "")
            + ")"
        )


@settlement.command("prepare")
def prepare_command(ctx: typer.Context, month: Month, as_: As, operator: Operator = None) -> None:
    """Prepare the month's statements (draft, totals frozen); someone else approves them."""
    platform = _platform(ctx)
    try:
        done = prepare_statements(
            platform.unit_of_work(), month, operator, as_, platform.clock.now()
        )
    except MynapointError as exc:
        raise _fail(f"{exc.message} [{exc.code}]", EXIT_REFUSED) from None
    typer.echo(f"{month}: {len(done)} statement{'s' if len(done) != 1 else ''} prepared:")
    _echo(done, "draft")


@settlement.command("approve")
def approve_command(ctx: typer.Context, month: Month, as_: As, operator: Operator = None) -> None:
    """Approve the month's drafts; never one you prepared yourself."""
    platform = _platform(ctx)
    try:
        done = approve_statements(
            platform.unit_of_work(), month, operator, as_, platform.clock.now()
        )
    except MynapointError as exc:
        raise _fail(f"{exc.message} [{exc.code}]", EXIT_REFUSED) from None
    typer.echo(f"{month}: {len(done)} statement{'s' if len(done) != 1 else ''} approved:")
    _echo(done, "approved")


@settlement.command("pay")
def pay_command(ctx: typer.Context, month: Month, as_: As, operator: Operator = None) -> None:
    """Write the payment file of the month's approved statements and mark them paid."""
    platform = _platform(ctx)
    names = catalog_names({o.code: o.name for o in platform.catalog.operators()})
    try:
        paid = pay_statements(
            platform.unit_of_work(), month, operator, as_, platform.clock.now(), names
        )
    except MynapointError as exc:
        raise _fail(f"{exc.message} [{exc.code}]", EXIT_REFUSED) from None
    folder = platform.settings.var_dir / "settlements" / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{paid.name}.csv"
    path.write_text(paid.csv, encoding="utf-8", newline="")
    count = len(paid.approvals)
    typer.echo(
        f"{month}: {count} statement{'s' if count != 1 else ''} paid, "
        f"{paid.total_yen:,} yen in all; payment file {path}"
    )
    _echo(list(paid.approvals), "paid")
