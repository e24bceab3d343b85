"""Cities and wards as the card authority records them: JIS local government codes
(全国地方公共団体コード, JIS X 0402 plus a check digit), e.g. 401331 for 福岡市中央区."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from mynapoint.domain.errors import MynapointError

# What the statistics show for a cardholder whose municipality is not on record.
UNKNOWN: Final = "unknown"

_CODE = re.compile(r"\d{6}")
# The check digit's weights over the first five digits (総務省「全国地方公共団体コード」):
# the remainder of the weighted sum by 11, taken from 11, last digit.
_WEIGHTS: Final = (6, 5, 4, 3, 2)


class UnknownMunicipality(MynapointError):
    code = "unknown_municipality"


def check_digit(first_five: str) -> int:
    total = sum(int(digit) * weight for digit, weight in zip(first_five, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def is_well_formed(code: str) -> bool:
    """Six digits whose last is the check digit of the first five."""
    return bool(_CODE.fullmatch(code)) and check_digit(code[:5]) == int(code[5])


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str  # Japanese, as the city writes it: 福岡市中央区
    name_en: str


class Municipalities(Mapping[str, Municipality]):
    """The municipalities the platform knows, by code."""

    def __init__(self, known: Mapping[str, Municipality]) -> None:
        self._known = dict(known)

    def __getitem__(self, code: str) -> Municipality:
        return self._known[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)

    def require(self, code: str) -> Municipality:
        """The municipality of `code`; refused with the codes known when it is not one."""
        found = self._known.get(code.strip())
        if found is None:
            known = ", ".join(f"{m.code} ({m.name})" for m in self._known.values())
            raise UnknownMunicipality(
                f"municipality '{code}' is not a code the platform knows; give one of {known}",
                field="municipality",
            )
        return found

    def name_of(self, code: str, *, english: bool = False) -> str:
        """The name to show for a statistics key: 不明/unknown when not on record."""
        found = self._known.get(code)
        if found is not None:
            return found.name_en if english else found.name
        if code == UNKNOWN:
            return "unknown" if english else "不明"
        return code  # a code on record that the reference data no longer lists
