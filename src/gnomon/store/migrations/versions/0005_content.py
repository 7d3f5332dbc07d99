"""content: folders, documents and content grants

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29

On its own branch off the foundation: grants reference identity's users and groups by id
without foreign keys, so the branches stay independent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("content",)
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _org() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("org_id", sa.String(36), sa.ForeignKey("organizations.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "content_folders",
        sa.Column("id", sa.String(36), primary_key=True),
        _org(),
        sa.Column("parent_id", sa.String(36), sa.ForeignKey("content_folders.id")),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "path", name="uq_content_folders_org_path"),
    )
    op.create_index("ix_content_folders_parent", "content_folders", ["org_id", "parent_id"])
    op.create_table(
        "content_documents",
        sa.Column("id", sa.String(36), primary_key=True),
        _org(),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("origin_id", sa.String(64)),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("folder_id", sa.String(36), sa.ForeignKey("content_folders.id")),
        sa.Column("model_id", sa.String(36)),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("default_filters", sa.JSON(), nullable=False),
        sa.Column("tiles", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_by_label", sa.String(320)),
        sa.Column("updated_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("trashed_folder_path", sa.String(1000)),
        sa.UniqueConstraint("org_id", "identifier", name="uq_content_documents_org_identifier"),
    )
    op.create_index("ix_content_documents_folder", "content_documents", ["org_id", "folder_id"])
    op.create_index("ix_content_documents_origin", "content_documents", ["org_id", "origin_id"])
    op.create_table(
        "content_grants",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        _org(),
        sa.Column("resource_type", sa.String(20), nullable=False),
        sa.Column("resource_id", sa.String(36), nullable=False),
        sa.Column("grantee_type", sa.String(10), nullable=False),
        sa.Column("grantee_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.UniqueConstraint(
            "resource_type",
            "resource_id",
            "grantee_type",
            "grantee_id",
            name="uq_content_grants_resource_grantee",
        ),
    )
    op.create_index(
        "ix_content_grants_resource", "content_grants", ["org_id", "resource_type", "resource_id"]
    )


def downgrade() -> None:
    op.drop_table("content_grants")
    op.drop_table("content_documents")
    op.drop_table("content_folders")
