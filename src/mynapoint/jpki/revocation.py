"""A revocation list fetched at most once a minute: a revocation takes effect within 60 s.

A list is trusted until its `next_update` only. Past it, the list is fetched again at once;
if the authority cannot give one that is current (it fails, or hands out the same old list),
every certificate check is refused with `revocation_list_stale` (503) rather than decided
on a list that no longer says which certificates are revoked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509

from mynapoint.domain.errors import MynapointError

REVOCATION_MAX_AGE = timedelta(seconds=60)

log = logging.getLogger(__name__)


class RevocationListStale(MynapointError):
    """No revocation list valid now could be obtained: certificates cannot be checked."""

    code = "revocation_list_stale"


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
        """The list to check certificates against now; raises RevocationListStale when no
        list valid now can be had."""
        with self._lock:
            now = self._now()
            failure: Exception | None = None
            if self._crl is None or not self._is_fresh(now) or _is_past_next_update(self._crl, now):
                # Fetching under the lock: concurrent logins wait for one fetch, not N.
                try:
                    self._crl = self._fetch()
                    self._fetched_at = now
                except Exception as exc:  # noqa: BLE001 - whatever the authority's failure, refuse below
                    failure = exc
                    log.warning("fetching the revocation list failed: %s", exc)
            crl = self._crl
            if crl is None or _is_past_next_update(crl, now):
                raise _stale(crl, now) from failure
            return crl

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


def _is_past_next_update(crl: x509.CertificateRevocationList, now: datetime) -> bool:
    # A list that does not say until when it holds is not trusted at all (RFC 5280 §5.1.2.5
    # requires nextUpdate).
    next_update = crl.next_update_utc
    return next_update is None or now >= next_update


def _stale(crl: x509.CertificateRevocationList | None, now: datetime) -> RevocationListStale:
    at = _iso(now)
    if crl is None:
        return RevocationListStale(
            f"no revocation list could be obtained from the card authority (platform time "
            f"{at}); card logins are refused until it answers, try again later",
            at=at,
        )
    next_update = crl.next_update_utc
    if next_update is None:
        return RevocationListStale(
            "the revocation list has no next update, so it cannot be trusted; card logins are "
            "refused until the card authority issues one that has",
            at=at,
        )
    return RevocationListStale(
        f"the revocation list was due to be replaced at {_iso(next_update)} (platform time "
        f"{at}) and no newer one could be obtained; card logins are refused until it is, "
        "try again later",
        next_update=_iso(next_update),
        at=at,
    )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
