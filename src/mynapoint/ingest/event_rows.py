"""Operator events from JSON bodies, CSV and JSON Lines: each row checked on its own.

Reading is streaming: a file of any size is read line by line, and every bad
line becomes a problem with its line number, field and code while the good
lines go on.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mynapoint.domain.measures import EventKind
from mynapoint.rules.schema import Timestamp
from mynapoint.services.intake import EventRow, RowProblem

CSV_HEADER = (
    "event_id",
    "service_code",
    "payment_service_id",
    "kind",
    "amount",
    "occurred_at",
    "refund_of",
)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    service_code: Annotated[str, Field(min_length=1, max_length=40)]
    payment_service_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["charge", "purchase", "refund"]
    amount: Annotated[int, Field(strict=True, gt=0, le=1_000_000_000)]
    occurred_at: Timestamp
    refund_of: Annotated[str, Field(min_length=1, max_length=128)] | None = None


_EVENT = TypeAdapter(EventIn)

_MESSAGES = {
    "timezone_aware": "has no UTC offset; send e.g. 2021-05-09T12:00:00+09:00",
    "datetime_from_date_parsing": "is not a timestamp; send e.g. 2021-05-09T12:00:00+09:00",
    "datetime_parsing": "is not a timestamp; send e.g. 2021-05-09T12:00:00+09:00",
    "int_type": "must be a whole number of yen, e.g. 3000",
    "int_parsing": "must be a whole number of yen, e.g. 3000",
    "greater_than": "must be more than 0; a refund is kind refund with a positive amount",
    "missing": "is required",
    "extra_forbidden": "is not a field of an event",
    "literal_error": "must be charge, purchase or refund",
}


def _event_id_of(data: object) -> str | None:
    if isinstance(data, dict):
        value = data.get("event_id")
        if isinstance(value, str) and value:
            return value[:128]
    return None


_FIELDS = frozenset(CSV_HEADER)
_KINDS = {kind.value: kind for kind in EventKind}
# The everyday spelling of an aware timestamp (2021-05-09T12:00:00+09:00, optionally with
# fractions of a second or Z). Such a string means the same instant to datetime.fromisoformat
# as to pydantic; anything else goes through pydantic, which explains what is wrong.
_PLAIN_TIMESTAMP = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])",
    re.ASCII,
)


def _well_formed(
    event_id: object,
    service_code: object,
    payment_service_id: object,
    kind: object,
    amount: object,
    occurred_at: object,
    refund_of: object,
) -> EventRow | None:
    """The row, when it is plainly valid; None sends it through the full validation.

    A fast path for the usual row: it accepts only what `EventIn` accepts, with the
    same values, and leaves every doubtful case (and so every error message) to it.
    """
    if not (
        type(event_id) is str
        and 0 < len(event_id) <= 128
        and type(service_code) is str
        and 0 < len(service_code) <= 40
        and type(payment_service_id) is str
        and 0 < len(payment_service_id) <= 64
        and type(kind) is str
        and type(amount) is int
        and 0 < amount <= 1_000_000_000
        and type(occurred_at) is str
        and (refund_of is None or (type(refund_of) is str and 0 < len(refund_of) <= 128))
    ):
        return None
    event_kind = _KINDS.get(kind)
    if event_kind is None or (event_kind is EventKind.REFUND) != (refund_of is not None):
        return None
    if _PLAIN_TIMESTAMP.fullmatch(occurred_at) is None:
        return None
    try:
        # Python 3.11 reads a trailing Z too.
        at = datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
    return EventRow(
        event_id=event_id,
        service_code=service_code,
        payment_service_id=payment_service_id,
        kind=event_kind,
        amount=amount,
        occurred_at=at,
        refund_of=refund_of,
    )


def parse_event(index: int, data: object) -> EventRow | RowProblem:
    if type(data) is dict and data.keys() <= _FIELDS:
        row = _well_formed(
            data.get("event_id"),
            data.get("service_code"),
            data.get("payment_service_id"),
            data.get("kind"),
            data.get("amount"),
            data.get("occurred_at"),
            data.get("refund_of"),
        )
        if row is not None:
            return row
    return _validated(index, data)


def _validated(index: int, data: object) -> EventRow | RowProblem:
    """The full validation, with a field, code and message for whatever is wrong."""
    try:
        event = _EVENT.validate_python(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "(row)"
        message = _MESSAGES.get(problem["type"], problem["msg"])
        shown = problem.get("input")
        if problem["type"] not in {"missing", "extra_forbidden"} and isinstance(shown, str | int):
            message = f"{shown!r} {message}" if field != "(row)" else message
        return RowProblem(
            index, _event_id_of(data), field, "invalid_request", f"{field}: {message}"
        )
    kind = EventKind(event.kind)
    if (kind is EventKind.REFUND) != (event.refund_of is not None):
        message = (
            "a refund needs refund_of, the event_id it refunds"
            if kind is EventKind.REFUND
            else "only a refund has refund_of"
        )
        return RowProblem(index, event.event_id, "refund_of", "invalid_request", message)
    return EventRow(
        event_id=event.event_id,
        service_code=event.service_code,
        payment_service_id=event.payment_service_id,
        kind=kind,
        amount=event.amount,
        occurred_at=event.occurred_at,
        refund_of=event.refund_of,
    )


class FileProblem(ValueError):
    """The file as a whole cannot be read (e.g. a wrong CSV header)."""


def read_events(stream: IO[bytes], name: str) -> Iterator[tuple[int, EventRow | RowProblem]]:
    """(line number, row or problem) for every data line; the CSV header is line 1."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    try:
        if name.lower().endswith((".jsonl", ".ndjson", ".json")):
            yield from _json_lines(text)
        else:
            yield from _csv_lines(text)
    finally:
        # The caller owns the stream: let go of it without closing it.
        text.detach()


