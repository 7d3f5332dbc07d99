"""Content tables: folders, documents (dashboards with their tiles) and content grants.

Grants reference users and groups by id without a foreign key: identity lives on its own
migration branch, and a grant whose grantee disappeared is simply ignored when access is computed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from gnomon.store.tables import AutoId, metadata

content_folders = Table(
    "content_folders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("parent_id", String(36), ForeignKey("content_folders.id"), nullable=True),
    Column("name", String(200), nullable=False),
    # The full path ("/Departments/Sales") is stored, not derived, so that lookups by path and
    # prefix listings are single indexed queries; renames and moves rewrite the subtree.
    Column("path", String(1000), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("org_id", "path", name="uq_content_folders_org_path"),
    Index("ix_content_folders_parent", "org_id", "parent_id"),
)

content_documents = Table(
    "content_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("identifier", String(200), nullable=False),
    # The id of the document this one was imported from (stable across environments): importing
    # the same bundle again finds and updates this row instead of making a copy.
    Column("origin_id", String(64), nullable=True),
    Column("name", String(500), nullable=False),
    Column("description", Text, nullable=True),
    Column("folder_id", String(36), ForeignKey("content_folders.id"), nullable=True),
    Column("model_id", String(36), nullable=True),
    Column("labels", JSON, nullable=False),
    Column("default_filters", JSON, nullable=False),
    Column("tiles", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", String(64), nullable=True),
    Column("created_by_label", String(320), nullable=True),
    Column("updated_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    # Where a trashed document lived, so that restore can put it back (its folder may be gone).
    Column("trashed_folder_path", String(1000), nullable=True),
    UniqueConstraint("org_id", "identifier", name="uq_content_documents_org_identifier"),
    Index("ix_content_documents_folder", "org_id", "folder_id"),
    Index("ix_content_documents_origin", "org_id", "origin_id"),
)

content_grants = Table(
    "content_grants",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("resource_type", String(20), nullable=False),  # folder | document
    Column("resource_id", String(36), nullable=False),
    Column("grantee_type", String(10), nullable=False),  # group | user
    Column("grantee_id", String(36), nullable=False),
    Column("role", String(20), nullable=False),  # NO_ACCESS | VIEWER | EDITOR | MANAGER
    UniqueConstraint(
        "resource_type",
        "resource_id",
        "grantee_type",
        "grantee_id",
        name="uq_content_grants_resource_grantee",
    ),
    Index("ix_content_grants_resource", "org_id", "resource_type", "resource_id"),
)
