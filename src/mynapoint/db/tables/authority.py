"""The simulated card authority's own tables."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from mynapoint.db.tables.base import metadata
from mynapoint.db.types import UtcDateTime
from mynapoint.domain.cards import PIN_TRIES

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
    # The issuing city or ward (a JIS local government code, rules/municipalities.yaml): a
    # fact of the card authority, never a My Number. NULL for cards issued before 0016.
    Column("municipality", String(6), nullable=True),
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
    # new serial to the same person (RULES.md §4).
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
