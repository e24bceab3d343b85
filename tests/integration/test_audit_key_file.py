"""The audit signing key file when many processes start at once (server workers): one key is
written, whole, and every one of them uses it."""

from __future__ import annotations

import stat

from mynapoint.services.head_signing import KEY_FILE_MODE, AuditKeyFile
from unit_of_work_contract import race

STARTING_TOGETHER = 16


def test_workers_creating_the_key_at_once_all_use_the_one_key_written(tmp_path):
    path = tmp_path / "var" / "audit-signing-key.pem"

    # Each racer is a process of its own as far as the file goes: its own AuditKeyFile.
    public_keys = race(lambda _: AuditKeyFile(path).verifier().pem(), racers=STARTING_TOGETHER)

    assert len(set(public_keys)) == 1
    assert AuditKeyFile(path).verifier().pem() == public_keys[0]
    assert stat.S_IMODE(path.stat().st_mode) == KEY_FILE_MODE
    assert [p.name for p in path.parent.iterdir()] == [path.name]
