"""Tables of the semantic layer: connections, models with immutable versions, query history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gnomon.store.tables import AutoId, metadata

connections = Table(
    "connections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("dialect", String(20), nullable=False),
    Column("host", String(255), nullable=True),
    Column("port", Integer, nullable=True),
    Column("database", String(1000), nullable=True),  # DuckDB/SQLite: the file path
    Column("username", String(255), nullable=True),
    Column("password_enc", Text, nullable=True),
    Column("db_schema", String(255), nullable=True),
    Column("query_timeout_s", Float, nullable=False),
    Column("max_rows", Integer, nullable=False),
    # Bumped on every change and on refresh: part of the cache key.
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "name", name="uq_connections_org_name"),
)

models = Table(
    "models",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("connection_id", String(36), ForeignKey("connections.id"), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("files", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "name", name="uq_models_org_name"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("model_id", String(36), ForeignKey("models.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("files", JSON, nullable=False),
    Column("author_id", String(64), nullable=True),
    Column("author_label", String(320), nullable=True),
    Column("message", String(1000), nullable=True),
    Column("diff", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("model_id", "version", name="uq_model_versions_model_version"),
)

query_history = Table(
    "query_history",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("user_id", String(36), nullable=True),
    Column("user_label", String(320), nullable=True),
    Column("key_id", String(36), nullable=True),
    Column("model_id", String(36), nullable=True),
    Column("connection_id", String(36), nullable=True),
    Column("topic", String(200), nullable=True),
    Column("name", String(200), nullable=True),
    Column("fields", JSON, nullable=False),
    Column("sql_hash", String(64), nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("cache_hit", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # ok | error
    Column("error_type", String(40), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_query_history_org_time", "org_id", "created_at"),
)
