"""A cached revocation list is fetched again once it is 60 seconds old, and trusted only until
its next update: past it, a list that cannot be refreshed refuses every check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from mynapoint.jpki.revocation import CachedRevocationList, RevocationListStale

START = datetime(2021, 7, 19, 1, 0, tzinfo=UTC)
LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class Listed:
    """What the cache reads of a CRL: which one it is, and until when it holds."""

    number: int
    next_update_utc: datetime | None

    def __eq__(self, other: object) -> bool:
        return other == f"crl #{self.number}" if isinstance(other, str) else other is self

    def __hash__(self) -> int:
        return self.number


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


class Fetcher:
    """Stands in for the authority: each fetch returns a new, numbered list, valid a day from
    the clock's now (`stuck_at`: every list is the one issued then; `down`: fetching fails)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.fetches = 0
        self.stuck_at: datetime | None = None
        self.down = False
        self.lifetime: timedelta | None = LIFETIME

    def __call__(self) -> Listed:
        self.fetches += 1
        if self.down:
            raise ConnectionError("the card authority does not answer")
        issued = self.stuck_at or self.clock.at
        return Listed(self.fetches, None if self.lifetime is None else issued + self.lifetime)


def make_cache() -> tuple[CachedRevocationList, Fetcher, Clock]:
    clock = Clock()
    fetch = Fetcher(clock)
    return CachedRevocationList(fetch, clock), fetch, clock  # type: ignore[arg-type]


def test_the_list_is_fetched_on_first_use_only():
    cache, fetch, _ = make_cache()
    assert fetch.fetches == 0
    assert cache.current() == "crl #1"
    assert cache.current() == "crl #1"
    assert fetch.fetches == 1


def test_the_list_is_fetched_again_once_it_is_60_seconds_old():
    cache, _, clock = make_cache()
    cache.current()
    clock.at = START + timedelta(seconds=59, microseconds=999_999)
    assert cache.current() == "crl #1"
    clock.at = START + timedelta(seconds=60)
    assert cache.current() == "crl #2"
    clock.at = START + timedelta(seconds=119)
    assert cache.current() == "crl #2"
    clock.at = START + timedelta(seconds=120)
    assert cache.current() == "crl #3"


def test_a_clock_that_went_back_fetches_again():
    cache, _, clock = make_cache()
    cache.current()
    clock.at = START - timedelta(seconds=1)
    assert cache.current() == "crl #2"


def test_invalidate_forgets_the_list():
    cache, _, _ = make_cache()
    cache.current()
    cache.invalidate()
    assert cache.current() == "crl #2"


def test_the_maximum_age_can_be_set():
    clock = Clock()
    fetch = Fetcher(clock)
    cache = CachedRevocationList(fetch, clock, max_age=timedelta(seconds=5))  # type: ignore[arg-type]
    cache.current()
    clock.at = START + timedelta(seconds=5)
    assert cache.current() == "crl #2"


def test_a_list_past_its_next_update_is_refreshed_at_once_whatever_its_age():
    cache, fetch, clock = make_cache()
    fetch.lifetime = timedelta(seconds=30)
    cache.current()
    clock.at = START + timedelta(seconds=30)

    assert cache.current() == "crl #2"
    assert fetch.fetches == 2


@pytest.mark.parametrize(
    ("after", "refused"),
    [
        (LIFETIME - timedelta(microseconds=1), False),
        (LIFETIME, True),
        (LIFETIME + timedelta(days=30), True),
    ],
    ids=["just_before_next_update", "at_next_update", "a_month_after"],
)
def test_a_list_the_authority_cannot_refresh_is_refused_from_its_next_update(after, refused):
    cache, fetch, clock = make_cache()
    fetch.stuck_at = START  # the authority hands out the list of START, however late
    cache.current()
    clock.at = START + after

    if not refused:
        assert cache.current() == "crl #2"
        return
    with pytest.raises(RevocationListStale) as stale:
        cache.current()
    assert stale.value.code == "revocation_list_stale"
    assert stale.value.details["next_update"] == "2021-07-20T01:00:00Z"
    assert "no newer one could be obtained" in stale.value.message


def test_an_authority_that_fails_past_next_update_refuses_and_is_asked_again_next_time():
    cache, fetch, clock = make_cache()
    cache.current()
    fetch.down = True
    clock.at = START + LIFETIME + timedelta(minutes=1)

    with pytest.raises(RevocationListStale) as stale:
        cache.current()
    assert isinstance(stale.value.__cause__, ConnectionError)
    fetch.down = False
    assert cache.current() == "crl #3"


def test_an_authority_that_fails_while_the_list_holds_keeps_the_list_until_its_next_update():
    cache, fetch, clock = make_cache()
    cache.current()
    fetch.down = True
    clock.at = START + timedelta(hours=23)

    assert cache.current() == "crl #1"
    clock.at = START + LIFETIME
    with pytest.raises(RevocationListStale):
        cache.current()


def test_no_list_at_all_is_refused():
    cache, fetch, _ = make_cache()
    fetch.down = True

    with pytest.raises(RevocationListStale, match="no revocation list could be obtained"):
        cache.current()


def test_a_list_without_a_next_update_is_refused():
    cache, fetch, _ = make_cache()
    fetch.lifetime = None

    with pytest.raises(RevocationListStale, match="has no next update"):
        cache.current()
