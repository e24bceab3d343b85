"""A card authority that cannot produce a fresh revocation list: it hands out its first list
forever, so that once the platform clock passes that list's next update it is stale."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from mynapoint.jpki.revocation import CachedRevocationList

if TYPE_CHECKING:
    from cryptography import x509

    from mynapoint.bootstrap import Platform


class FirstListForever:
    def __init__(self, platform: Platform) -> None:
        # Issued now, on the platform clock: valid for a day from now.
        self.first = platform.authority.revocation_list()
        self.fetches = 0

    def __call__(self) -> x509.CertificateRevocationList:
        self.fetches += 1
        return self.first


def with_stuck_revocation_list(platform: Platform) -> Platform:
    stuck = FirstListForever(platform)
    return replace(platform, revocations=CachedRevocationList(stuck, platform.clock.now))
