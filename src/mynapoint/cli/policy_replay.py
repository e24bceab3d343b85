"""`mynapoint policy replay`: the recorded history judged again under candidate rules
(services/policy_replay.py), with progress, printed as tables or as JSON."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from mynapoint.cli.common import EXIT_USAGE, fail, open_platform
from mynapoint.cli.policy_diff import diff_lines
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.rule_changes import change_document
from mynapoint.domain.rules_diff import rules_diff
from mynapoint.rules.candidates import resolve_candidate
from mynapoint.rules.loader import RuleDataError
from mynapoint.services.policy_replay import (
    ReplayRules,
    count_applicants,
    fraction_of,
    replay,
    replay_document,
)

_TITLES = {
    "measure": "施策ごと / by measure",
    "service": "決済サービスごと / by service",
    "age": "年齢層ごと / by age band",
    "ward": "市区町村ごと / by municipality",
    "points": "一人あたりのポイント分布 / points per person",
    "at_cap": "上限に達した人 / persons at a cap",
}


def replay_command(
    ctx: typer.Context,
    rules: Annotated[
        str,
        typer.Option(
            "--rules",
            help="The candidate rules: a campaigns file, or the name of a packaged candidate "
            "(mynapoint policy candidates).",
        ),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="YYYY-MM-DD: replay the history recorded by the end of that day, with the "
            "rules as announced by then (default: all of it, against the grants recorded).",
        ),
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(
            "--sample",
            help="Judge only this percentage of the applicants (the same ones each run) and "
            "estimate the totals, with a 95 %% interval.",
        ),
    ] = None,
    processes: Annotated[
        int,
        typer.Option("--processes", min=0, help="Worker processes (0, the default: one per core)."),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Replay every applicant's recorded applications and events under candidate rules and
    compare with what was granted: cost, persons reached and at a cap, by measure, service,
    age band and municipality. Reads only: it writes no grant."""
    try:
        candidate = resolve_candidate(rules)
    except RuleDataError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    try:
        fraction = fraction_of(sample)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    try:
        cut = None if as_of is None else date.fromisoformat(as_of)
    except ValueError:
        raise fail(f"--as-of {as_of!r} is not a day; give YYYY-MM-DD", EXIT_USAGE) from None
    platform = open_platform(ctx)
    on = cut or jst_date(platform.clock.now())
    judged = ReplayRules(platform.rules, candidate.rules, platform.catalog, cut, on)
    reader = platform.new_reader()
    expected = round(count_applicants(reader) * fraction)
    started = time.perf_counter()
    with (
        platform.replay_pool(processes or os.cpu_count() or 1) as (pool, workers),
        Progress(
            TextColumn("[bold]replay"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=as_json,
        ) as progress,
    ):
        task = progress.add_task("persons", total=expected or None)
        tally = replay(
            reader,
            judged,
            fraction,
            pool=pool,
            workers=workers,
            progress=lambda done: progress.advance(task, done),
        )
    seconds = time.perf_counter() - started
    document = replay_document(tally, fraction, candidate.name, cut, on)
    document["seconds"] = round(seconds, 3)
    changes = rules_diff(platform.rules, candidate.rules)
    document["changes"] = [change_document(change) for change in changes]
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _print(document, diff_lines(changes))


def _money(value: int) -> str:
    return f"{value:,}"


def _print(document: dict[str, Any], changes: list[str]) -> None:
    console = Console(highlight=False)
    console.print("[bold]ルールの違い / what the candidate changes[/]", markup=True)
    for line in changes:
        console.print(line, markup=False)
    e = document["estimates"]
    sample = document["sample_percent"]
    console.print(
        f"候補 / candidate: {document['rules']}  "
        f"as of: {document['as_of'] or '記録のすべて / the whole record'}  "
        f"sample: {sample:g} %  persons judged: {document['persons_judged']:,} "
        f"({document['seconds']:.1f} s)"
    )
    if document["as_of"] is None:
        mismatched = document["mismatched"]
        console.print(
            "現行ルールの再計算は記録と一致 / the rules in force reproduce the recorded grants"
            if mismatched == 0
            else f"[bold red]{mismatched:,} persons: the rules in force do not reproduce "
            "their recorded grants (evaluations pending?)[/]"
        )

    def shown(name: str) -> str:
        value, margin = e[name]["value"], e[name]["margin"]
        return _money(value) + (f" ± {_money(margin)}" if margin else "")

    totals = Table(title="合計 / totals")
    for column in ("", "実績 / actual", "候補 / candidate", "差 / difference"):
        totals.add_column(column, justify="right")
    totals.add_row("ポイント / points (yen)", shown("actual_points"), shown("candidate_points"),
                   shown("difference"))  # fmt: skip
    totals.add_row("付与された人 / persons reached", shown("actual_reached"),
                   shown("candidate_reached"), "")  # fmt: skip
    console.print(totals)
    for dimension, rows in document["breakdowns"].items():
        console.print(_breakdown(dimension, rows))


def _breakdown(dimension: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=_TITLES[dimension])
    counts_only = dimension in {"points", "at_cap"}
    table.add_column("", justify="left")
    if counts_only:
        for column in ("実績 / actual persons", "候補 / candidate persons"):
            table.add_column(column, justify="right")
    else:
        for column in ("persons", "実績 / actual", "候補 / candidate", "差 / difference"):
            table.add_column(column, justify="right")
    for row in rows:
        if counts_only:
            table.add_row(row["key"], _money(row["actual_persons"]),
                          _money(row["candidate_persons"]))  # fmt: skip
        else:
            a, c = row["actual_points"], row["candidate_points"]
            table.add_row(row["key"], _money(row["persons"]), _money(a), _money(c),
                          f"{c - a:+,}")  # fmt: skip
    return table
