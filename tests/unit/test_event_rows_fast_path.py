"""The fast path for well-formed event rows gives exactly what the full validation gives.

`event_rows` accepts a plainly valid row without pydantic; every other row goes
through the model, so each bad line keeps its field, code and message. These
properties compare the two on rows near the edges of what is valid.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from mynapoint.ingest import event_rows
from mynapoint.ingest.event_rows import CSV_HEADER, parse_event
from mynapoint.services.intake import EventRow, RowProblem


def timestamp_texts(*, valid_only: bool) -> st.SearchStrategy[str]:
    parts = (
        (["2021", "1999"], ["2021", "0000", "0001", "2100", "9999", "21", "２０２１"]),
        (["05", "12"], ["02", "13", "00", "5"]),
        (["01", "28"], ["29", "30", "31", "00", "1"]),
        (["T"], ["t", " ", "_"]),
        (["00", "12", "23"], ["24", "7"]),
        (["00", "59"], ["60", "5"]),
        (["00", "59"], ["60", "5"]),
        (["", ".5", ".123456"], [".1234567", "."]),
        (["+09:00", "-05:30", "Z", "+23:59", "-00:00"], ["z", "", "+0900", "+24:00", "+09"]),
    )
    return st.builds(
        "{}-{}-{}{}{}:{}:{}{}{}".format,
        *(st.sampled_from(good if valid_only else good + bad) for good, bad in parts),
    )


VALID: dict[str, st.SearchStrategy[str]] = {
    "event_id": st.text(min_size=1, max_size=128),
    "service_code": st.sampled_from(["paypay", "waon", "x" * 40]),
    "payment_service_id": st.text(min_size=1, max_size=64),
    "kind": st.sampled_from(["charge", "purchase"]),
    "amount": st.integers(min_value=1, max_value=1_000_000_000).map(str),
    "occurred_at": timestamp_texts(valid_only=True),
    "refund_of": st.just(""),
}
EDGE: dict[str, st.SearchStrategy[str]] = {
    "event_id": st.sampled_from(
        ["", "x" * 129, " ", "\x00", " e1", "e\u202e1", "e\u200b1", "ｅ１", "e\t1", "é"]
    ),
    "service_code": st.sampled_from(["", "x" * 41, "nosuch"]),
    "payment_service_id": st.sampled_from(["", "1" * 65, "12\x0034", "１２", "12 "]),
    "kind": st.sampled_from(["refund", "Charge", " charge", ""]),
    "amount": st.one_of(
        st.integers(min_value=-5, max_value=2_000_000_000).map(str),
        st.sampled_from(
            ["", " 100", "100 ", "1e3", "1.5", "-0", "0100", "+5", "1_000", "１００", "²", "-²"]
        ),
    ),
    "occurred_at": st.one_of(timestamp_texts(valid_only=False), st.text(max_size=30)),
    "refund_of": st.sampled_from(["e0", "x" * 128, "x" * 129, "e\x000", " e0"]),
}


@st.composite
def csv_lines(draw: st.DrawFn) -> list[str]:
    """A valid line with none, one or two fields replaced by edge cases."""
    cells = {field: draw(strategy) for field, strategy in VALID.items()}
    for field in draw(st.lists(st.sampled_from(CSV_HEADER), max_size=2, unique=True)):
        cells[field] = draw(EDGE[field])
    return [cells[field] for field in CSV_HEADER]


def csv_reference(number: int, cells: list[str]) -> EventRow | RowProblem:
    """What the CSV reader did before the fast path: everything through pydantic."""
    data: dict[str, Any] = dict(zip(CSV_HEADER, cells, strict=True))
    data["amount"] = event_rows._csv_int(data["amount"])  # noqa: SLF001
    if not data["refund_of"]:
        data["refund_of"] = None
    return event_rows._validated(number, data)  # noqa: SLF001


def same(fast: EventRow | RowProblem, slow: EventRow | RowProblem) -> None:
    assert fast == slow
    if isinstance(fast, EventRow) and isinstance(slow, EventRow):
        assert fast.occurred_at.utcoffset() == slow.occurred_at.utcoffset()
        assert fast.content_hash() == slow.content_hash()


@given(cells=csv_lines())
@example(["e1", "paypay", "123", "charge", "100", "2021-05-09T12:00:00+09:00", ""])
@example(["e1", "paypay", "123", "refund", "100", "2021-05-09T12:00:00.5Z", "e0"])
@example(["e1", "paypay", "123", "refund", "100", "2021-05-09T12:00:00+09:00", ""])
@example(["e1", "paypay", "123", "charge", "100", "2021-05-09T12:00:00+09:00", "e0"])
@example(["e1", "paypay", "123", "charge", "0", "2021-02-29T12:00:00+09:00", ""])
@example(["e1", "paypay", "123", "charge", "²", "2021-05-09T12:00:00+09:00", ""])
@example(["e1", "paypay", "123", "charge", "100", "0001-01-01T00:00:00+09:00", ""])
@example(["e\x001", "paypay", "123", "charge", "100", "2021-05-09T12:00:00+09:00", ""])
def test_a_csv_line_reads_the_same_as_through_the_model(cells: list[str]) -> None:
    # Neither path raises: a digit int() cannot read (e.g. "²") is a rejected row.
    same(event_rows._csv_event(7, cells), csv_reference(7, cells))  # noqa: SLF001


@st.composite
def json_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A valid object with fields dropped, retyped or replaced by edge cases."""
    data: dict[str, Any] = dict(zip(CSV_HEADER, draw(csv_lines()), strict=True))
    amount = data["amount"]
    data["amount"] = int(amount) if amount.isascii() and amount.isdigit() else amount
    if not data["refund_of"]:
        del data["refund_of"]
    for field in draw(st.lists(st.sampled_from([*CSV_HEADER, "extra"]), max_size=2)):
        data[field] = draw(
            st.one_of(
                st.none(), st.integers(), st.booleans(), st.floats(allow_nan=False), st.just(1.0)
            )
        )
    for field in draw(st.lists(st.sampled_from(CSV_HEADER), max_size=2)):
        data.pop(field, None)
    return data


@given(data=json_objects())
@example(
    {
        "event_id": "e1",
        "service_code": "paypay",
        "payment_service_id": "123",
        "kind": "charge",
        "amount": 100,
        "occurred_at": "2021-05-09T12:00:00+09:00",
    }
)
def test_a_json_object_reads_the_same_as_through_the_model(data: dict[str, Any]) -> None:
    same(parse_event(3, data), event_rows._validated(3, data))  # noqa: SLF001
