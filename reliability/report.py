"""The table at the end: printed with Rich, written as Markdown, optionally recorded in
bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import socket
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mynapoint.domain.calendar import JST
from reliability.context import Outcome

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "RESULTS.md"
SECTION = "## `make reliability` — crash, restart and concurrency runs (PostgreSQL)"
SECTION_INTRO = """
Each row is one run of `make reliability` (reliability/README.md): what was tried, how many
valid events or points were lost, how many were doubled, how many requests or commands
crashed (HTTP 500, a dropped connection, a traceback, an unexpected exit), and the verdict.
"""
COLUMNS = ("run", "tried", "lost", "doubled", "crashed", "result", "reason")


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _cells(outcome: Outcome) -> tuple[str, ...]:
    return (
        outcome.run,
        outcome.tried,
        _number(outcome.lost),
        _number(outcome.doubled),
        _number(outcome.crashed),
        outcome.result,
        outcome.reason,
    )


def print_table(console: Console, outcomes: list[Outcome], title: str) -> None:
    table = Table(title=title, show_lines=True, expand=True)
    for name in COLUMNS:
        table.add_column(
            name,
            justify="right" if name in {"lost", "doubled", "crashed"} else "left",
            no_wrap=name in {"result", "lost", "doubled", "crashed"},
            ratio=4 if name == "reason" else (3 if name in {"run", "tried"} else None),
        )
    style = {"PASS": "bold green", "FAIL": "bold red", "SKIP": "yellow"}
    for outcome in outcomes:
        cells = list(_cells(outcome))
        cells[5] = f"[{style[outcome.result]}]{outcome.result}[/]"
        table.add_row(*cells)
    console.print(table)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(outcomes: list[Outcome], title: str) -> str:
    lines = [
        f"# {title}",
        "",
        "| " + " | ".join(COLUMNS) + " | seconds |",
        "|" + "---|" * (len(COLUMNS) + 1),
    ]
    lines += [
        "| " + " | ".join(_escape(c) for c in _cells(o)) + f" | {o.seconds:.0f} |" for o in outcomes
    ]
    return "\n".join(lines) + "\n"


def machine() -> str:
    return f"{socket.gethostname()}, {os.cpu_count()} cores, CPython {platform.python_version()}"


def today() -> str:
    return datetime.now(UTC).astimezone(JST).date().isoformat()


def record(outcomes: list[Outcome], mode: str, note: str) -> None:
    """Append one dated row per run to bench/RESULTS.md (the section is made the first time)."""
    head = (
        "| date | machine | mode | run | tried | lost | doubled | crashed | result | reason "
        "| note |\n" + "|---" * 11 + "|\n"
    )
    text = RESULTS.read_text(encoding="utf-8")
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n{SECTION_INTRO}\n{head}"
    rows = "".join(
        f"| {today()} | {machine()} | {mode} | "
        + " | ".join(_escape(c) for c in _cells(o))
        + f" | {_escape(note)} |\n"
        for o in outcomes
    )
    # The rows go at the end of the section's table: the section is the file's last one,
    # unless another was added after it.
    start = text.index(SECTION)
    after = text.find("\n## ", start + len(SECTION))
    if after == -1:
        text = text.rstrip("\n") + "\n" + rows
    else:
        body = text[:after].rstrip("\n") + "\n" + rows
        text = body + text[after:]
    RESULTS.write_text(text, encoding="utf-8")
