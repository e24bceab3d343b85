"""A cached revocation list is fetched again once it is 60 seconds old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mynapoint.jpki.revocation import CachedRevocationList

START = datetime(2021, 7, 19, 1, 0, tzinfo=UTC)


class Fetcher:
    """Stands in for the authority: each fetch returns a new, numbered list."""

    def __init__(self) -> None:
        self.fetches = 0

    def __call__(self):
        self.fetches += 1
        return f"crl #{self.fetches}"


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


def make_cache() -> tuple[CachedRevocationList, Fetcher, Clock]:
    fetch, clock = Fetcher(), Clock()
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
    fetch, clock = Fetcher(), Clock()
    cache = CachedRevocationList(fetch, clock, max_age=timedelta(seconds=5))  # type: ignore[arg-type]
    cache.current()
    clock.at = START + timedelta(seconds=5)
    assert cache.current() == "crl #2"
