"""Shared fixtures: the packaged rules and catalog, loaded once."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.services import Catalog
from mynapoint.rules.loader import load_campaigns, load_catalog

# Real databases (SQLite always, PostgreSQL when MYNAPOINT_TEST_DATABASE_URL is set) for the
# integration and end-to-end tests; Redis for the shared rate limits (MYNAPOINT_TEST_REDIS_URL).
pytest_plugins = ["databases", "browser", "redis_storage"]

# Servers and commands on PostgreSQL run their background jobs in-process, as on SQLite, unless
# a test says otherwise: the tests of the job queue (tests/e2e/test_job_queue.py) start
# `mynapoint worker` processes instead.
os.environ.setdefault("MYNAPOINT_INPROCESS_WORKER", "true")

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Servers and commands on PostgreSQL run their background jobs in-process, as on SQLite, unless
# a test says otherwise: the tests of the job queue (tests/e2e/test_job_queue.py) start
# `mynapoint worker` processes instead.
os.environ.setdefault("MYNAPOINT_INPROCESS_WORKER", "true")

settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def rules() -> CampaignRules:
    return load_campaigns()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()
