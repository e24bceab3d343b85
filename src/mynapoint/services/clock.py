from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

_log = logging.getLogger(__name__)


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
class ClockAnchor:
    """The pair a database records: platform time began at `start` when the real clock read
    `recorded_real_at` (INTERFACES, "The platform clock")."""

    start: datetime
    recorded_real_at: datetime

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        _aware(self.recorded_real_at, "recorded_real_at")

    def platform_time(self, real_now: datetime) -> datetime:
        """Platform time runs at the real clock's pace from the start."""
        return self.start.astimezone(UTC) + (real_now - self.recorded_real_at)


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
        return ClockAnchor(self.start, self.recorded_real_at).platform_time(self.real.now())


class AnchorUnreadable(Exception):
    """The recorded anchor could not be read (the database is away for a moment)."""


# How long a process goes on with the anchor it last read before reading it again: a
# `mynapoint clock set` reaches a running server within this time.
ANCHOR_REFRESH = timedelta(seconds=5)


class RecordedClock:
    """Platform time from the anchor recorded in the database, or real time while none is.

    Every process on a database, server and command line alike, reads the same recorded
    pair, so they agree. The pair is read again at most every `refresh`; when it cannot be
    read (the database restarts), the last one read stays in force.
    """

    def __init__(
        self,
        read_anchor: Callable[[], ClockAnchor | None],
        *,
        real: Clock | None = None,
        refresh: timedelta = ANCHOR_REFRESH,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_anchor = read_anchor
        self._real = real or SystemClock()
        self._refresh_seconds = refresh.total_seconds()
        self._monotonic = monotonic
        self._refreshing = threading.Lock()
        # The first read is not guarded: a process that cannot read its database fails here.
        self._anchor = read_anchor()
        self._read_at = monotonic()

    @property
    def anchor(self) -> ClockAnchor | None:
        """The recorded pair in force; None while the database runs on real time."""
        if self._monotonic() - self._read_at >= self._refresh_seconds:
            self._refresh()
        return self._anchor

    def reload(self) -> None:
        """Read the recorded anchor now rather than at the next refresh."""
        self._refresh(wait=True)

    def now(self) -> datetime:
        anchor = self.anchor
        real_now = self._real.now()
        return real_now if anchor is None else anchor.platform_time(real_now)

    def _refresh(self, *, wait: bool = False) -> None:
        # One thread reads; the others go on with the pair in force meanwhile.
        if not self._refreshing.acquire(blocking=wait):
            return
        try:
            self._anchor = self._read_anchor()
        except AnchorUnreadable as exc:
            _log.warning("platform clock: %s; keeping the last anchor read", exc)
        finally:
            self._read_at = self._monotonic()
            self._refreshing.release()


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(
            f"{name} '{value.isoformat(sep=' ')}' has no UTC offset; "
            f"pass an aware datetime, e.g. {value.replace(tzinfo=UTC).isoformat()}"
        )
    return value
