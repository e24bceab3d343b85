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
