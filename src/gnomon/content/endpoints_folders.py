"""``/api/v1/folders``: create by path, list (flat or tree), get, rename, move, delete,
permissions, access list, folder export/import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from gnomon.api.deps import CurrentPrincipal, CurrentRuntime, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one
from gnomon.api.errors import common_responses
from gnomon.content import folder_bundles, folders
from gnomon.content.schemas import (
    AccessEntry,
    Folder,
    FolderCreate,
    FolderMove,
    FolderUpdate,
    Permissions,
    PermissionsUpdate,
)
from gnomon.content.schemas_bundle import FolderExport, FolderImport, FolderImportResult

router = APIRouter(prefix="/folders", tags=["folders"], responses=common_responses())


@router.post("", name="folders_create", status_code=201, response_model=One[Folder])
def create_folder(body: FolderCreate, session: WriteSession, principal: CurrentPrincipal) -> Any:
    """Create the folder at `path` and any missing ancestors; 409 (with the existing id in
    `details`) when the path exists."""
    return one(folders.create(session, principal, body))


@router.get("", name="folders_list", response_model=Many[Folder])
def list_folders(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    path: Annotated[
        str | None, Query(max_length=1000, description="Only this folder and below.")
    ] = None,
    view: Annotated[
        Literal["flat", "tree"], Query(description="`tree` nests `children`.")
    ] = "flat",
) -> Any:
    items = folders.list_folders(session, principal, path=path, tree=view == "tree")
    return many(request, items[page.offset : page.offset + page.per_page], len(items), page)


@router.post("/import", name="folders_import", response_model=One[FolderImportResult])
def import_folder(
    body: FolderImport,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    """Import a folder bundle (from `GET /folders/{id}/export`) with its documents."""
    return one(folder_bundles.import_folder(session, principal, runtime, body))


@router.get("/{folder_id}", name="folders_get", response_model=One[Folder])
def get_folder(folder_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(folders.get(session, principal, folder_id))


@router.patch("/{folder_id}", name="folders_update", response_model=One[Folder])
def update_folder(
    folder_id: str, body: FolderUpdate, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    """Rename (`name`) or describe; the paths below follow a rename."""
    return one(folders.update(session, principal, folder_id, body))


@router.post("/{folder_id}/move", name="folders_move", response_model=One[Folder])
def move_folder(
    folder_id: str, body: FolderMove, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    """Move under another parent (never into itself or its own sub-folders)."""
    return one(folders.move(session, principal, folder_id, body))


@router.delete("/{folder_id}", name="folders_delete", status_code=204, response_class=Response)
def delete_folder(
    folder_id: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    force: Annotated[
        bool, Query(description="Delete a non-empty folder; its documents go to the trash.")
    ] = False,
) -> Response:
    folders.delete(session, principal, folder_id, force=force)
    return Response(status_code=204)


@router.get("/{folder_id}/permissions", name="folders_permissions", response_model=One[Permissions])
def get_permissions(folder_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(folders.get_permissions(session, principal, folder_id))


@router.put(
    "/{folder_id}/permissions", name="folders_set_permissions", response_model=One[Permissions]
)
def set_permissions(
    folder_id: str, body: PermissionsUpdate, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    """Replace the grants set on this folder (MANAGER only)."""
    return one(folders.set_permissions(session, principal, folder_id, body))


@router.get(
    "/{folder_id}/access-list", name="folders_access_list", response_model=Many[AccessEntry]
)
def access_list(
    folder_id: str,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
) -> Any:
    """Every user who can open the folder, with their role and the grant it comes from."""
    items = folders.get_access_list(session, principal, folder_id)
    return many(request, items[page.offset : page.offset + page.per_page], len(items), page)


@router.get("/{folder_id}/export", name="folders_export", response_model=FolderExport)
def export_folder(
    folder_id: str, session: ReadSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Any:
    """The folder, its sub-folders and every document in them, as one bundle (not enveloped:
    the body is the file)."""
    return folder_bundles.export_folder(session, principal, runtime, folder_id)
