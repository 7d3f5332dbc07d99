"""identity: index users on (org_id, lower(user_name)) for SCIM's case-insensitive lookups

Every SCIM create looks the userName up first (``filter=userName eq "…"``), and every create
checks that the name is free; without the index each of those scanned the organization's users.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-29 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_users_org_lower_user_name",
        "users",
        ["org_id", sa.text("lower(user_name)")],
    )


def downgrade() -> None:
    op.drop_index("ix_users_org_lower_user_name", table_name="users")
