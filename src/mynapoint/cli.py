"""The `mynapoint` command line. Exit codes: 0 done, 1 refused, 2 usage or unreadable input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mynapoint.domain.errors import MynapointError
from mynapoint.ingest.scenario import ScenarioError, read_scenario
from mynapoint.rules.loader import RuleDataError, load_campaigns, load_catalog
from mynapoint.services.simulate import outcome_document, simulate

EXIT_REFUSED = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="mynapoint",
    help="マイナポイント platform: simulate points, run the server, manage cards and operators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """マイナポイント platform: simulate points, run the server, manage cards and operators."""


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"mynapoint: {message}", err=True)
    return typer.Exit(code)


@app.command("simulate")
def simulate_command(
    file: Annotated[Path, typer.Argument(help="Scenario file, YAML or JSON (see examples/).")],
) -> None:
    """Evaluate a scenario with the campaign rules and print the result as JSON (no database)."""
    try:
        rules = load_campaigns()
        catalog = load_catalog()
        scenario = read_scenario(file, rules, catalog)
        outcome = simulate(scenario, rules, catalog)
    except (ScenarioError, RuleDataError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except MynapointError as exc:
        raise _fail(f"{file.name}: {exc.message}", EXIT_USAGE) from None
    sys.stdout.write(json.dumps(outcome_document(outcome), ensure_ascii=False, indent=2) + "\n")


def main() -> None:
    app()
