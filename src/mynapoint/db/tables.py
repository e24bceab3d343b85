from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from mynapoint.db.types import UtcDateTime
from mynapoint.domain.cards import PIN_TRIES
from mynapoint.domain.mykey import MYKEY_LENGTH

# Constraint names must be deterministic so that migrations can refer to them
# and alembic's autogenerate compares like with like on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# The anchor of the platform clock (INTERFACES, "The platform clock"): platform
# time started at `started_at` when the real time was `recorded_real_at`.
platform_clock = Table(
    "platform_clock",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("recorded_real_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# --- The simulated card authority (公的個人認証 / J-LIS) -------------------------
# Its own records; the platform never reads these tables directly but asks the
# authority by certificate serial. No column holds a My Number or a PIN: a
# person is a random anchor, and the PIN itself lives only on the (virtual) card.

# The root CA. One row: the first process to generate a key stores it and every
# other process uses that one.
authority_keys = Table(
    "authority_keys",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("certificate_pem", Text, nullable=False),
    Column("private_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

cardholders = Table(
    "cardholders",
    metadata,
    Column("anchor", String, primary_key=True),
    Column("birth_date", Date, nullable=False),
    Column("card_applied_on", Date, nullable=False),
    Column("card_applied_online", Boolean, nullable=False),
    Column("died_on", Date, nullable=True),
    Column("adult_ward", Boolean, nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("card_id", String, primary_key=True),
    Column("person", String, ForeignKey(cardholders.c.anchor), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    # Consecutive wrong PINs, as the chip counts them; at PIN_TRIES the card is locked.
    Column("wrong_pins", Integer, nullable=False, server_default=text("0")),
    CheckConstraint(f"wrong_pins BETWEEN 0 AND {PIN_TRIES}", name="wrong_pins_range"),
)

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String, primary_key=True),
    Column("person", String, ForeignKey(cardholders.c.anchor), nullable=False, index=True),
    Column("card_id", String, ForeignKey(cards.c.card_id), nullable=False),
    Column("certificate_pem", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    # The serial this certificate renewed or replaced: the authority links each
    # new serial to the same person (DOMAIN §4).
    Column("predecessor", String, ForeignKey("certificates.serial"), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

legal_representatives = Table(
    "legal_representatives",
    metadata,
    Column("holder", String, ForeignKey(cardholders.c.anchor), primary_key=True),
    Column("representative", String, ForeignKey(cardholders.c.anchor), primary_key=True),
    CheckConstraint("holder <> representative", name="not_self"),
)

# --- The platform ----------------------------------------------------------------
# `person` here is the authority's opaque anchor, deliberately without a foreign
# key: the platform and the card authority are separate systems that share a
# database only in this simulation.

login_challenges = Table(
    "login_challenges",
    metadata,
    Column("challenge_id", String, primary_key=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

# Only the SHA-256 (hex) of a session token is stored, so a copy of the database
# cannot be used to sign in.
citizen_sessions = Table(
    "citizen_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person", String, nullable=False),
    Column("serial", String, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
)

# One MyKey ID per person for life (DOMAIN §4); both columns are unique so that
# concurrent requests cannot both create one.
mykeys = Table(
    "mykeys",
    metadata,
    Column("mykey_id", String(MYKEY_LENGTH), primary_key=True),
    Column("person", String, nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)
