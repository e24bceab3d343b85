"""Audit entries and chains with keyword defaults."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mynapoint.domain.audit import GENESIS_HASH, AuditEntry, SealedEntry, seal
from mynapoint.domain.calendar import JST
from mynapoint.services.head_signing import AuditKey

AT = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
# The audit key of the tests, and another one, as someone without the platform's key has.
KEY = AuditKey.generate()
VERIFIER = KEY.verifier()
OTHER_KEY = AuditKey.generate()


def make_entry(
    seq: int = 1,
    *,
    at: datetime | None = None,
    actor: str = "tanaka.hanako",
    role: str = "staff",
    corner: str | None = "chuo",
    mykey_id: str | None = "ABCD1234",
    action: str = "linkage_committed",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry(
        seq=seq,
        at=at or AT + timedelta(minutes=seq),
        actor=actor,
        role=role,
        corner=corner,
        mykey_id=mykey_id,
        action=action,
        details={"service_code": "paypay", "holder": "ヤマダ タ*ウ"}
        if details is None
        else details,
    )


def make_chain(length: int) -> list[SealedEntry]:
    chain: list[SealedEntry] = []
    previous = GENESIS_HASH
    for seq in range(1, length + 1):
        sealed = seal(make_entry(seq), previous)
        chain.append(sealed)
        previous = sealed.entry_hash
    return chain


def rechain(entries: list[SealedEntry], start: int = 0) -> list[SealedEntry]:
    """Recompute every hash from position `start` on, as a forger who rewrites the log would."""
    rewritten = list(entries[:start])
    previous = rewritten[-1].entry_hash if rewritten else GENESIS_HASH
    for sealed in entries[start:]:
        resealed = seal(sealed.entry, previous)
        rewritten.append(resealed)
        previous = resealed.entry_hash
    return rewritten
