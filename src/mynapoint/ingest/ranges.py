"""An event file cut into byte ranges at line boundaries, each loaded on its own (by its own
job, on any worker: docs/JOBS.md), so that parsing and storing a big file runs on many cores.

A file is cut only when the order of its lines cannot matter: when no event_id occurs on two
of its lines. Within one file the earlier of two lines with one event_id wins (the later is a
duplicate, or an `event_id_conflict` when its content differs); ranges loaded side by side
would let whichever range comes first win. So the ids are read first, cheaply (the first CSV
cell, or JSON Lines' `"event_id": "…"`); a file where that cannot be done surely (a quoted
CSV cell, a JSON escape) or where an id repeats, or a CSV file whose header is wrong, is
loaded in one range, in line order, as before.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from itertools import pairwise
from typing import IO, TYPE_CHECKING, Final

from mynapoint.ingest.event_rows import CSV_HEADER, is_json_lines

if TYPE_CHECKING:
    from pathlib import Path

# A file at least twice this size is cut in ranges of one size, at least this one.
RANGE_BYTES: Final = 2 << 20
_BLOCK: Final = 8 << 20
_BUCKETS: Final = 256
# After a line break (one is put before the block): a literal first, which the regex engine
# looks for fast, instead of trying ^ at every byte.
_CSV_ID = re.compile(rb"\n([^,\r\n]*)")
_JSON_ID = re.compile(rb'"event_id"[ \t\r]*:[ \t\r]*"([^"\\\n]*)"')
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of a file: whole lines, the first of them line `first_line`."""

    start: int
    end: int
    first_line: int


def split(path: Path, name: str, size: int = RANGE_BYTES) -> list[ByteRange] | None:
    """The file's ranges, or None when it is to be loaded in one piece, in line order (too
    small, an event_id that may repeat, a wrong CSV header)."""
    total = path.stat().st_size
    if total < 2 * size:
        return None
    with path.open("rb") as source:
        if not is_json_lines(name) and not _csv_header(source):
            return None
        source.seek(0)
        if not _distinct_ids(source, json_lines=is_json_lines(name)):
            return None
        # Parts of one size, at least `size`: the file's size shared out.
        count = total // size
        cuts = [0]
        for number in range(1, count):
            source.seek(max(number * total // count, cuts[-1]))
            source.readline()
            at = source.tell()
            if at >= total:
                break
            cuts.append(at)
        cuts.append(total)
        source.seek(0)
        ranges = []
        line = 1
        for start, end in pairwise(cuts):
            ranges.append(ByteRange(start, end, line))
            line += _count_lines(source, end - start)
    return ranges if len(ranges) > 1 else None


def _csv_header(source: IO[bytes]) -> bool:
    first = source.readline().removeprefix(_BOM).rstrip(b"\r\n")
    return tuple(cell.strip() for cell in first.split(b",")) == tuple(
        name.encode() for name in CSV_HEADER
    )


def _count_lines(source: IO[bytes], length: int) -> int:
    lines = 0
    while length > 0:
        chunk = source.read(min(length, _BLOCK))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        length -= len(chunk)
    return lines


def _distinct_ids(source: IO[bytes], *, json_lines: bool) -> bool:
    """Whether the file's event_ids are surely distinct: each id read from its line as the
    loader would read it (anything doubtful: False), then compared by a 64-bit hash, in
    buckets so that memory stays at ~8 bytes a line (two ids with one hash: False, the
    careful answer)."""
    buckets = [array("q") for _ in range(_BUCKETS)]
    rest = b""
    first = True
    while True:
        chunk = source.read(_BLOCK)
        block = rest + chunk
        if chunk:
            cut = block.rfind(b"\n") + 1
            block, rest = block[:cut], block[cut:]
        if first:
            block = block.removeprefix(_BOM)
            if not json_lines:
                block = block[block.find(b"\n") + 1 :] if b"\n" in block else b""
            first = False
        ids = _ids(block, json_lines=json_lines)
        if ids is None:
            return False
        for hashed in map(hash, filter(None, ids)):
            buckets[hashed % _BUCKETS].append(hashed)
        if not chunk:
            break
    return all(len(set(bucket)) == len(bucket) for bucket in buckets)


def _ids(block: bytes, *, json_lines: bool) -> list[bytes] | None:
    """The event_ids of whole lines, or None when one of them cannot be read surely here."""
    if json_lines:
        # No escape anywhere: every key and every string is what its bytes say, and no
        # string holds a quote; each "event_id" a key with a plain string value.
        if b"\\" in block:
            return None
        ids = _JSON_ID.findall(block)
        return ids if len(ids) == block.count(b'"event_id"') else None
    # An unquoted first cell is the event_id as the loader reads it (a quoted one may not be).
    if b'"' in block:
        return None
    return _CSV_ID.findall(b"\n" + block) if block else []


class RangeReader:
    """The bytes of `stream` up to `end`, read line by line as `read_events` reads a file
    (readline, tell), from where `stream` is."""

    def __init__(self, stream: IO[bytes], end: int) -> None:
        self._stream = stream
        self._end = end

    def readline(self, limit: int = -1) -> bytes:
        left = self._end - self._stream.tell()
        if left <= 0:
            return b""
        return self._stream.readline(left if limit < 0 else min(limit, left))

    def tell(self) -> int:
        return self._stream.tell()

    def seekable(self) -> bool:
        return True
