"""The input policy (domain/input_policy.py) at the HTTP edge.

Every string and instant a request carries is checked before a route sees it:

- JSON fields and form fields by their types: `Text`, `Identifier`, `TextBlock` (a PEM),
  `Day` (a JST calendar day) — a refusal is a validation problem of type `invalid_text` or
  `instant_out_of_range`, which web/errors.py answers with that code (422) and
  `details.fields`;
- the raw path and query string of every request by `check_path_and_query`, an app-wide
  dependency, so that no route, page or parameter is forgotten.

The operator event batch is the exception: its rows are judged one by one by the intake
(a bad row is rejected, its neighbours kept), so `EventsIn.events` is left untyped here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Final

from fastapi import Request, UploadFile
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from mynapoint.domain.calendar import JST
from mynapoint.domain.input_policy import (
    InstantOutOfRange,
    InvalidText,
    identifier_problem,
    instant_problem,
    text_problem,
)

INVALID_TEXT: Final = InvalidText.code
INSTANT_OUT_OF_RANGE: Final = InstantOutOfRange.code


def _refuse_text(problem: str) -> PydanticCustomError:
    return PydanticCustomError(INVALID_TEXT, "{problem}", {"problem": problem})


def _text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise _refuse_text(problem)
    return value


def _identifier(value: str) -> str:
    problem = identifier_problem(value)
    if problem is not None:
        raise _refuse_text(problem)
    return value


def _text_block(value: str) -> str:
    # A PEM certificate is lines of text: line breaks (and only they) are allowed between them.
    for line in value.replace("\r\n", "\n").split("\n"):
        problem = text_problem(line)
        if problem is not None:
            raise _refuse_text(problem)
    return value


def _upload_name(value: UploadFile) -> UploadFile:
    # The file's name is kept with an upload job; the content is judged line by line later.
    if value.filename is not None:
        problem = text_problem(value.filename)
        if problem is not None:
            raise _refuse_text(f"file name {problem}")
    return value


def _instant(value: datetime) -> datetime:
    problem = instant_problem(value)
    if problem is not None:
        raise PydanticCustomError(INSTANT_OUT_OF_RANGE, "{problem}", {"problem": problem})
    return value


def _strict_day(value: object) -> object:
    # pydantic reads a number as a Unix time ("0" is 1970-01-01); a day is written YYYY-MM-DD.
    if isinstance(value, str) and not (
        len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii()
    ):
        raise PydanticCustomError(
            "date_from_datetime_parsing", "is not a day; send YYYY-MM-DD, e.g. 2021-07-19"
        )
    return value


def _day(value: date) -> date:
    _instant(datetime.combine(value, time(), tzinfo=JST))
    return value


# Free text: a holder name, a reason, a PIN, a password.
Text = Annotated[str, AfterValidator(_text)]
# What names a thing: a code, an ID, a token. Not blank, not padded, in NFKC form.
Identifier = Annotated[str, AfterValidator(_identifier)]
# Several lines of text, e.g. a PEM certificate.
TextBlock = Annotated[str, AfterValidator(_text_block)]
# An uploaded file whose name the text policy accepts.
NamedUpload = Annotated[UploadFile, AfterValidator(_upload_name)]
# The years the platform accepts (domain/input_policy.py), said in the OpenAPI document so
# that a client, or schemathesis, knows 0233-07-22 is not a day it may send.
YEARS_PATTERN = "^20[0-9]{2}-"
# An aware instant inside the platform's range.
Instant = Annotated[
    datetime,
    AfterValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": YEARS_PATTERN}),
]
# A calendar day written YYYY-MM-DD, inside the platform's range.
Day = Annotated[
    date,
    BeforeValidator(_strict_day),
    AfterValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": YEARS_PATTERN}),
]


def raw_problem(request: Request) -> tuple[str, str] | None:
    """The first part of the path or query string the text policy refuses: (field, problem)."""
    problem = text_problem(request.url.path)
    if problem is not None:
        return "path", problem
    for name, value in request.query_params.multi_items():
        for field, text in ((f"{name} (query parameter name)", name), (name, value)):
            problem = text_problem(text)
            if problem is not None:
                return field, problem
    return None


async def check_path_and_query(request: Request) -> None:
    """An app-wide dependency: no route sees a path or query string the policy refuses.
    (`async`: pure computation, run on the event loop rather than in a thread per request.)"""
    found = raw_problem(request)
    if found is not None:
        field, problem = found
        raise InvalidText(f"{field} {problem}", field=field)
