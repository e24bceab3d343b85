"""The server publishes the audit log's head by itself when it starts (then at least daily:
tests/unit/test_audit_service.py runs the timer on a fixed clock)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from audit_contract import record_many
from audit_factories import AT
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.services.audit import verify
from mynapoint.services.clock import FixedClock
from mynapoint.web.app import create_app

if TYPE_CHECKING:
    from pathlib import Path

    from mynapoint.bootstrap import Platform
    from mynapoint.services.audit import AuditReport

TIMEOUT_S = 10


def started_and_stopped(platform: Platform, settings: Settings) -> AuditReport:
    """Start the app, wait until it has checked whether a head is due, stop it."""
    with TestClient(create_app(settings, platform)):
        deadline = time.monotonic() + TIMEOUT_S
        while (
            verify(platform.unit_of_work(), platform.audit_key_file.verifier()).checked_against
            is None
        ):
            assert time.monotonic() < deadline, "no audit head was published"
            time.sleep(0.01)
    return verify(platform.unit_of_work(), platform.audit_key_file.verifier())


def test_the_server_publishes_the_head_when_it_starts(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, var_dir=tmp_path)
    platform = build_platform(settings, clock=FixedClock(AT))
    try:
        record_many(platform.unit_of_work, 3)

        report = started_and_stopped(platform, settings)
    finally:
        platform.engine.dispose()

    assert report.ok
    assert report.checked_against == report.head
    assert report.head.count == 3
    assert report.published_at == AT
    assert report.signed
    assert (tmp_path / "audit-signing-key.pem").stat().st_mode & 0o777 == 0o600
