"""The simulated card authority's records; login challenges, sessions and MyKey IDs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_card_authority_tables()
    _create_platform_login_tables()


def _create_card_authority_tables() -> None:
    op.create_table(
        "authority_keys",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("private_key_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_authority_keys_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_keys")),
    )
    op.create_table(
        "cardholders",
        sa.Column("anchor", sa.String(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("card_applied_on", sa.Date(), nullable=False),
        sa.Column("card_applied_online", sa.Boolean(), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("adult_ward", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("anchor", name=op.f("pk_cardholders")),
    )
    op.create_table(
        "cards",
        sa.Column("card_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrong_pins", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("wrong_pins BETWEEN 0 AND 3", name=op.f("ck_cards_wrong_pins_range")),
        sa.ForeignKeyConstraint(
            ["person"], ["cardholders.anchor"], name=op.f("fk_cards_person_cardholders")
        ),
        sa.PrimaryKeyConstraint("card_id", name=op.f("pk_cards")),
    )
    op.create_index(op.f("ix_cards_person"), "cards", ["person"])
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("card_id", sa.String(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("predecessor", sa.String(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_id"], ["cards.card_id"], name=op.f("fk_certificates_card_id_cards")
        ),
        sa.ForeignKeyConstraint(
            ["person"], ["cardholders.anchor"], name=op.f("fk_certificates_person_cardholders")
        ),
        sa.ForeignKeyConstraint(
            ["predecessor"],
            ["certificates.serial"],
            name=op.f("fk_certificates_predecessor_certificates"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_certificates")),
    )
    op.create_index(op.f("ix_certificates_person"), "certificates", ["person"])
    op.create_table(
        "legal_representatives",
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("representative", sa.String(), nullable=False),
        sa.CheckConstraint(
            "holder <> representative", name=op.f("ck_legal_representatives_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["holder"],
            ["cardholders.anchor"],
            name=op.f("fk_legal_representatives_holder_cardholders"),
        ),
        sa.ForeignKeyConstraint(
            ["representative"],
            ["cardholders.anchor"],
            name=op.f("fk_legal_representatives_representative_cardholders"),
        ),
        sa.PrimaryKeyConstraint("holder", "representative", name=op.f("pk_legal_representatives")),
    )


def _create_platform_login_tables() -> None:
    op.create_table(
        "login_challenges",
        sa.Column("challenge_id", sa.String(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_login_challenges")),
    )
    op.create_table(
        "citizen_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("serial", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_citizen_sessions")),
    )
    op.create_table(
        "mykeys",
        sa.Column("mykey_id", sa.String(length=8), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mykey_id", name=op.f("pk_mykeys")),
        sa.UniqueConstraint("person", name=op.f("uq_mykeys_person")),
    )


def downgrade() -> None:
    for table in ("mykeys", "citizen_sessions", "login_challenges"):
        op.drop_table(table)
    op.drop_table("legal_representatives")
    op.drop_index(op.f("ix_certificates_person"), table_name="certificates")
    op.drop_table("certificates")
    op.drop_index(op.f("ix_cards_person"), table_name="cards")
    op.drop_table("cards")
    op.drop_table("cardholders")
    op.drop_table("authority_keys")
