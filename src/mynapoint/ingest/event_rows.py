"""Operator events from JSON bodies, CSV and JSON Lines: each row checked on its own.

Reading is streaming: a file of any size is read line by line, as bytes, and each
line is decoded and judged on its own, so every bad line (not UTF-8, badly quoted,
too long, a bad field) becomes a problem with its true line number, field and code
while every line after it is still read.

One physical line is one record, in CSV too: a quoted field may hold commas and
quotes but not a line break. No field of an event can contain one (identifiers
refuse control characters), so a record split over lines could never be accepted;
reading it as one record would let a single stray quote swallow every line after
it. A line whose quotes do not close is rejected on its own, and the next line is
read as a record of its own.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mynapoint.domain.input_policy import (
    ascii_digits,
    identifier_problem,
    instant_problem,
    text_problem,
)
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
    """The row's event_id as the report may show it: None when it is not text that can
    be stored and shown (a NUL, a lone surrogate from a JSON escape, …)."""
    if isinstance(data, dict):
        value = data.get("event_id")
        if isinstance(value, str) and value and text_problem(value) is None:
            return value[:128]
    return None


def _visible(text: str) -> str:
    """`text` with any control, format or unencodable character escaped, so that a report
    (a CSV file, a JSON column) can always hold it."""
    if text_problem(text) is None:
        return text
    return text.encode("unicode_escape").decode("ascii")


# The identifiers of an event, checked with the platform's one input policy.
IDENTIFIERS = ("event_id", "service_code", "payment_service_id", "refund_of")


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
        and _plain(event_id, service_code, payment_service_id, refund_of or "x")
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
    # Any offset keeps a time of 2001-2098 within the accepted instants; the years at the
    # edges are checked to the second.
    if not "2001" <= occurred_at[:4] <= "2098" and instant_problem(at) is not None:
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


def _plain(*identifiers: str) -> bool:
    """Non-empty printable ASCII without spaces around it: identifiers the input policy
    surely accepts (ASCII is its own NFKC form). Anything else is left to the full
    validation."""
    joined = "".join(identifiers)
    return (
        joined.isascii()
        and joined.isprintable()
        and all(value[0] != " " and value[-1] != " " for value in identifiers)
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
        field = _visible(".".join(str(part) for part in problem["loc"]) or "(row)")
        message = _MESSAGES.get(problem["type"], problem["msg"])
        shown = problem.get("input")
        if problem["type"] == "string_unicode":
            # A lone surrogate (a JSON \ud800 escape): text no platform string may hold.
            return RowProblem(
                index,
                _event_id_of(data),
                field,
                "invalid_text",
                f"{field} is not Unicode text (it holds a lone surrogate); send printable text",
            )
        if problem["type"] not in {"missing", "extra_forbidden"} and isinstance(shown, str | int):
            message = f"{shown!r} {message}" if field != "(row)" else message
        return RowProblem(
            index, _event_id_of(data), field, "invalid_request", _visible(f"{field}: {message}")
        )
    shown_id = event.event_id if text_problem(event.event_id) is None else None
    for name in IDENTIFIERS:
        value = getattr(event, name)
        text = None if value is None else identifier_problem(value)
        if text is not None:
            return RowProblem(index, shown_id, name, "invalid_text", f"{name} {text}")
    instant = instant_problem(event.occurred_at)
    if instant is not None:
        return RowProblem(
            index, shown_id, "occurred_at", "instant_out_of_range", f"occurred_at: {instant}"
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
    """The file as a whole cannot be read (e.g. a wrong or unreadable CSV header)."""


# A longer line is rejected on its own (an event is a few hundred bytes): reading stays
# bounded in memory whatever the file holds.
MAX_LINE_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"


class ByteLines(Protocol):
    """What reading a file needs of it: a binary file, or a part of one
    (ingest.ranges.RangeReader)."""

    def readline(self, limit: int = -1, /) -> bytes: ...

    def tell(self) -> int: ...

    def seekable(self) -> bool: ...


def is_json_lines(name: str) -> bool:
    """Whether a file of this name is read as JSON Lines (else as CSV)."""
    return name.lower().endswith((".jsonl", ".ndjson", ".json"))


def read_events(
    stream: ByteLines, name: str, first_line: int = 1
) -> Iterator[tuple[int, EventRow | RowProblem]]:
    """(line number, row or problem) for every data line; the CSV header is line 1.

    `first_line` above 1 resumes a file: `stream` is positioned at the start of that
    line (past the header, which was checked when the file was first read)."""
    lines = _physical_lines(stream, first_line)
    if is_json_lines(name):
        yield from _json_lines(lines)
    else:
        yield from _csv_lines(lines, header_read=first_line > 1)


def _physical_lines(stream: ByteLines, first_line: int) -> Iterator[tuple[int, str | RowProblem]]:
    """Each line of the file decoded on its own (without its LF or CRLF), or the problem
    that keeps it from being read; the lines after a bad one are read as usual."""
    number = first_line - 1
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_LINE_BYTES + 1)
            yield number, _line_problem(number, f"longer than {MAX_LINE_BYTES:,} bytes")
            continue
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield (
                number,
                _line_problem(
                    number,
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02X} at byte {exc.start + 1} "
                    "of the line; save the file as UTF-8",
                ),
            )
            continue
        yield number, text.removesuffix("\n").removesuffix("\r")


def _line_problem(number: int, message: str, event_id: str | None = None) -> RowProblem:
    return RowProblem(number, event_id, "(line)", "invalid_request", message)


def _json_lines(
    lines: Iterator[tuple[int, str | RowProblem]],
) -> Iterator[tuple[int, EventRow | RowProblem]]:
    for number, line in lines:
        if isinstance(line, RowProblem):
            yield number, line
            continue
        if not line.strip():
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _line_problem(number, f"not a JSON object: {exc.msg}")
            continue
        except (ValueError, RecursionError):
            # An integer of thousands of digits, or arrays nested thousands deep.
            yield number, _line_problem(number, "not a JSON object an event can be read from")
            continue
        if not isinstance(data, dict):
            yield number, _line_problem(number, "not a JSON object")
            continue
        yield number, parse_event(number, data)


def _csv_cells(line: str) -> list[str]:
    """The fields of one CSV line (raises csv.Error for bad quoting or a stray CR)."""
    if '"' not in line and "\r" not in line:
        return line.split(",")
    return next(csv.reader((line,), strict=True), [])


def _csv_lines(
    lines: Iterator[tuple[int, str | RowProblem]], *, header_read: bool
) -> Iterator[tuple[int, EventRow | RowProblem]]:
    if not header_read and not _header_checked(lines):
        return
    for number, line in lines:
        if isinstance(line, RowProblem):
            yield number, line
            continue
        try:
            cells = _csv_cells(line)
        except csv.Error as exc:
            yield (
                number,
                _line_problem(
                    number,
                    f"cannot read the line: {exc}; a quoted field must close on its own "
                    "line (no field of an event holds a line break)",
                ),
            )
            continue
        # A blank line is skipped (a first cell with text settles it at once).
        if not (cells and cells[0].strip()) and not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(CSV_HEADER):
            shown = cells[0] if cells and text_problem(cells[0]) is None else None
            yield (
                number,
                _line_problem(number, f"{len(cells)} fields; expected {len(CSV_HEADER)}", shown),
            )
            continue
        yield number, _csv_event(number, cells)


def _header_checked(lines: Iterator[tuple[int, str | RowProblem]]) -> bool:
    """Reads line 1 and raises FileProblem unless it is the CSV header; False for an empty
    file."""
    first = next(lines, None)
    if first is None:
        return False
    _, text = first
    if isinstance(text, RowProblem):
        raise FileProblem(f"line 1: cannot read the CSV header: {text.message}")
    try:
        header = _csv_cells(text)
    except csv.Error as exc:
        raise FileProblem(f"line 1: cannot read the CSV header: {exc}") from None
    if tuple(h.strip() for h in header) != CSV_HEADER:
        raise FileProblem(
            f"line 1: the header is {_visible(text)!r}; expected {','.join(CSV_HEADER)}"
        )
    return True


def _csv_event(number: int, cells: list[str]) -> EventRow | RowProblem:
    event_id, service_code, payment_service_id, kind, amount, occurred_at, refund_of = cells
    if ascii_digits(amount):
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
    """A CSV amount as a number when it is one in ASCII digits (with a minus sign, so that
    -100 is told it must be more than 0); anything else stays text and is refused as a
    JSON string amount is, with the same message ('８０００', '²', ' 100', '1e3')."""
    digits = value.removeprefix("-")
    return int(value) if ascii_digits(digits) else value
