"""``/api/v1/documents``: dashboards with tiles; trash, duplicate, move, permissions, run,
export/import; and ``/api/v1/content-validation``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from gnomon.api.deps import (
    CurrentPrincipal,
    CurrentRuntime,
    Page,
    ReadSession,
    WriteSession,
)
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.content import bundles, documents, validator
from gnomon.content.repository import DOC_SORTABLE
from gnomon.content.run import run_document
from gnomon.content.schemas import (
    AccessEntry,
    ContentProblem,
    Document,
    DocumentCreate,
    DocumentDuplicate,
    DocumentMove,
    DocumentPatch,
    DocumentRun,
    DocumentRunResult,
    Permissions,
    PermissionsUpdate,
)
from gnomon.content.schemas_bundle import DocumentImport, ExportBundle, ImportResult
from gnomon.queries.endpoints import run_recorded
from gnomon.queries.service import Recorder

router = APIRouter(prefix="/documents", tags=["documents"], responses=common_responses())
validation_router = APIRouter(tags=["documents"], responses=common_responses())

SortParam = Annotated[str | None, sort_query(list(DOC_SORTABLE))]


@router.post("", name="documents_create", status_code=201, response_model=One[Document])
def create_document(
    body: DocumentCreate,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    """Create a dashboard (the seed's body as written). Every tile query is checked against
    the model; all problems come back at once."""
    return one(documents.create(session, principal, runtime, body))


@router.get("", name="documents_list", response_model=Many[Document])
def list_documents(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    folder_id: Annotated[str | None, Query(max_length=64)] = None,
    folder: Annotated[str | None, Query(max_length=1000, description="Folder path.")] = None,
    recursive: Annotated[bool, Query(description="Include sub-folders.")] = False,
    label: Annotated[str | None, Query(max_length=200)] = None,
    creator: Annotated[
        str | None, Query(max_length=320, description="Creator id or label (email).")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Name or description.")] = None,
    deleted: Annotated[bool, Query(description="List the trash instead.")] = False,
    sort: SortParam = None,
) -> Any:
    """Only documents the caller can open are listed (and counted)."""
    spec = parse_sort(sort, list(DOC_SORTABLE), "name")
    items, total = documents.list_documents(
        session,
        principal,
        folder_id=folder_id,
        folder_path=folder,
        recursive=recursive,
        label=label,
        creator=creator,
        q=q,
        deleted=deleted,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.post("/import", name="documents_import", response_model=One[ImportResult])
def import_document(
    body: DocumentImport,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    """Import an exported dashboard (the seed's body: `dashboard`, `workbook_model`,
    `validation_mode`), with connection/topic mappings, `dry_run` and `on_conflict`."""
    return one(bundles.import_document(session, principal, runtime, body))


@router.get("/{document_id}", name="documents_get", response_model=One[Document])
def get_document(document_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    """By id or by the stable `identifier`."""
    return one(documents.get(session, principal, document_id))


@router.put("/{document_id}", name="documents_replace", response_model=One[Document])
def replace_document(
    document_id: str,
    body: DocumentCreate,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(documents.replace(session, principal, runtime, document_id, body))


@router.patch("/{document_id}", name="documents_update", response_model=One[Document])
def update_document(
    document_id: str,
    body: DocumentPatch,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(documents.patch(session, principal, runtime, document_id, body))


@router.delete("/{document_id}", name="documents_delete", status_code=204, response_class=Response)
def delete_document(
    document_id: str, session: WriteSession, principal: CurrentPrincipal
) -> Response:
    """Move to the trash (restorable)."""
    documents.trash(session, principal, document_id)
    return Response(status_code=204)


@router.post("/{document_id}/restore", name="documents_restore", response_model=One[Document])
def restore_document(document_id: str, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(documents.restore(session, principal, document_id))


@router.post(
    "/{document_id}/duplicate",
    name="documents_duplicate",
    status_code=201,
    response_model=One[Document],
)
def duplicate_document(
    document_id: str,
    body: DocumentDuplicate,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(documents.duplicate(session, principal, runtime, document_id, body))


@router.post("/{document_id}/move", name="documents_move", response_model=One[Document])
def move_document(
    document_id: str,
    body: DocumentMove,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(documents.move(session, principal, runtime, document_id, body))


@router.get(
    "/{document_id}/permissions", name="documents_permissions", response_model=One[Permissions]
)
def get_permissions(document_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(documents.get_permissions(session, principal, document_id))


@router.put(
    "/{document_id}/permissions",
    name="documents_set_permissions",
    response_model=One[Permissions],
)
def set_permissions(
    document_id: str,
    body: PermissionsUpdate,
    session: WriteSession,
    principal: CurrentPrincipal,
) -> Any:
    """Replace the grants set on this document (MANAGER only)."""
    return one(documents.set_permissions(session, principal, document_id, body))


@router.get(
    "/{document_id}/access-list",
    name="documents_access_list",
    response_model=Many[AccessEntry],
)
def access_list(
    document_id: str,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
) -> Any:
    """Every user who can open the document, with their role and the grant it comes from."""
    items = documents.get_access_list(session, principal, document_id)
    return many(request, items[page.offset : page.offset + page.per_page], len(items), page)


@router.get("/{document_id}/export", name="documents_export", response_model=ExportBundle)
def export_document(
    document_id: str,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    """The bundle itself (not enveloped: the body is the file). `bundle.dashboard` is the
    import body, as the seed's `deployDashboard` uses it."""
    return bundles.export_document(session, principal, runtime, document_id)


@router.post("/{document_id}/run", name="documents_run", response_model=One[DocumentRunResult])
async def run(
    document_id: str,
    body: DocumentRun,
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    """Every tile's result with the dashboard's default filters, the overrides given here and
    the caller's access filters. A failing tile reports its error; the others still run."""

    def work(record: Recorder) -> Any:
        return one(run_document(session, principal, runtime, document_id, body, record=record))

    return await run_recorded(request, principal, work)


@validation_router.get(
    "/content-validation", name="content_validation", response_model=Many[ContentProblem]
)
def content_validation(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    page: Page,
) -> Any:
    """Every tile the current model breaks: document, tile, field and reason."""
    items = validator.validate_content(session, principal, runtime)
    return many(request, items[page.offset : page.offset + page.per_page], len(items), page)
