"""Content I/O: folders, documents and their tiles, permissions, dashboard runs.

Inputs accept the seed's bodies as written (``createCustomerDashboard``,
``createDepartmentStructure``) and forbid any other key, so a typo is a 422 naming it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gnomon.semantic import SortSpec

ContentRole = Literal["NO_ACCESS", "VIEWER", "EDITOR", "MANAGER"]
# CONNECTION_ADMIN is accepted because the seed grants it on a folder; it is stored as MANAGER.
ContentRoleIn = Literal["NO_ACCESS", "VIEWER", "EDITOR", "MANAGER", "CONNECTION_ADMIN"]

_PERMISSIONS_DOC = (
    'Grantee → role, e.g. {"customer_success_team": "VIEWER"}. A grantee is a group name, a '
    "user's email, `group:<name>` or `user:<id or email>`. CONNECTION_ADMIN means MANAGER."
)
PermissionMap = dict[str, ContentRoleIn]

TileType = Literal["query", "metric", "markdown"]
Visualization = Literal[
    "line_chart",
    "bar_chart",
    "column_chart",
    "area_chart",
    "pie_chart",
    "donut_chart",
    "scatter",
    "table",
    "metric",
    "single_value",
    "heatmap",
    "map",
    "funnel",
    "combo_chart",
    "text",
]
# The visualization a tile gets when the body names none.
DEFAULT_VISUALIZATION: dict[str, Visualization] = {
    "query": "table",
    "metric": "metric",
    "markdown": "text",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- folders


class FolderCreate(_In):
    path: str = Field(
        min_length=1,
        max_length=1000,
        description="Absolute path, e.g. `/Departments/Sales`; missing ancestors are created.",
    )
    description: str | None = Field(None, max_length=10_000)
    permissions: PermissionMap = Field(default_factory=dict, description=_PERMISSIONS_DOC)


class FolderUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200, description="Rename.")
    description: str | None = Field(None, max_length=10_000)


class FolderMove(_In):
    parent_path: str | None = Field(
        None, max_length=1000, description="New parent path; `/` or both fields absent = root."
    )
    parent_id: str | None = Field(None, max_length=64)


class Folder(BaseModel):
    id: str
    name: str
    path: str
    parent_id: str | None
    description: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    role: ContentRole = Field(description="The caller's effective role on this folder.")
    children: list[Folder] | None = Field(
        None, description="Sub-folders the caller can see (tree view only)."
    )


# ---------------------------------------------------------------- documents


class TileQuery(_In):
    """A tile's query: the Query API's body (DESIGN.md §5) minus the run options."""

    topic: str = Field(min_length=1, max_length=200)
    dimensions: list[str] = Field(default_factory=list, max_length=100)
    measures: list[str] = Field(default_factory=list, max_length=100)
    filters: dict[str, Any] = Field(default_factory=dict)
    sorts: list[SortSpec | str] = Field(default_factory=list, max_length=50)
    limit: StrictInt | None = Field(None, ge=1, le=1_000_000)
    timezone: str | None = Field(None, max_length=100)


class TilePosition(_In):
    x: StrictInt = Field(0, ge=0, le=1000)
    y: StrictInt = Field(0, ge=0, le=100_000)
    w: StrictInt = Field(6, ge=1, le=1000)
    h: StrictInt = Field(4, ge=1, le=1000)


class TileIn(_In):
    id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Stable tile id; generated when absent, kept across updates.",
    )
    type: TileType = "query"
    title: str = Field("", max_length=500)
    description: str | None = Field(None, max_length=10_000)
    query: TileQuery | None = Field(None, description="Required for `query` and `metric` tiles.")
    visualization: Visualization | None = Field(
        None, description="Defaults: query → table, metric → metric, markdown → text."
    )
    content: str | None = Field(None, max_length=20_000, description="Markdown tiles' text.")
    position: TilePosition | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Visualization options.")


class Tile(BaseModel):
    id: str
    type: TileType
    title: str
    description: str | None = None
    query: TileQuery | None = None
    visualization: Visualization
    content: str | None = None
    position: TilePosition | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class FolderRef(_In):
    path: str | None = Field(None, max_length=1000)
    id: str | None = Field(None, max_length=64)
    create_if_missing: StrictBool = False


class DocumentCreate(_In):
    name: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=10_000)
    identifier: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{0,199}$",
        description="Stable slug; derived from the name when absent.",
    )
    folder: FolderRef | None = Field(None, description="Where it lives; absent = the root.")
    default_filters: dict[str, Any] = Field(
        default_factory=dict,
        description="Applied to every tile whose topic has the field; overridable per run.",
    )
    permissions: PermissionMap = Field(default_factory=dict, description=_PERMISSIONS_DOC)
    tiles: list[TileIn] = Field(default_factory=list, max_length=200)
    labels: list[str] = Field(default_factory=list, max_length=50)
    model_id: str | None = Field(None, max_length=64, description="Default: the org's model.")


class DocumentPatch(_In):
    name: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, max_length=10_000)
    default_filters: dict[str, Any] | None = None
    tiles: list[TileIn] | None = Field(None, max_length=200)
    labels: list[str] | None = Field(None, max_length=50)
    permissions: PermissionMap | None = Field(None, description=_PERMISSIONS_DOC)


class DocumentMove(_In):
    folder: FolderRef | None = Field(None, description="Target folder; absent = the root.")


class DocumentDuplicate(_In):
    name: str | None = Field(None, min_length=1, max_length=500)
    folder: FolderRef | None = None


class FolderSummary(BaseModel):
    id: str
    path: str


class Document(BaseModel):
    id: str
    identifier: str
    name: str
    description: str | None
    folder: FolderSummary | None
    default_filters: dict[str, Any]
    labels: list[str]
    tiles: list[Tile]
    model_id: str | None
    permissions: dict[str, ContentRole] = Field(description="Grants set on this document itself.")
    role: ContentRole = Field(description="The caller's effective role on this document.")
    version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


# ---------------------------------------------------------------- permissions


class PermissionsUpdate(_In):
    permissions: PermissionMap = Field(description=_PERMISSIONS_DOC)


class GrantOut(BaseModel):
    grantee_type: Literal["group", "user"]
    grantee_id: str
    grantee_name: str
    role: ContentRole


class InheritedGrant(GrantOut):
    from_type: Literal["folder", "document"]
    from_id: str
    from_path: str | None


class Permissions(BaseModel):
    resource_type: Literal["folder", "document"]
    resource_id: str
    permissions: dict[str, ContentRole] = Field(description="Grants set here, by grantee name.")
    grants: list[GrantOut]
    inherited: list[InheritedGrant] = Field(
        description="Grants from ancestor folders that still apply (not overridden here)."
    )


class AccessSource(BaseModel):
    type: Literal["org_admin", "group", "user"]
    grantee_id: str | None = None
    grantee_name: str | None = None
    resource_type: Literal["folder", "document"] | None = None
    resource_id: str | None = None
    path: str | None = None
    inherited: bool = False


class AccessEntry(BaseModel):
    user_id: str
    email: str
    name: str
    role: ContentRole
    source: AccessSource


# ---------------------------------------------------------------- running a dashboard


class DocumentRun(_In):
    filters: dict[str, Any] = Field(
        default_factory=dict, description="Overrides of the dashboard's default filters."
    )
    tiles: list[str] | None = Field(None, max_length=200, description="Only these tile ids.")
    cache: Literal["normal", "refresh", "bypass"] = "normal"


class TileResult(BaseModel):
    id: str
    title: str
    type: TileType
    status: Literal["ok", "error", "skipped"]
    data: list[dict[str, Any]] | None = None
    meta: dict[str, Any] | None = None
    filters: dict[str, Any] | None = Field(None, description="The filters the tile ran with.")
    error: dict[str, Any] | None = None


class DocumentRunResult(BaseModel):
    document_id: str
    identifier: str
    name: str
    filters: dict[str, Any]
    tiles: list[TileResult]


class ContentProblem(BaseModel):
    document_id: str
    identifier: str
    document_name: str
    tile_id: str
    tile_index: int
    tile_title: str
    field: str | None
    reason: str
    code: str
    path: list[str | int]
