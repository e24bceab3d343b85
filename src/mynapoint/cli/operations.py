"""`mynapoint ingest` and `mynapoint settle`: the operator's batch files and monthly settlement."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from mynapoint.cli.common import EXIT_REFUSED, EXIT_USAGE
from mynapoint.cli.common import fail as _fail
from mynapoint.cli.common import open_platform as _platform
from mynapoint.cli.queued_ingest import ingest_queued
from mynapoint.domain.errors import MynapointError
from mynapoint.ingest.event_rows import FileProblem
from mynapoint.ingest.files import RejectReport, load_events
from mynapoint.services.expiry import purge_expired
from mynapoint.services.settlement import Statement, close_month


def ingest_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines event file.")],
    operator: Annotated[str, typer.Option("--operator", help="The operator's code.")],
    report: Annotated[
        Path | None, typer.Option(help="Where to write rejected lines (default FILE.rejected.csv).")
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            help="With the job queue (PostgreSQL): wait for the file, working on the queue "
            "meanwhile, and print its counts; --no-wait only queues it and prints the job id.",
        ),
    ] = True,
) -> None:
    """Load an event file with a progress bar; every rejected line goes to the report."""
    platform = _platform(ctx)
    if operator not in {op.code for op in platform.catalog.operators()}:
        known = ", ".join(sorted(op.code for op in platform.catalog.operators()))
        raise _fail(f"unknown operator '{operator}'; expected one of {known}", EXIT_USAGE)
    report_path = report or file.with_name(file.name + ".rejected.csv")
    if not platform.settings.runs_jobs_inprocess:
        ingest_queued(platform, file, operator, report_path, wait=wait)
        return
    try:
        size = file.stat().st_size
        source = file.open("rb")
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE) from None
    try:
        report_file = report_path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        source.close()
        raise _fail(f"cannot write the report {report_path}: {exc.strerror}", EXIT_USAGE) from None
    with (
        source,
        report_file as out,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as progress,
    ):
        task = progress.add_task(file.name, total=size)
        writer = RejectReport(out)
        try:
            with platform.evaluation_workers() as processes:
                result = load_events(
                    platform.unit_of_work,
                    operator,
                    source,
                    file.name,
                    platform.rules,
                    platform.catalog,
                    platform.clock.now,
                    writer.write,
                    lambda done: progress.update(task, completed=done),
                    processes,
                )
        except FileProblem as exc:
            raise _fail(f"{file}: {exc}", EXIT_USAGE) from None
        except OSError as exc:
            raise _fail(f"cannot read {file}: {exc.strerror}", EXIT_USAGE) from None
        progress.update(task, completed=size)
    typer.echo(
        f"{file.name}: {result.lines} lines, {result.accepted} accepted, "
        f"{result.duplicates} duplicates, {result.rejected} rejected"
        + (f" (see {report_path})" if result.rejected else "")
    )
    if result.rejected:
        raise typer.Exit(EXIT_REFUSED)


def settle_command(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
) -> None:
    """Close a past month and write each operator's statement as JSON and CSV; says what it
    closed and settled, or that there was nothing to settle."""
    platform = _platform(ctx)
    try:
        found = close_month(platform.unit_of_work(), month, platform.clock.now())
    except MynapointError as exc:
        raise _fail(exc.message, EXIT_REFUSED) from None
    # The same lines however often it runs: a closed month never changes.
    if not found:
        typer.echo(
            f"{month}: closed; nothing to settle: no grant instruction belongs to {month}, "
            "so no statement was written"
        )
        return
    folder = platform.settings.var_dir / "settlements" / month
    folder.mkdir(parents=True, exist_ok=True)
    for operator_code, statement in found.items():
        _write_statement(folder, operator_code, statement)
    count = len(found)
    typer.echo(
        f"{month}: closed; {count} operator statement{'s' if count != 1 else ''} "
        f"written to {folder} (JSON and CSV):"
    )
    for operator_code, statement in found.items():
        net = sum(s.net_points for s in statement.services)
        persons = sum(s.persons for s in statement.services)
        typer.echo(
            f"  {operator_code}: {net:,} points = {net:,} yen to reimburse "
            f"({persons:,} person{'s' if persons != 1 else ''}; {operator_code}.json, "
            f"{operator_code}.csv)"
        )


def _write_statement(folder: Path, operator_code: str, statement: Statement) -> None:
    document = {
        "month": statement.month,
        "status": statement.status,
        "operator_code": operator_code,
        "services": [asdict(s) for s in statement.services],
    }
    (folder / f"{operator_code}.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    with (folder / f"{operator_code}.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            (
                "month",
                "service_code",
                "points_granted",
                "points_clawed_back",
                "net_points",
                "reimbursement_yen",
                "events",
                "persons",
            )
        )
        for s in statement.services:
            writer.writerow(
                (
                    statement.month,
                    s.service_code,
                    s.points_granted,
                    s.points_clawed_back,
                    s.net_points,
                    s.reimbursement_yen,
                    s.events,
                    s.persons,
                )
            )


def purge_command(ctx: typer.Context) -> None:
    """Delete expired login challenges, sign-ins and security-code tries (the server also does
    this at start and every 10 minutes); prints how many of each went."""
    platform = _platform(ctx)
    purged = purge_expired(platform.unit_of_work(), platform.clock.now())
    typer.echo(
        f"purged {purged.challenges} challenges, {purged.citizen_sessions} citizen sessions, "
        f"{purged.staff_sessions} staff sessions, {purged.code_tries} security-code tries"
    )
