"""The data of `make bench-api`: card holders with a registered PayPay account each, made
through the project's own code on a fresh PostgreSQL database.

- Cards come from the simulated card authority (`SimulatedCardAuthority.issue_card`, as
  `mynapoint card issue` and the demo make them), each with its own person, chip and
  certificate signed by the authority's root. RSA key generation costs ~33 ms, so the
  certificates share a small pool of key pairs (the authority takes a `key`); the platform
  checks the signature against the certificate's key, never that a key is unique.
- Accounts are stored through the accounts repository, as `register_account` stores them,
  with keyed HMAC hashes made by the platform's own CodeHasher; the security codes come
  from a small pool, each hashed once (a keyed hash depends only on the code and the
  key, so this is exactly what the platform stores).
- The database commits without waiting for its WAL (`synchronous_commit = off`) while the
  data is made, and is reset to the server's default before the server starts.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from common import admin
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.domain.accounts import PaymentAccount
from mynapoint.domain.calendar import JST
from mynapoint.jpki.certificates import generate_key
from mynapoint.services.codes import check_account_input
from mynapoint.services.operators import check_holder_name, own_service

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from mynapoint.bootstrap import Platform

OPERATOR: Final = "paypay"
SERVICE: Final = "paypay"
# Platform time: inside phase 1's extended application period (to 2021-12-31), as
# `make reliability` runs, so every card holder may apply.
CLOCK_START: Final = datetime(2021, 10, 15, 10, 0, tzinfo=JST)
PIN: Final = "1234"
HOLDER_NAME: Final = "ヤマダ タロウ"
BIRTH_DATE: Final = date(1980, 4, 1)
CARD_APPLIED_ON: Final = date(2021, 3, 1)
CARD_ISSUED_AT: Final = datetime(2021, 4, 1, 10, 0, tzinfo=JST)
KEY_POOL: Final = 16
CODE_POOL: Final = 16
ACCOUNTS_FROM: Final = 7_000_000_000_000_000
ISSUING_THREADS: Final = 8
ACCOUNT_BATCH: Final = 1_000


@dataclass(frozen=True)
class Holder:
    """A card holder as the load client sees them: the certificate, the pool key that signs
    for it, and their registered account."""

    certificate_pem: str
    key: int  # index into World.keys_pem
    payment_service_id: str
    security_code: str


@dataclass(frozen=True)
class World:
    holders: tuple[Holder, ...]
    keys_pem: tuple[bytes, ...]  # unencrypted PKCS#8: the load client signs with them
    code_key: Path  # the security-code key the accounts were hashed with


# --- the database ---------------------------------------------------------------------------


# --- the data -------------------------------------------------------------------------------


def make_world(url: URL, holders: int, var_dir: Path) -> World:
    """Migrate the (fresh) database, anchor its clock and make `holders` card holders."""
    admin(url, f'ALTER DATABASE "{url.database}" SET synchronous_commit = off')
    settings = Settings(
        database_url=url.render_as_string(hide_password=False),
        var_dir=var_dir,
        clock_start=CLOCK_START,
    )
    platform = build_platform(settings)
    try:
        keys = [generate_key() for _ in range(KEY_POOL)]
        platform.authority.trust_anchors()  # the root key, made once before the threads
        with ThreadPoolExecutor(ISSUING_THREADS) as pool:
            certificates = list(
                pool.map(lambda n: _issue(platform, keys[n % KEY_POOL]), range(holders))
            )
        made = tuple(
            Holder(
                certificate_pem=pem,
                key=n % KEY_POOL,
                payment_service_id=f"{ACCOUNTS_FROM + n:016d}",
                security_code=f"{(n * 7919) % CODE_POOL:04d}",
            )
            for n, pem in enumerate(certificates)
        )
        _register_accounts(platform, made)
    finally:
        platform.engine.dispose()
        admin(url, f'ALTER DATABASE "{url.database}" RESET synchronous_commit')
    return World(
        holders=made,
        code_key=settings.code_key_path,
        keys_pem=tuple(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            for key in keys
        ),
    )


def _issue(platform: Platform, key: rsa.RSAPrivateKey) -> str:
    card = platform.authority.issue_card(
        PIN,
        birth_date=BIRTH_DATE,
        card_applied_on=CARD_APPLIED_ON,
        issued_at=CARD_ISSUED_AT,
        key=key,
    )
    return card.certificate_pem


def _register_accounts(platform: Platform, holders: tuple[Holder, ...]) -> None:
    """As services.operators.register_account stores them (checked input, the platform's
    hash), ACCOUNT_BATCH accounts to a unit of work."""
    # The platform's own keyed hasher: its key file lies in the run's var_dir, which the
    # server is started with (api_load.server_env), so the server checks these hashes.
    hasher = platform.code_hasher
    hashes = {code: hasher.hash(code) for code in {h.security_code for h in holders}}
    service = own_service(platform.catalog, OPERATOR, SERVICE)
    name = check_holder_name(HOLDER_NAME)
    now = platform.clock.now()
    for start in range(0, len(holders), ACCOUNT_BATCH):
        uow = platform.unit_of_work()
        with uow:
            for holder in holders[start : start + ACCOUNT_BATCH]:
                check_account_input(service, holder.payment_service_id, holder.security_code)
                uow.accounts.save(
                    PaymentAccount(
                        service_code=SERVICE,
                        payment_service_id=holder.payment_service_id,
                        operator_code=OPERATOR,
                        holder_name=name,
                        security_code_hash=hashes[holder.security_code],
                        registered_at=now,
                    ),
                    now,
                )
            uow.commit()


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="mynapoint-bench-api-")
