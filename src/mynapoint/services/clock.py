from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Platform time. Rules compare against this, never against the machine's date."""

    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Time that moves only when a test moves it."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at, "at")

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at, "at")

    def advance(self, by: timedelta) -> None:
        self._at += by


@dataclass(frozen=True)
class OffsetClock:
    """Platform time that began at `start` when the real clock read `recorded_real_at`
    and runs at the real clock's pace (INTERFACES, "The platform clock")."""

    start: datetime
    recorded_real_at: datetime
    real: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        _aware(self.recorded_real_at, "recorded_real_at")

    def now(self) -> datetime:
        elapsed = self.real.now() - self.recorded_real_at
        return self.start.astimezone(UTC) + elapsed


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(
            f"{name} '{value.isoformat(sep=' ')}' has no UTC offset; "
            f"pass an aware datetime, e.g. {value.replace(tzinfo=UTC).isoformat()}"
        )
    return value
