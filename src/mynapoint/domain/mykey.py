"""The MyKey ID (マイキーID): 8 characters of A-Z and 0-9, one per person for life (RULES.md §4)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime

MYKEY_ALPHABET = string.ascii_uppercase + string.digits
MYKEY_LENGTH = 8
_MYKEY = re.compile(f"[A-Z0-9]{{{MYKEY_LENGTH}}}")


def is_mykey_id(value: str) -> bool:
    return _MYKEY.fullmatch(value) is not None


@dataclass(frozen=True)
class MyKey:
    mykey_id: str
    person: str
    created_at: datetime


# The reserved MyKey IDs are counted in this many rows (db/tables/citizens.py,
# mykey_reservation_shards), so that concurrent reservations seldom wait for one another
# (issue 13: one row serialised every new ID in the country).
RESERVATION_SHARDS = 64


def shard_capacity(frame: int, shard: int, shards: int = RESERVATION_SHARDS) -> int:
    """The places of `shard` under a budget frame of `frame` reservations: the frame split as
    evenly as whole numbers allow, so the capacities of all shards add up to exactly `frame`."""
    return frame // shards + (1 if shard < frame % shards else 0)
