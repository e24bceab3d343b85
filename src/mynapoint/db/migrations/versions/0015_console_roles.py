"""Console roles (issue 15): city, ministry and payment-operator accounts beside the corners'
staff, each with the scope its role needs (a city or an operator code), and accounts that an
administrator disables and enables again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# As in db/tables/staff.py at this revision (copied: a migration never imports the app).
_ROLES_KNOWN = (
    "role IN ('staff', 'supervisor', 'admin', 'city_admin', 'ministry_admin', "
    "'ministry_viewer', 'auditor', 'operator_admin', 'operator_staff')"
)
_CORNER_ROLES_ONLY = "(role IN ('staff', 'supervisor')) = (corner IS NOT NULL)"
_CITY_ROLES_ONLY = "(role = 'city_admin') = (city IS NOT NULL)"
_OPERATOR_ROLES_ONLY = "(role IN ('operator_admin', 'operator_staff')) = (operator IS NOT NULL)"


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(sa.Column("city", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("operator", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_staff_accounts_role_known"), type_="check")
        batch.drop_constraint(op.f("ck_staff_accounts_corner_unless_admin"), type_="check")
        batch.create_check_constraint(op.f("ck_staff_accounts_role_known"), _ROLES_KNOWN)
        batch.create_check_constraint(
            op.f("ck_staff_accounts_corner_roles_only"), _CORNER_ROLES_ONLY
        )
        batch.create_check_constraint(op.f("ck_staff_accounts_city_roles_only"), _CITY_ROLES_ONLY)
        batch.create_check_constraint(
            op.f("ck_staff_accounts_operator_roles_only"), _OPERATOR_ROLES_ONLY
        )


def downgrade() -> None:
    # The new roles' accounts cannot exist at revision 0014.
    op.execute(
        "DELETE FROM staff_sessions WHERE staff IN (SELECT name FROM staff_accounts "
        "WHERE role NOT IN ('staff', 'supervisor', 'admin'))"
    )
    op.execute("DELETE FROM staff_accounts WHERE role NOT IN ('staff', 'supervisor', 'admin')")
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_constraint(op.f("ck_staff_accounts_operator_roles_only"), type_="check")
        batch.drop_constraint(op.f("ck_staff_accounts_city_roles_only"), type_="check")
        batch.drop_constraint(op.f("ck_staff_accounts_corner_roles_only"), type_="check")
        batch.drop_constraint(op.f("ck_staff_accounts_role_known"), type_="check")
        batch.create_check_constraint(
            op.f("ck_staff_accounts_role_known"), "role IN ('staff', 'supervisor', 'admin')"
        )
        batch.create_check_constraint(
            op.f("ck_staff_accounts_corner_unless_admin"), "(role = 'admin') = (corner IS NULL)"
        )
        batch.drop_column("disabled_at")
        batch.drop_column("operator")
        batch.drop_column("city")
