"""Rule values that change by announcement (RULES.md R10, R12).

Each version says from which day it governs (`effective`) and on which day it
became known (`announced`). A question about an instant is answered by the
version in effect on that JST day among those announced by `as_of` (all of them
when `as_of` is None): so the platform can say both what applies to an event and
what the rules said on a given day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Version(Generic[T]):
    value: T
    effective: date
    announced: date


@dataclass(frozen=True)
class Versioned(Generic[T]):
    versions: tuple[Version[T], ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a versioned value needs at least one version")
        for earlier, later in zip(self.versions, self.versions[1:], strict=False):
            if later.effective <= earlier.effective:
                raise ValueError(
                    f"versions overlap: one takes effect {later.effective.isoformat()}, "
                    f"not after the previous one ({earlier.effective.isoformat()})"
                )

    @classmethod
    def single(cls, value: T, effective: date, announced: date) -> Versioned[T]:
        return cls((Version(value, effective, announced),))

    def visible(self, as_of: date | None) -> tuple[Version[T], ...]:
        return tuple(v for v in self.versions if as_of is None or v.announced <= as_of)

    def version_on(self, day: date, as_of: date | None) -> Version[T] | None:
        """The version governing `day`; before the first, the first one visible."""
        visible = self.visible(as_of)
        if not visible:
            return None
        chosen = visible[0]
        for version in visible:
            if version.effective <= day:
                chosen = version
        return chosen

    def first_announced(self) -> date:
        return min(v.announced for v in self.versions)
