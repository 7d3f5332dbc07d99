"""Export bundles and import requests (documents and whole folders).

The export of a document is shaped so that the seed's ``deployDashboard`` works unchanged: it
reads ``export.dashboard.dashboard`` and ``export.dashboard.workbook_model`` and posts them as
the import body. The whole export may also be posted back as it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gnomon.content.schemas import ContentRole, ContentRoleIn, Document, FolderRef, TileIn

EXPORT_VERSION = 1

ValidationMode = Literal["strict", "lenient"]
OnConflict = Literal["fail", "replace", "copy"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkbookField(_In):
    kind: Literal["dimension", "measure"]
    type: str | None = None
    sql: str | None = None
    aggregate_type: str | None = None
    label: str | None = None


class WorkbookTopic(_In):
    base_view: str = Field(max_length=200)
    fields: dict[str, WorkbookField] = Field(
        default_factory=dict, description="`view.field` → its definition in the source model."
    )


class WorkbookModel(_In):
    """The part of the source model the tiles need: their topics and the fields they use."""

    connection: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)
    dialect: str | None = Field(None, max_length=20)
    topics: dict[str, WorkbookTopic] = Field(default_factory=dict)


class BundleDashboard(_In):
    """The dashboard definition inside a bundle; ``uid`` is its identity across environments."""

    export_version: StrictInt = Field(EXPORT_VERSION, ge=1, le=EXPORT_VERSION)
    uid: str = Field(min_length=1, max_length=64)
    identifier: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,199}$")
    name: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=1000)
    labels: list[str] = Field(default_factory=list, max_length=50)
    default_filters: dict[str, Any] = Field(default_factory=dict)
    tiles: list[TileIn] = Field(default_factory=list, max_length=200)
    folder_path: str | None = Field(None, max_length=1000)
    permissions: dict[str, ContentRoleIn] = Field(
        default_factory=dict, description="By group name (or user email)."
    )
    checksum: str | None = Field(None, max_length=100)


class BundlePayload(_In):
    dashboard: BundleDashboard
    workbook_model: WorkbookModel | None = None


class BundleDocumentInfo(BaseModel):
    id: str
    identifier: str
    name: str
    folder_path: str | None
    connection: str | None
    model: str | None
    version: int


class ExportBundle(BaseModel):
    export_version: int
    exported_at: datetime
    document: BundleDocumentInfo
    dashboard: BundlePayload = Field(
        description="`{dashboard, workbook_model}`: post it as the import body."
    )
    workbook_model: WorkbookModel
    folder_path: str | None
    permissions: dict[str, ContentRole]
    checksum: str = Field(description="sha256 of the dashboard definition and workbook model.")


class ImportOptions(_In):
    validation_mode: ValidationMode = Field(
        "strict",
        description="strict refuses tiles whose fields the target model lacks (all listed); "
        "lenient imports them and reports them as broken.",
    )
    connection_mapping: dict[str, str] = Field(
        default_factory=dict,
        description='Source → target connection, e.g. {"staging_db": "production_db"}.',
    )
    topic_mapping: dict[str, str] = Field(
        default_factory=dict, description="Source → target topic name."
    )
    dry_run: StrictBool = Field(False, description="Return the diff without writing anything.")
    on_conflict: OnConflict = Field(
        "replace",
        description="When the document already exists in the target (same bundle identity or "
        "identifier): replace it (idempotent re-import), fail (409) or copy (a new document).",
    )


class DocumentImport(ImportOptions):
    dashboard: BundleDashboard | BundlePayload = Field(
        description="The bundle's `dashboard` (the definition, or `{dashboard, workbook_model}`)."
    )
    workbook_model: WorkbookModel | None = None
    folder: str | FolderRef | None = Field(
        None, description="Target folder path (overrides the bundle's); created if missing."
    )
    # Accepted so that a whole export can be posted back unchanged.
    export_version: StrictInt | None = Field(None, ge=1, le=EXPORT_VERSION)
    exported_at: str | None = Field(None, max_length=64, description="Informational.")
    document: dict[str, Any] | None = None
    folder_path: str | None = Field(None, max_length=1000)
    permissions: dict[str, ContentRoleIn] | None = None
    checksum: str | None = Field(None, max_length=100)


class ImportResult(BaseModel):
    action: Literal["created", "updated", "unchanged", "copied"]
    dry_run: bool
    document: Document | None = Field(None, description="Absent on a dry run that would create.")
    diff: dict[str, Any] = Field(description="Field → {before, after} of what the import changes.")
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    broken: list[dict[str, Any]] = Field(
        default_factory=list, description="Lenient mode: tile problems imported as they are."
    )


class FolderEntry(BaseModel):
    path: str = Field(description="Relative to the exported folder; `/` is the folder itself.")
    description: str | None = None
    permissions: dict[str, ContentRole] = Field(default_factory=dict)


class FolderExport(BaseModel):
    export_version: int
    exported_at: datetime
    folder_path: str
    folders: list[FolderEntry]
    documents: list[ExportBundle]


class FolderEntryIn(_In):
    path: str = Field(max_length=1000)
    description: str | None = Field(None, max_length=1000)
    permissions: dict[str, ContentRoleIn] = Field(default_factory=dict)


class DocumentBundleIn(_In):
    """One document of a folder bundle: what the document export contains."""

    export_version: StrictInt | None = Field(None, ge=1, le=EXPORT_VERSION)
    exported_at: str | None = Field(None, max_length=64, description="Informational.")
    document: dict[str, Any] | None = None
    dashboard: BundlePayload
    workbook_model: WorkbookModel | None = None
    folder_path: str | None = Field(None, max_length=1000)
    permissions: dict[str, ContentRoleIn] | None = None
    checksum: str | None = Field(None, max_length=100)


class FolderBundleIn(_In):
    export_version: StrictInt = Field(EXPORT_VERSION, ge=1, le=EXPORT_VERSION)
    exported_at: str | None = Field(None, max_length=64, description="Informational.")
    folder_path: str = Field(max_length=1000)
    folders: list[FolderEntryIn] = Field(default_factory=list, max_length=500)
    documents: list[DocumentBundleIn] = Field(default_factory=list, max_length=100)


class FolderImport(ImportOptions):
    bundle: FolderBundleIn
    folder: str | None = Field(
        None, max_length=1000, description="Target path of the folder (default: its own path)."
    )


class FolderImportResult(BaseModel):
    folders_created: list[str]
    documents: list[ImportResult]
    warnings: list[dict[str, Any]] = Field(default_factory=list)
