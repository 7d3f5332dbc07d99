"""identity: SCIM columns on users, groups, members, user attributes and values, connection roles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"], ["organizations.id"], name=f"fk_{table}_org_id_organizations"
    )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("user_name", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("scim_data", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("scim_deleted_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("scim_data", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _org_fk("groups"),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("org_id", "name", name="uq_groups_org_name"),
    )
    op.create_table(
        "group_members",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        _org_fk("group_members"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_group_members_group_id_groups"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_group_members_user_id_users"),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_user", "group_members", ["user_id"])

    op.create_table(
        "user_attributes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("multiple", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("default_value", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _org_fk("user_attributes"),
        sa.PrimaryKeyConstraint("id", name="pk_user_attributes"),
        sa.UniqueConstraint("org_id", "name", name="uq_user_attributes_org_name"),
    )
    op.create_table(
        "user_attribute_values",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("attribute_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("value", sa.JSON(), nullable=False),
        _org_fk("user_attribute_values"),
        sa.ForeignKeyConstraint(
            ["attribute_id"],
            ["user_attributes.id"],
            name="fk_user_attribute_values_attribute_id_user_attributes",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_attribute_values_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_user_attribute_values_group_id_groups"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_attribute_values"),
    )
    op.create_index("ix_user_attribute_values_user", "user_attribute_values", ["user_id"])
    op.create_index("ix_user_attribute_values_group", "user_attribute_values", ["group_id"])
    op.create_index("ix_user_attribute_values_attribute", "user_attribute_values", ["attribute_id"])

    op.create_table(
        "connection_roles",
        sa.Column("id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("connection_name", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=30), nullable=False),
        _org_fk("connection_roles"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_connection_roles_user_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_connection_roles_group_id_groups"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_connection_roles"),
    )
    op.create_index("ix_connection_roles_user", "connection_roles", ["user_id"])
    op.create_index("ix_connection_roles_group", "connection_roles", ["group_id"])


def downgrade() -> None:
    op.drop_index("ix_connection_roles_group", table_name="connection_roles")
    op.drop_index("ix_connection_roles_user", table_name="connection_roles")
    op.drop_table("connection_roles")
    op.drop_index("ix_user_attribute_values_attribute", table_name="user_attribute_values")
    op.drop_index("ix_user_attribute_values_group", table_name="user_attribute_values")
    op.drop_index("ix_user_attribute_values_user", table_name="user_attribute_values")
    op.drop_table("user_attribute_values")
    op.drop_table("user_attributes")
    op.drop_index("ix_group_members_user", table_name="group_members")
    op.drop_table("group_members")
    op.drop_table("groups")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("scim_deleted_at")
        batch_op.drop_column("version")
        batch_op.drop_column("scim_data")
        batch_op.drop_column("user_name")
        batch_op.drop_column("external_id")
