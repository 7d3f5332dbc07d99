"""Table definitions (SQLAlchemy Core).

Every tenant-owned table has a non-null ``org_id``; repositories always filter on it. Times are
stored as timezone-aware UTC where the backend supports it (SQLite stores naive UTC; the
repositories normalise on the way out).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# Auto-increment that works on SQLite (INTEGER PRIMARY KEY) and PostgreSQL (BIGSERIAL).
AutoId = BigInteger().with_variant(Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


organizations = Table(
    "organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(100), nullable=False, unique=True),
    _ts("created_at", nullable=False),
    _ts("deleted_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("org_role", String(20), nullable=False, server_default="MEMBER"),
    Column("active", Boolean, nullable=False, server_default="1"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    UniqueConstraint("org_id", "email", name="uq_users_org_email"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("secret_hash", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # organization | personal
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_by", String(36), nullable=True),
    _ts("created_at", nullable=False),
    _ts("expires_at"),
    _ts("last_used_at"),
    _ts("revoked_at"),
    _ts("rotated_at"),
)

# One table feeds the audit log and (through the outbox) the webhooks.
events = Table(
    "events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    _ts("occurred_at", nullable=False),
    Column("actor_type", String(20), nullable=False),
    Column("actor_id", String(64), nullable=True),
    Column("actor_label", String(320), nullable=True),
    Column("target_type", String(50), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("data", JSON, nullable=False),
    Column("changes", JSON, nullable=True),
    Column("change_log", JSON, nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("client_ip", String(64), nullable=True),
    Column("user_agent", String(500), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("org_id", "seq", name="uq_events_org_seq"),
    Index("ix_events_org_type", "org_id", "type"),
    Index("ix_events_org_time", "org_id", "occurred_at"),
    Index("ix_events_org_target", "org_id", "target_type", "target_id"),
)

# The head of each organization's hash chain; locking this row serialises appends per org.
event_heads = Table(
    "event_heads",
    metadata,
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("scope", String(64), nullable=False),  # fingerprint of the caller's credential
    Column("key", String(255), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # in_progress | done
    Column("response_status", Integer, nullable=True),
    Column("response_content_type", String(200), nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("response_headers", Text, nullable=True),
    _ts("created_at", nullable=False),
    _ts("expires_at", nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),
)
