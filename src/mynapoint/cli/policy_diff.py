"""`mynapoint policy diff CANDIDATE [--base OTHER] [--json]`: what a candidate rules file
changes, rule by rule, in Japanese and in English (issue 16, item 3). No database."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_USAGE, fail
from mynapoint.domain.rule_changes import change_document
from mynapoint.domain.rules_diff import RuleChange, rules_diff
from mynapoint.rules.candidates import IN_FORCE, resolve_candidate
from mynapoint.rules.loader import RuleDataError

NO_DIFFERENCE = "違いはありません / no difference"
_RULES_HELP = (
    "A rules file's path, a packaged candidate's name (e.g. rate-20, cap-7500) or in-force."
)


def diff_command(
    candidate: Annotated[
        str, typer.Argument(help=_RULES_HELP, metavar="CANDIDATE", show_default=False)
    ],
    base: Annotated[
        str,
        typer.Option("--base", metavar="RULES", help=f"The rules to compare with. {_RULES_HELP}"),
    ] = IN_FORCE,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON list of {measure, rule, ja, en, effective, announced}.",
        ),
    ] = False,
) -> None:
    """What CANDIDATE changes from the base rules: a Japanese line, then the English line
    (indented), per change; program-wide first, then by measure."""
    try:
        old = resolve_candidate(base)
        new = resolve_candidate(candidate)
    except RuleDataError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    changes = rules_diff(old.rules, new.rules)
    if as_json:
        body = [change_document(change) for change in changes]
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo("\n".join(diff_lines(changes)))


def diff_lines(changes: tuple[RuleChange, ...]) -> list[str]:
    """A Japanese line, then the English one indented, per change; or that there is none.
    (`policy replay` and `policy forecast` print them beside their figures.)"""
    if not changes:
        return [NO_DIFFERENCE]
    return [line for change in changes for line in (change.ja, f"  {change.en}")]
