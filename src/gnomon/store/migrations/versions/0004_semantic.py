"""semantic layer: connections, models, model versions, query history

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29

On its own branch off the foundation: it depends on organizations only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("semantic",)
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _org() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "org_id",
        sa.String(36),
        sa.ForeignKey("organizations.id", name=None),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.String(36), primary_key=True),
        _org(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("dialect", sa.String(20), nullable=False),
        sa.Column("host", sa.String(255)),
        sa.Column("port", sa.Integer()),
        sa.Column("database", sa.String(1000)),
        sa.Column("username", sa.String(255)),
        sa.Column("password_enc", sa.Text()),
        sa.Column("db_schema", sa.String(255)),
        sa.Column("query_timeout_s", sa.Float(), nullable=False),
        sa.Column("max_rows", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "name", name="uq_connections_org_name"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(36), primary_key=True),
        _org(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("connection_id", sa.String(36), sa.ForeignKey("connections.id"), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("org_id", "name", name="uq_models_org_name"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        _org(),
        sa.Column("model_id", sa.String(36), sa.ForeignKey("models.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.String(64)),
        sa.Column("author_label", sa.String(320)),
        sa.Column("message", sa.String(1000)),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
    )
    op.create_table(
        "query_history",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        _org(),
        sa.Column("user_id", sa.String(36)),
        sa.Column("user_label", sa.String(320)),
        sa.Column("key_id", sa.String(36)),
        sa.Column("model_id", sa.String(36)),
        sa.Column("connection_id", sa.String(36)),
        sa.Column("topic", sa.String(200)),
        sa.Column("name", sa.String(200)),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("sql_hash", sa.String(64)),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error_type", sa.String(40)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_query_history_org_time", "query_history", ["org_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_query_history_org_time", table_name="query_history")
    op.drop_table("query_history")
    op.drop_table("model_versions")
    op.drop_table("models")
    op.drop_table("connections")
