"""Bulk export/import: a folder, its sub-folders (with descriptions and grants by name) and
every document in them, each document in the same bundle form as a single export."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from gnomon.content import access, bundles, folders, permissions
from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.schemas_bundle import (
    EXPORT_VERSION,
    DocumentImport,
    FolderEntry,
    FolderExport,
    FolderImport,
    FolderImportResult,
    ImportResult,
)
from gnomon.errors import Invalid, Issue
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.util import utcnow


def _relative(root: str, path: str) -> str:
    return path[len(root) :] or "/"


def export_folder(
    session: Session, principal: Principal, runtime: Runtime, folder_id: str
) -> FolderExport:
    org = principal.org_id
    who = access.caller(session, principal)
    root = folders.visible_folder(session, who, folder_id, "export")
    rows = [
        f
        for f in repo.list_folders(session, org, path_prefix=root["path"])
        if who.can(who.folder_role(f), "view")
    ]
    entries = [
        FolderEntry(
            path=_relative(root["path"], f["path"]),
            description=f["description"],
            permissions=access.permission_map(
                session, org, grepo.grants_on(session, org, "folder", f["id"])
            ),
        )
        for f in rows
    ]
    docs = [
        d
        for d in repo.documents_in_folders(session, org, [f["id"] for f in rows])
        if who.can(who.document_role(d), "view")
    ]
    return FolderExport(
        export_version=EXPORT_VERSION,
        exported_at=utcnow(),
        folder_path=root["path"],
        folders=entries,
        documents=[bundles.export_document(session, principal, runtime, d["id"]) for d in docs],
    )


def import_folder(
    session: Session, principal: Principal, runtime: Runtime, body: FolderImport
) -> FolderImportResult:
    """Folders first (created if missing, grants set to the bundle's where the groups exist),
    then each document, placed at the same relative path under the target folder. Every
    document is checked before anything is written, so a strict import is all or nothing."""
    org = principal.org_id
    source_root = folders.normalise_path(body.bundle.folder_path, where=("bundle", "folder_path"))
    target_root = folders.normalise_path(body.folder) if body.folder else source_root
    options = body.model_dump(
        include={"validation_mode", "connection_mapping", "topic_mapping", "on_conflict"}
    )
    doc_bodies: list[DocumentImport] = []
    for doc in body.bundle.documents:
        src = doc.dashboard.dashboard.folder_path or source_root
        rel = src[len(source_root) :] if src.startswith(source_root) else ""
        doc_bodies.append(
            DocumentImport.model_validate(
                {
                    **options,
                    "dashboard": doc.dashboard.model_dump(mode="json"),
                    "folder": (target_root.rstrip("/") + rel) or "/",
                    "dry_run": True,
                }
            )
        )
    # Pass 1: every document checked (a dry run); collect every problem of every document.
    issues: list[Issue] = []
    previews: list[ImportResult] = []
    for i, doc_body in enumerate(doc_bodies):
        try:
            previews.append(bundles.import_document(session, principal, runtime, doc_body))
        except Invalid as exc:
            issues += [
                Issue(x.message, ("bundle", "documents", i, *x.path), code=x.code, hint=x.hint)
                for x in exc.issues
            ]
    if issues:
        raise Invalid(f"the folder bundle cannot be imported: {len(issues)} problem(s)", issues)
    if body.dry_run:
        return FolderImportResult(folders_created=[], documents=previews)

    who = access.caller(session, principal)
    created: list[str] = []
    warnings: list[dict[str, Any]] = []
    for entry in sorted(body.bundle.folders, key=lambda e: e.path.count("/")):
        rel = folders.normalise_path(entry.path)
        path = target_root if rel == "/" else target_root.rstrip("/") + rel
        if path == "/":
            continue
        row, new = folders.ensure_path(
            session, principal, who, path, create_if_missing=True, where=("bundle", "folders")
        )
        created += [r["path"] for r in new]
        if entry.description is not None and entry.description != row["description"]:
            repo.update_folder(session, org, row["id"], {"description": entry.description})
        known = {}
        for name, role in entry.permissions.items():
            try:
                access.resolve_grants(session, org, "folder", row["id"], {name: role})
                known[name] = role
            except Invalid:
                warnings.append(
                    Issue(
                        f"no group or user {name!r} here; grant skipped",
                        ("bundle", "folders", entry.path, "permissions", name),
                        code="unknown_grantee",
                    ).as_dict()
                )
        grants = access.resolve_grants(session, org, "folder", row["id"], known)
        permissions.replace(session, principal, "folder", row["id"], grants)
    results = [
        bundles.import_document(
            session, principal, runtime, b.model_copy(update={"dry_run": False})
        )
        for b in doc_bodies
    ]
    return FolderImportResult(folders_created=created, documents=results, warnings=warnings)
