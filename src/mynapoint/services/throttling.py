"""Throttles: how often someone may try something, counted in a moving window.

Every key names who tries (a client address, a signed-in person, a sign-in name together with
the address it is typed from), never the target alone, so an attacker's tries slow the
attacker down and cannot lock anybody else out (OWASP ASVS 2.2.1). The counts live in the
`limits` library's storage: `memory://` holds them in one process, `redis://…` shares them
between every worker process and host of the platform (MYNAPOINT_RATE_LIMIT_STORAGE).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Final, Protocol

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from mynapoint.domain.errors import MynapointError

log = logging.getLogger("mynapoint.throttling")

# The named limits and their defaults (MYNAPOINT_RATE_LIMITS overrides any of them).
ACCOUNT_CHECKS: Final = "account_checks"  # security-code checks by one person
SIGN_IN_NAME: Final = "sign_in_name"  # failed staff sign-ins for one name from one address
SIGN_IN_ADDRESS: Final = "sign_in_address"  # failed staff sign-ins from one address
REFUSED_CREDENTIALS: Final = "refused_credentials"  # bad bearer tokens and operator keys
CHALLENGES: Final = "challenges"  # login challenges asked for by one address
DEFAULT_LIMITS: Final[Mapping[str, str]] = {
    ACCOUNT_CHECKS: "30/hour",
    SIGN_IN_NAME: "5/15 minutes",
    SIGN_IN_ADDRESS: "20/15 minutes",
    REFUSED_CREDENTIALS: "20/minute",
    CHALLENGES: "30/minute",
}
DEFAULT_NAMESPACE: Final = "mynapoint"
# A shared store that does not answer within this long is skipped (see LimitsThrottle).
STORAGE_TIMEOUT_SECONDS: Final = 0.5


class RateLimited(MynapointError):
    code = "rate_limited"

    def __init__(self, limit: str, rule: str, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many requests: the limit '{limit}' allows {rule}; "
            f"try again in {retry_after_seconds} s",
            limit=limit,
            retry_after_seconds=retry_after_seconds,
        )
        self.retry_after_seconds = retry_after_seconds


class Throttle(Protocol):
    def check(self, limit: str, *key: str) -> None:
        """RateLimited when the limit is used up for this key; counts nothing."""
        ...

    def hit(self, limit: str, *key: str) -> None:
        """Count one try for this key; RateLimited (and nothing counted) when the limit is
        used up already."""
        ...

    def clear(self, limit: str, *key: str) -> None:
        """Forget the tries counted for this key."""
        ...


class NullThrottle:
    """Never refuses: for tests and tools that hammer the platform on purpose."""

    def check(self, limit: str, *key: str) -> None:
        del limit, key

    def hit(self, limit: str, *key: str) -> None:
        del limit, key

    def clear(self, limit: str, *key: str) -> None:
        del limit, key


def parse_limit(name: str, rule: str) -> RateLimitItem:
    """A named limit's rule, e.g. `5/15 minutes` or `30 per hour`; ValueError names both."""
    if name not in DEFAULT_LIMITS:
        raise ValueError(
            f"unknown rate limit '{name}'; the limits are: {', '.join(sorted(DEFAULT_LIMITS))}"
        )
    try:
        items = parse_many(rule)
    except ValueError:
        items = []
    if len(items) != 1:
        raise ValueError(
            f"rate limit '{name}': '{rule}' is not one rate; write e.g. 30/hour or 5/15 minutes"
        )
    return items[0]


def _is_redis(storage_uri: str) -> bool:
    return storage_uri.split(":", 1)[0] in {"redis", "rediss", "redis+unix"}


class LimitsThrottle:
    """A Throttle over the `limits` library's moving-window strategy.

    When the shared store cannot be reached, a try is let through and a warning is logged:
    a Redis outage must not take the platform's sign-ins down with it, and what the limits
    protect stays protected meanwhile (security codes are counted in the database, and
    passwords and keys are slow or impossible to guess).
    """

    def __init__(
        self,
        storage_uri: str,
        overrides: Mapping[str, str] | None = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> None:
        options: dict[str, float] = {}
        if _is_redis(storage_uri):
            options = {
                "socket_timeout": STORAGE_TIMEOUT_SECONDS,
                "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
            }
        self._storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        self._limiter = MovingWindowRateLimiter(self._storage)
        rules = {**DEFAULT_LIMITS, **(overrides or {})}
        self.rules: Mapping[str, str] = rules
        # The name goes into each key's namespace: two limits with one rate never share counts.
        self._items = {
            name: type(item)(item.amount, item.multiples, namespace=f"{namespace}/{name}")
            for name, item in ((name, parse_limit(name, rule)) for name, rule in rules.items())
        }

    def check(self, limit: str, *key: str) -> None:
        item = self._items[limit]
        try:
            allowed = self._limiter.test(item, *key)
        except StorageError as exc:
            self._skipped(limit, exc)
            return
        if not allowed:
            raise self._refusal(limit, item, key)

    def hit(self, limit: str, *key: str) -> None:
        item = self._items[limit]
        try:
            allowed = self._limiter.hit(item, *key)
        except StorageError as exc:
            self._skipped(limit, exc)
            return
        if not allowed:
            raise self._refusal(limit, item, key)

    def clear(self, limit: str, *key: str) -> None:
        try:
            self._limiter.clear(self._items[limit], *key)
        except StorageError as exc:
            self._skipped(limit, exc)

    def _refusal(self, limit: str, item: RateLimitItem, key: tuple[str, ...]) -> RateLimited:
        try:
            reset_at = self._limiter.get_window_stats(item, *key).reset_time
        except StorageError:
            reset_at = time.time() + item.get_expiry()
        # Whole seconds, at least 1: the oldest counted try leaves the window then.
        wait = max(1, math.ceil(reset_at - time.time()))
        return RateLimited(limit, self.rules[limit], wait)

    @staticmethod
    def _skipped(limit: str, exc: StorageError) -> None:
        log.warning(
            "rate limit store unavailable; '%s' not applied: %s",
            limit,
            type(exc.storage_error).__name__,
        )
