"""A shared rate-limit store for the tests: Redis when MYNAPOINT_TEST_REDIS_URL is set.

Tests that need the limits to hold across processes (services/throttling.py over Redis) take
`redis_storage`: the URL and a namespace of their own, so tests never share counts. Without the
variable they are skipped, as the PostgreSQL tests are (and fail under CI, which sets it).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pytest

REDIS_URL_VARIABLE = "MYNAPOINT_TEST_REDIS_URL"
_REDIS_EXAMPLE = "redis://127.0.0.1:6379/15"


@dataclass(frozen=True)
class SharedStore:
    url: str
    namespace: str


def redis_url() -> str:
    url = os.environ.get(REDIS_URL_VARIABLE, "").strip()
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI is true but {REDIS_URL_VARIABLE} is not set: CI must run the tests of the "
            f"shared rate-limit store. Set it, e.g. {_REDIS_EXAMPLE} (.ci/run does).",
            pytrace=False,
        )
    pytest.skip(
        f"{REDIS_URL_VARIABLE} is not set; set it to e.g. {_REDIS_EXAMPLE} to run the tests "
        "of rate limits shared over Redis"
    )


@pytest.fixture
def redis_storage() -> SharedStore:
    return SharedStore(redis_url(), f"test-{uuid.uuid4().hex}")
