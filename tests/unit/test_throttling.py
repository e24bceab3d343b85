"""The throttle over the `limits` library, in one process's memory (over Redis:
e2e/test_rate_limits.py)."""

from __future__ import annotations

import logging

import pytest

from mynapoint.config import Settings
from mynapoint.services.throttling import (
    ACCOUNT_CHECKS,
    CHALLENGES,
    DEFAULT_LIMITS,
    SIGN_IN_NAME,
    LimitsThrottle,
    NullThrottle,
    RateLimited,
    parse_limit,
)


def test_a_limit_lets_its_tries_through_then_refuses_with_the_seconds_to_wait():
    throttle = LimitsThrottle("memory://", {CHALLENGES: "3/minute"})
    for _ in range(3):
        throttle.hit(CHALLENGES, "192.0.2.1")
    with pytest.raises(RateLimited) as limited:
        throttle.hit(CHALLENGES, "192.0.2.1")
    assert limited.value.code == "rate_limited"
    assert 30 < limited.value.retry_after_seconds <= 60  # the first try leaves the minute then
    assert limited.value.details == {
        "limit": CHALLENGES,
        "retry_after_seconds": limited.value.retry_after_seconds,
    }


def test_each_key_and_each_limit_counts_on_its_own():
    throttle = LimitsThrottle("memory://", {CHALLENGES: "1/minute", ACCOUNT_CHECKS: "1/minute"})
    throttle.hit(CHALLENGES, "192.0.2.1")
    throttle.hit(CHALLENGES, "192.0.2.2")  # another address
    throttle.hit(ACCOUNT_CHECKS, "192.0.2.1")  # the same key and rate, another limit
    with pytest.raises(RateLimited):
        throttle.hit(CHALLENGES, "192.0.2.1")


def test_a_check_counts_nothing_and_refuses_once_the_limit_is_used_up():
    throttle = LimitsThrottle("memory://", {SIGN_IN_NAME: "2/15 minutes"})
    for _ in range(5):
        throttle.check(SIGN_IN_NAME, "chuo-staff", "192.0.2.1")
    throttle.hit(SIGN_IN_NAME, "chuo-staff", "192.0.2.1")
    throttle.hit(SIGN_IN_NAME, "chuo-staff", "192.0.2.1")
    with pytest.raises(RateLimited) as limited:
        throttle.check(SIGN_IN_NAME, "chuo-staff", "192.0.2.1")
    assert 600 < limited.value.retry_after_seconds <= 900


def test_clearing_forgets_the_tries_of_that_key():
    throttle = LimitsThrottle("memory://", {CHALLENGES: "1/minute"})
    throttle.hit(CHALLENGES, "192.0.2.1")
    throttle.clear(CHALLENGES, "192.0.2.1")
    throttle.hit(CHALLENGES, "192.0.2.1")


def test_the_null_throttle_never_refuses():
    throttle = NullThrottle()
    for _ in range(1000):
        throttle.hit(CHALLENGES, "192.0.2.1")
    throttle.check(CHALLENGES, "192.0.2.1")


def test_an_unreachable_store_lets_tries_through_and_says_so(caplog):
    # Nothing listens on port 1: every call fails at once.
    throttle = LimitsThrottle("redis://127.0.0.1:1/0", {CHALLENGES: "1/minute"})
    with caplog.at_level(logging.WARNING, logger="mynapoint.throttling"):
        for _ in range(3):
            throttle.hit(CHALLENGES, "192.0.2.1")
        throttle.check(CHALLENGES, "192.0.2.1")
    assert "rate limit store unavailable; 'challenges' not applied" in caplog.text


@pytest.mark.parametrize(
    ("name", "rule", "problem"),
    [
        ("challenge", "1/minute", "unknown rate limit 'challenge'; the limits are: "),
        (CHALLENGES, "often", "'often' is not one rate; write e.g. 30/hour"),
        (CHALLENGES, "1/minute; 5/hour", "is not one rate"),
    ],
)
def test_a_limit_that_is_not_one_known_rate_is_refused_with_an_example(name, rule, problem):
    with pytest.raises(ValueError, match=problem):
        parse_limit(name, rule)


def test_every_default_limit_is_a_rate():
    for name, rule in DEFAULT_LIMITS.items():
        assert parse_limit(name, rule).amount > 0


def test_the_settings_take_limits_as_json_and_refuse_unknown_ones(monkeypatch, tmp_path):
    monkeypatch.setenv("MYNAPOINT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MYNAPOINT_RATE_LIMITS", '{"challenges": "1000/minute"}')
    assert Settings().rate_limits == {CHALLENGES: "1000/minute"}
    monkeypatch.setenv("MYNAPOINT_RATE_LIMITS", '{"challenge": "1000/minute"}')
    with pytest.raises(ValueError, match="unknown rate limit 'challenge'"):
        Settings()


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379/0", "rediss://h:6380"])
def test_the_store_is_memory_or_redis(monkeypatch, storage):
    monkeypatch.setenv("MYNAPOINT_RATE_LIMIT_STORAGE", storage)
    assert Settings().rate_limit_storage == storage


def test_another_store_is_refused_without_echoing_its_url(monkeypatch):
    monkeypatch.setenv("MYNAPOINT_RATE_LIMIT_STORAGE", "memcached://user:secret@h:11211")
    with pytest.raises(ValueError, match="memory:// or a Redis URL") as refused:
        Settings()
    assert "secret" not in str(refused.value)
