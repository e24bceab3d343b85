"""A revocation list fetched at most once a minute: a revocation takes effect within 60 s."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography import x509

REVOCATION_MAX_AGE = timedelta(seconds=60)


class CachedRevocationList:
    def __init__(
        self,
        fetch: Callable[[], x509.CertificateRevocationList],
        now: Callable[[], datetime],
        max_age: timedelta = REVOCATION_MAX_AGE,
    ) -> None:
        self._fetch = fetch
        self._now = now
        self._max_age = max_age
        self._lock = threading.Lock()
        self._crl: x509.CertificateRevocationList | None = None
        self._fetched_at: datetime | None = None

    def current(self) -> x509.CertificateRevocationList:
        with self._lock:
            now = self._now()
            if self._crl is None or not self._is_fresh(now):
                # Fetching under the lock: concurrent logins wait for one fetch, not N.
                self._crl = self._fetch()
                self._fetched_at = now
            return self._crl

    def invalidate(self) -> None:
        """Forget the cached list, e.g. right after this process revoked a certificate."""
        with self._lock:
            self._crl = None
            self._fetched_at = None

    def _is_fresh(self, now: datetime) -> bool:
        if self._fetched_at is None:
            return False
        age = now - self._fetched_at
        # A clock that went backwards (a reset platform clock) also means "fetch again".
        return timedelta(0) <= age < self._max_age
