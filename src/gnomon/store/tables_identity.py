"""Identity tables: groups, memberships, user attribute definitions and values, connection roles.

``users`` itself lives in :mod:`gnomon.store.tables` (the foundation needs it for personal keys);
migration 0002 adds the SCIM columns declared on it here via :func:`_extend_users`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from gnomon.store.tables import AutoId, metadata, users


def _extend_users() -> None:
    # SCIM's view of a user: the IdP's id, its userName, the SCIM attributes gnomon has no column
    # for (kept so that they round-trip), and a version counter for ETags.
    if "external_id" in users.c:
        return
    users.append_column(Column("external_id", String(255), nullable=True))
    users.append_column(Column("user_name", String(320), nullable=True))
    users.append_column(Column("scim_data", JSON, nullable=True))
    users.append_column(Column("version", Integer, nullable=False, server_default="1"))
    # Set by a SCIM DELETE: the user is deactivated (REST still shows it, content stays) and
    # hidden from SCIM, which must answer 404 for a deleted resource.
    users.append_column(Column("scim_deleted_at", DateTime(timezone=True), nullable=True))
    # Migration 0006: SCIM's userName is matched case-insensitively.
    Index("ix_users_org_lower_user_name", users.c.org_id, func.lower(users.c.user_name))


_extend_users()

groups = Table(
    "groups",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("external_id", String(255), nullable=True),
    Column("scim_data", JSON, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "name", name="uq_groups_org_name"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("group_id", String(36), ForeignKey("groups.id"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Index("ix_group_members_user", "user_id"),
)

user_attributes = Table(
    "user_attributes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("type", String(20), nullable=False),  # string | number | boolean | date
    Column("multiple", Boolean, nullable=False, server_default="0"),
    Column("default_value", JSON, nullable=True),
    Column("description", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "name", name="uq_user_attributes_org_name"),
)

# One row per (attribute, user) or (attribute, group); ``value`` is always a JSON list so that
# single- and multi-valued attributes are read the same way.
user_attribute_values = Table(
    "user_attribute_values",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("attribute_id", String(36), ForeignKey("user_attributes.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("group_id", String(36), ForeignKey("groups.id"), nullable=True),
    Column("value", JSON, nullable=False),
    Index("ix_user_attribute_values_user", "user_id"),
    Index("ix_user_attribute_values_group", "group_id"),
    Index("ix_user_attribute_values_attribute", "attribute_id"),
)

# Connection roles are granted by connection *name* (connections are managed elsewhere).
connection_roles = Table(
    "connection_roles",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("connection_name", String(200), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True),
    Column("group_id", String(36), ForeignKey("groups.id"), nullable=True),
    Column("role", String(30), nullable=False),
    Index("ix_connection_roles_user", "user_id"),
    Index("ix_connection_roles_group", "group_id"),
)
