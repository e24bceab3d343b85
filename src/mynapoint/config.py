from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mynapoint.db.engine import MAX_OVERFLOW, POOL_SIZE, parse_database_url, sqlite_url
from mynapoint.services.throttling import DEFAULT_NAMESPACE, parse_limit

DATABASE_FILE_NAME = "mynapoint.db"
AUDIT_KEY_FILE_NAME = "audit-signing-key.pem"
CODE_KEY_FILE_NAME = "security-code-key"
_CLOCK_START_EXAMPLE = "2021-07-19T10:00:00+09:00"


def _default_database_url(data: dict[str, Any]) -> str:
    var_dir: Path = data.get("var_dir", Path("var"))
    return sqlite_url(var_dir / DATABASE_FILE_NAME)


class Settings(BaseSettings):
    """Read from MYNAPOINT_* environment variables, e.g. MYNAPOINT_DATABASE_URL."""

    # The database URL may hold a password: errors name the problem, not the input.
    model_config = SettingsConfigDict(
        env_prefix="MYNAPOINT_", frozen=True, hide_input_in_errors=True
    )

    # Declared before database_url, whose default is a file in it.
    var_dir: Path = Path("var")
    database_url: str = Field(default_factory=_default_database_url)
    # PostgreSQL connections each process keeps open, and how many more a burst may open
    # (db/engine.py). Mind the server's max_connections: processes × (size + overflow), or
    # put a pooler (pgbouncer, transaction mode) in between (docs/DEPLOYMENT.md).
    db_pool_size: int = Field(default=POOL_SIZE, ge=1, le=1000)
    db_max_overflow: int = Field(default=MAX_OVERFLOW, ge=0, le=1000)
    clock_start: AwareDatetime | None = None
    demo: bool = False
    # The generated history `make run`'s demo loads (mynapoint/history, README "Demo
    # history"): how many persons, and the seed they are drawn from (same seed and size, same
    # history). 0 persons: none.
    demo_history_persons: int = Field(default=5000, ge=0, le=1_000_000)
    demo_history_seed: int = Field(default=20210719, ge=0)
    # Who runs background jobs (uploads, evaluations; docs/JOBS.md). On PostgreSQL the server
    # only enqueues them for `mynapoint worker` unless this is true (one host, no worker: the
    # server runs them itself). SQLite has no queue: its server always runs them itself.
    inprocess_worker: bool = False
    # A worker whose heartbeat is this old is taken for dead: its running jobs are retried
    # by the other workers (it beats every third of this).
    worker_stalled_seconds: float = Field(default=30, ge=1, le=3600)
    # On the queue, an uploaded file at least twice this size whose event_ids are distinct is
    # loaded in parts of about this size, by as many jobs, side by side (docs/JOBS.md).
    upload_range_bytes: int = Field(default=2 << 20, ge=256)
    # Cookies of the pages (language, CSRF, sign-in) carry `Secure`: browsers send them over
    # HTTPS, and over plain HTTP only to 127.0.0.1/localhost. Off only behind a trusted proxy
    # that terminates TLS on another host name during development.
    cookie_secure: bool = True
    # A rotated operator API key keeps working beside its successor for this many days
    # (the operator console's "rotate"), then stops.
    operator_key_overlap_days: int = Field(default=7, ge=1, le=90)
    # An assisted session at a support-corner counter ends after this long without a step,
    # judged by the platform clock (RULES.md §6).
    counter_idle_seconds: int = Field(default=120, ge=10, le=3600)
    # How often the statistics' summary tables are refreshed (services/statistics.py): by
    # `mynapoint worker`, or by the server when it runs the jobs itself (docs/JOBS.md).
    statistics_refresh_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # The largest event file an operator may upload (POST /api/v1/operator/events/files), in
    # bytes; a larger one is refused with 413 request_too_large before it is stored.
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1024, le=8 * 1024**3)
    # The Ed25519 key that signs the audit log's published heads: a file the database does not
    # hold, created on first use (0600). Default: audit-signing-key.pem in the var dir.
    audit_signing_key: Path | None = None
    # The secret of the keyed HMAC that keeps security codes (services/codes.py): a file the
    # database does not hold, created at the first start (0600). Default: security-code-key in
    # the var dir. Every process and host on one database must share the same file.
    code_key: Path | None = None
    # Where the rate limits count (services/throttling.py): `memory://` in this process only,
    # or e.g. `redis://127.0.0.1:6379/0` so that the limits hold across worker processes and
    # hosts. The URL may hold a password: errors name the problem, not the input.
    rate_limit_storage: str = "memory://"
    # Named limits replacing the defaults, as JSON: {"account_checks": "1000/hour"} (load
    # tests, a trusted network); each value is one rate, e.g. 30/hour or 5/15 minutes.
    rate_limits: dict[str, str] = Field(default_factory=dict)
    # Prefixes every key in the store, so that several platforms can share one Redis.
    rate_limit_namespace: str = Field(default=DEFAULT_NAMESPACE, min_length=1, max_length=64)
    # How long a person may not try security codes for one account after the 5th wrong one.
    account_lock_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    # Admission control (web/admission.py), per server process: how many requests of each
    # class may be in the works at once, how many more may wait for a slot, and how long.
    # The shares stay under the sync thread pool (`threads`) and the database pool (about
    # 20 + 20 connections), so that a request admitted finds a thread and a connection; past
    # them the platform answers 503 `overloaded` / the waiting page instead of letting every
    # request time out. Small on purpose: a request is mostly Python work, so more of them at
    # once in one process only share its core (and its GIL) more thinly. Measured by
    # `make bench-api` on 2 cores (bench/RESULTS.md, 2026-12-07): citizens 8 + arrivals 4
    # gave 15.9 enrollments/s at 165 ms p50 per request where 20 + 8 gave 8.1 at 449 ms.
    threads: int = Field(default=40, ge=1, le=1000)
    admit_citizens: int = Field(default=8, ge=1, le=1000)
    admit_arrivals: int = Field(default=4, ge=1, le=1000)
    admit_operators: int = Field(default=6, ge=1, le=1000)
    admit_staff: int = Field(default=4, ge=1, le=1000)
    # Waiting requests per class, as a multiple of its slots: the queue, and so the memory
    # that waiting takes (a few hundred bytes each), stays bounded. Generous, because the
    # kernel shares connections out among worker processes unevenly: measured with 32
    # connections on 2 workers, one held more than 24 of them.
    admit_queue_factor: int = Field(default=8, ge=0, le=100)
    admit_wait_seconds: float = Field(default=1.5, ge=0, le=30)
    # What a refused client is told to wait before it tries again (Retry-After, the waiting
    # page's automatic reload).
    admit_retry_after_seconds: int = Field(default=5, ge=1, le=300)

    @property
    def audit_signing_key_path(self) -> Path:
        return self.audit_signing_key or self.var_dir / AUDIT_KEY_FILE_NAME

    @property
    def code_key_path(self) -> Path:
        return self.code_key or self.var_dir / CODE_KEY_FILE_NAME

    @property
    def runs_jobs_inprocess(self) -> bool:
        """The serving process runs background jobs itself (no `mynapoint worker`)."""
        return self.inprocess_worker or not self.database_url.startswith("postgres")

    @field_validator("database_url")
    @classmethod
    def _is_supported_database(cls, value: str) -> str:
        parse_database_url(value)
        return value

    @field_validator("rate_limits")
    @classmethod
    def _are_known_rates(cls, value: dict[str, str]) -> dict[str, str]:
        for name, rule in value.items():
            parse_limit(name, rule)
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _is_supported_store(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in {"memory", "redis", "rediss", "redis+unix"}:
            raise ValueError(
                "MYNAPOINT_RATE_LIMIT_STORAGE must be memory:// or a Redis URL, "
                "e.g. redis://127.0.0.1:6379/0"
            )
        return value

    @field_validator("clock_start", mode="before")
    @classmethod
    def _has_utc_offset(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                # Not ISO 8601: pydantic's own parsing explains what it expected.
                return value
        elif isinstance(value, datetime):
            parsed = value
        else:
            return value
        if parsed.utcoffset() is None:
            raise ValueError(
                f"MYNAPOINT_CLOCK_START '{value}' has no UTC offset; "
                f"give one, e.g. {_CLOCK_START_EXAMPLE}"
            )
        return value


def load_settings() -> Settings:
    return Settings()
