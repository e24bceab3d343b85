"""An event file cut into parts at line boundaries (ingest.ranges): whole lines, the right
line numbers, the same rows read part by part as in one piece, and no cut where the order of
the lines could matter (an event_id that may repeat, a wrong header)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from mynapoint.ingest.event_rows import CSV_HEADER, read_events
from mynapoint.ingest.ranges import RangeReader, split

HEADER = ",".join(CSV_HEADER) + "\n"


def csv_line(number: int, event_id: str | None = None) -> str:
    return (
        f"{event_id or f'e{number:05d}'},paypay,{number:016d},charge,{100 + number % 900},"
        f"2021-06-01T10:00:00+09:00,\n"
    )


def json_line(number: int, event_id: str | None = None) -> str:
    return (
        f'{{"event_id": "{event_id or f"e{number:05d}"}", "service_code": "paypay", '
        f'"payment_service_id": "{number:016d}", "kind": "charge", "amount": 100, '
        f'"occurred_at": "2021-06-01T10:00:00+09:00"}}\n'
    )


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def read_all(path: Path, name: str) -> list[tuple[int, object]]:
    with path.open("rb") as stream:
        return list(read_events(stream, name))


def read_parts(path: Path, name: str, size: int) -> list[tuple[int, object]]:
    ranges = split(path, name, size)
    assert ranges is not None
    rows: list[tuple[int, object]] = []
    with path.open("rb") as source:
        for part in ranges:
            source.seek(part.start)
            rows.extend(read_events(RangeReader(source, part.end), name, part.first_line))
    return rows


@pytest.mark.parametrize("name", ["events.csv", "events.jsonl"])
def test_the_parts_are_whole_lines_that_read_as_the_whole_file(tmp_path, name):
    line = json_line if name.endswith(".jsonl") else csv_line
    # Bad lines too, blank ones and a last line without its line break.
    lines = [line(number) for number in range(2_000)]
    lines[17] = "not an event\n"
    lines[500] = "\n"
    lines[1_999] = lines[1_999].rstrip("\n")
    text = ("" if name.endswith(".jsonl") else HEADER) + "".join(lines)
    path = write(tmp_path / name, text)
    ranges = split(path, name, 10_000)
    assert ranges is not None
    assert len(ranges) > 5
    assert ranges[0].start == 0
    assert ranges[-1].end == path.stat().st_size
    content = path.read_bytes()
    for before, after in pairwise(ranges):
        assert before.end == after.start
        assert content[after.start - 1 : after.start] == b"\n"
        assert after.first_line == content[: after.start].count(b"\n") + 1
    assert read_parts(path, name, 10_000) == read_all(path, name)


def test_a_small_file_is_one_piece(tmp_path):
    path = write(tmp_path / "events.csv", HEADER + "".join(csv_line(n) for n in range(100)))
    assert split(path, "events.csv", 1 << 20) is None


@pytest.mark.parametrize("name", ["events.csv", "events.jsonl"])
def test_a_file_where_an_event_id_repeats_is_one_piece(tmp_path, name):
    line = json_line if name.endswith(".jsonl") else csv_line
    lines = [line(number) for number in range(2_000)]
    # The same id far apart, with other content: the earlier line must win.
    lines[1_900] = line(1_900, event_id="e00003")
    text = ("" if name.endswith(".jsonl") else HEADER) + "".join(lines)
    assert split(write(tmp_path / name, text), name, 10_000) is None


def test_a_file_whose_ids_cannot_be_read_surely_is_one_piece(tmp_path):
    quoted = [csv_line(number) for number in range(2_000)]
    quoted[5] = '"e00005",' + quoted[5].split(",", 1)[1]
    assert split(write(tmp_path / "q.csv", HEADER + "".join(quoted)), "q.csv", 10_000) is None
    escaped = [json_line(number) for number in range(2_000)]
    # "e\u0030…" is the id e0…: an escape is not read here.
    escaped[7] = escaped[7].replace('"e00007"', '"\\u0065x"')
    path = write(tmp_path / "e.jsonl", "".join(escaped))
    assert split(path, "e.jsonl", 10_000) is None


def test_a_csv_file_with_a_wrong_header_is_one_piece(tmp_path):
    text = "event_id,service_code\n" + "".join(csv_line(number) for number in range(2_000))
    assert split(write(tmp_path / "events.csv", text), "events.csv", 10_000) is None