def _json_lines(lines: Iterable[str]) -> Iterator[tuple[int, EventRow | RowProblem]]:
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    RowProblem(
                        number, None, "(line)", "invalid_request", f"not a JSON object: {exc.msg}"
                    ),
                )
                continue
            if not isinstance(data, dict):
                yield (
                    number,
                    RowProblem(number, None, "(line)", "invalid_request", "not a JSON object"),
                )
                continue
            yield number, parse_event(number, data)
    except UnicodeDecodeError:
        yield (
            number + 1,
            RowProblem(number + 1, None, "(line)", "invalid_request", "not UTF-8 text"),
        )


def _csv_lines(text: Iterable[str]) -> Iterator[tuple[int, EventRow | RowProblem]]:
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(f"line 1: cannot read the CSV header: {exc}") from None
    if header is None:
        return
    if tuple(h.strip() for h in header) != CSV_HEADER:
        raise FileProblem(
            f"line 1: the header is {','.join(header)!r}; expected {','.join(CSV_HEADER)}"
        )
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            number += 1
            yield (
                number,
                RowProblem(
                    number, None, "(line)", "invalid_request", f"cannot read the line: {exc}"
                ),
            )
            return
        number = reader.line_num
        # A blank line is skipped (a first cell with text settles it at once).
        if not (cells and cells[0].strip()) and not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(CSV_HEADER):
            yield (
                number,
                RowProblem(
                    number,
                    cells[0] if cells else None,
                    "(line)",
                    "invalid_request",
                    f"{len(cells)} fields; expected {len(CSV_HEADER)}",
                ),
            )
            continue
        yield number, _csv_event(number, cells)


def _csv_event(number: int, cells: list[str]) -> EventRow | RowProblem:
    event_id, service_code, payment_service_id, kind, amount, occurred_at, refund_of = cells
    if amount.isascii() and amount.isdigit():
        row = _well_formed(
            event_id,
            service_code,
            payment_service_id,
            kind,
            int(amount),
            occurred_at,
            refund_of or None,
        )
        if row is not None:
            return row
    data: dict[str, Any] = dict(zip(CSV_HEADER, cells, strict=True))
    data["amount"] = _csv_int(data["amount"])
    if not data["refund_of"]:
        data["refund_of"] = None
    return parse_event(number, data)


def _csv_int(value: str) -> int | str:
    text = value.strip()
    return int(text) if text.isdigit() or (text.startswith("-") and text[1:].isdigit()) else text
