"""`mynapoint corners [--at T] [--json]`: the support corners, open or closed, and next openings."""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import datetime
from typing import Annotated

import typer

from mynapoint.cli.common import EXIT_USAGE, fail, open_platform
from mynapoint.domain.calendar import to_jst
from mynapoint.domain.errors import MynapointError
from mynapoint.rules.loader import RuleDataError
from mynapoint.web.api.support_corners import (
    SupportCornerOut,
    get_corner_directory,
    help_line_out,
    parse_moment,
    support_corners_out,
)
from mynapoint.web.i18n import long_date as japanese_date


def _platform_now(ctx: typer.Context) -> datetime:
    return open_platform(ctx).clock.now()


def _width(text: str) -> int:
    # Full-width (Japanese) characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * max(columns - _width(text), 0)


def _moment(at: datetime) -> str:
    local = to_jst(at)
    return f"{japanese_date(local.date())} {local:%H:%M}"


def _state(corner: SupportCornerOut) -> tuple[str, str]:
    if corner.open:
        assert corner.closes_at is not None  # noqa: S101 - an open corner closes at some point
        return "受付中", f"{to_jst(corner.closes_at):%H:%M}まで"
    if corner.next_open_at is None:
        return "受付終了", "今後の受付なし"
    return "受付時間外", f"次回 {_moment(corner.next_open_at)}"


def corners_command(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option(
            help="A moment with its UTC offset, e.g. 2021-07-19T10:00:00+09:00; "
            "default platform now."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of GET /api/v1/support-corners.")
    ] = False,
) -> None:
    """Support corners, open or closed at that moment, and when each next opens."""
    try:
        directory = get_corner_directory()
        moment = _platform_now(ctx) if at is None else parse_moment(at, "--at")
    except RuleDataError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except MynapointError as exc:
        raise fail(exc.message, EXIT_USAGE) from None
    body = support_corners_out(directory, moment)
    if as_json:
        sys.stdout.write(
            json.dumps(body.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
        )
        return
    rows = [("設置場所", "状況", "終了・次回", "所在地")]
    rows += [(c.name, *_state(c), c.address) for c in body.support_corners]
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    lines = [f"マイナポイント・サポートコーナー({_moment(moment)} 現在)", ""]
    lines += [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    line = help_line_out(directory.help_line, moment)
    state = (
        f"受付中({to_jst(line.closes_at):%H:%M}まで)"
        if line.open and line.closes_at is not None
        else "受付時間外"
        + (f"(次回 {_moment(line.next_open_at)})" if line.next_open_at is not None else "")
    )
    lines += ["", f"{line.name} {line.numbers[0].number}: {state}"]
    typer.echo("\n".join(lines))
