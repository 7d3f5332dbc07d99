"""Document (dashboard) rules: create with validated tiles, read, list what the caller may
open, update, trash and restore, duplicate, move, permissions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from gnomon import events
from gnomon.content import access, catalog, folders, permissions, tiles
from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.access import Caller
from gnomon.content.models import model_for
from gnomon.content.roles import Grant, Role
from gnomon.content.schemas import (
    AccessEntry,
    Document,
    DocumentCreate,
    DocumentDuplicate,
    DocumentMove,
    DocumentPatch,
    FolderRef,
    FolderSummary,
    Permissions,
    PermissionsUpdate,
    Tile,
    TileIn,
)
from gnomon.errors import Invalid, Issue, NotFound
from gnomon.principal import Principal
from gnomon.runtime import Runtime
from gnomon.util import new_id, utcnow

_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:150].strip("-") or "document"


def unique_identifier(session: Session, org_id: str, wanted: str) -> str:
    taken = repo.identifiers_like(session, org_id, wanted)
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


# ---------------------------------------------------------------- output


def to_schemas(session: Session, who: Caller, rows: Sequence[Mapping[str, Any]]) -> list[Document]:
    """Documents with their folder, own grants and the caller's role, in a fixed number of
    queries whatever the page size."""
    org = who.principal.org_id
    folder_rows = repo.folders_by_ids(
        session, org, {r["folder_id"] for r in rows if r["folder_id"]}
    )
    grants = [g for r in rows for g in grepo.grants_on(session, org, "document", r["id"])]
    names = access.grantee_names(session, org, grants)
    by_doc: dict[str, dict[str, Role]] = {}
    for g in grants:
        if g.grantee in names:
            by_doc.setdefault(g.resource_id, {})[names[g.grantee]] = g.role
    out = []
    for r in rows:
        f = folder_rows.get(r["folder_id"]) if r["folder_id"] else None
        out.append(
            Document(
                id=r["id"],
                identifier=r["identifier"],
                name=r["name"],
                description=r["description"],
                folder=FolderSummary(id=f["id"], path=f["path"]) if f else None,
                default_filters=dict(r["default_filters"] or {}),
                labels=list(r["labels"] or []),
                tiles=[Tile.model_validate(t) for t in r["tiles"] or []],
                model_id=r["model_id"],
                permissions=by_doc.get(r["id"], {}),
                role=who.document_role(r),
                version=r["version"],
                created_by=r["created_by_label"] or r["created_by"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                deleted_at=r["deleted_at"],
            )
        )
    return out


def _one(session: Session, who: Caller, row: Mapping[str, Any]) -> Document:
    return to_schemas(session, who, [row])[0]


def snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """What events carry about a document (and what ``changes`` diffs)."""
    keys = ("id", "identifier", "name", "description", "folder_id", "default_filters")
    out = {k: row.get(k) for k in keys}
    out["labels"] = list(row.get("labels") or [])
    out["tiles"] = list(row.get("tiles") or [])
    return out


# ---------------------------------------------------------------- lookups


def visible_document(
    session: Session, who: Caller, doc_id: str, action: str, *, live: bool = True
) -> dict[str, Any]:
    row = repo.get_document(session, who.principal.org_id, doc_id)
    if row is None:
        raise NotFound(f"document {doc_id} not found")
    # A trashed document is gone for every route but restore (and the trash listing).
    if live and row["deleted_at"] is not None:
        raise NotFound(f"document {doc_id} not found (it is in the trash; restore it first)")
    who.require(who.document_role(row), action, f"document {doc_id}")
    return row


def resolve_folder(
    session: Session,
    principal: Principal,
    who: Caller,
    ref: FolderRef | None,
    *,
    where: tuple[str | int, ...] = ("folder",),
) -> dict[str, Any] | None:
    """The folder a document goes into (None = the root); the caller must be able to create
    there (EDITOR on the folder, ORG_ADMIN for the root)."""
    if ref is None or (
        ref.id is None and (ref.path is None or folders.normalise_path(ref.path) == "/")
    ):
        who.require_root("placing a document")
        return None
    if ref.id is not None:
        row = repo.get_folder(session, principal.org_id, ref.id)
        if row is None or not who.can(who.folder_role(row), "view"):
            raise Invalid(
                "unknown folder",
                [Issue(f"folder {ref.id} not found", (*where, "id"), code="not_found")],
            )
    else:
        assert ref.path is not None
        path = folders.normalise_path(ref.path, where=(*where, "path"))
        row, _ = folders.ensure_path(
            session,
            principal,
            who,
            path,
            create_if_missing=ref.create_if_missing,
            where=(*where, "path"),
        )
    who.require(who.folder_role(row), "create_in", f"folder {row['path']}")
    return row


def _check(
    session: Session,
    runtime: Runtime,
    org_id: str,
    model_id: str | None,
    stored_tiles: list[dict[str, Any]],
    default_filters: Mapping[str, Any],
    issues: list[Issue],
    *,
    check: bool = True,
) -> str | None:
    """Validate tiles and default filters against the document's model; returns the model id.
    Raises with every problem found (shape problems from ``issues`` included). ``check=False``
    (lenient import) stores tiles the model cannot answer; the content validator lists them."""
    needs_model = check and any(t.get("type") in tiles.QUERY_TILES for t in stored_tiles)
    loaded = model_for(session, runtime, org_id, model_id=model_id, required=needs_model)
    if loaded is not None and check:
        issues = issues + tiles.check_tiles(loaded.semantic, loaded.dialect, stored_tiles)
        issues += tiles.check_default_filters(
            loaded.semantic, loaded.dialect, stored_tiles, default_filters
        )
    if issues:
        raise Invalid(f"the document has {len(issues)} problem(s)", issues)
    return loaded.id if loaded is not None else model_id


def _merge_tile_ids(new: Sequence[TileIn], old: Sequence[Mapping[str, Any]]) -> list[TileIn]:
    """A tile sent without an id keeps the id of the tile at the same position, so that clients
    that resend the whole list do not churn ids."""
    out = []
    used: set[str] = {t.id for t in new if t.id}
    for i, t in enumerate(new):
        if t.id is None and i < len(old) and old[i].get("id") not in used:
            t = t.model_copy(update={"id": old[i]["id"]})
            used.add(str(old[i]["id"]))
        out.append(t)
    return out


# ---------------------------------------------------------------- create / read / list


def create(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    body: DocumentCreate,
    *,
    origin_id: str | None = None,
    emit_type: str = "document.created",
    check: bool = True,
) -> Document:
    org = principal.org_id
    who = access.caller(session, principal)
    folder = resolve_folder(session, principal, who, body.folder)
    doc_id = new_id()
    stored_tiles, issues = tiles.build_tiles(body.tiles)
    grants: list[Grant] = []
    try:
        grants = access.resolve_grants(session, org, "document", doc_id, body.permissions)
    except Invalid as exc:
        issues += exc.issues
    if body.identifier is not None and repo.identifier_taken(session, org, body.identifier):
        issues.append(
            Issue(
                f"identifier {body.identifier!r} is taken",
                ("identifier",),
                code="conflict",
                hint="choose another or omit it",
            )
        )
    model_id = _check(
        session,
        runtime,
        org,
        body.model_id,
        stored_tiles,
        body.default_filters,
        issues,
        check=check,
    )
    now = utcnow()
    row: dict[str, Any] = {
        "id": doc_id,
        "org_id": org,
        "identifier": body.identifier or unique_identifier(session, org, slugify(body.name)),
        "origin_id": origin_id,
        "name": body.name,
        "description": body.description,
        "folder_id": folder["id"] if folder else None,
        "model_id": model_id,
        "labels": list(dict.fromkeys(body.labels)),
        "default_filters": dict(body.default_filters),
        "tiles": stored_tiles,
        "version": 1,
        "created_by": principal.actor_id,
        "created_by_label": principal.label,
        "updated_by": principal.actor_id,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        "trashed_folder_path": None,
    }
    repo.insert_document(session, row)
    creator = [
        g
        for g in permissions.creator_grant(principal, "document", doc_id)
        if g.grantee not in {x.grantee for x in grants}
    ]
    if grants or creator:
        grepo.replace_grants(session, org, "document", doc_id, [*grants, *creator])
    catalog.emit(session, principal, emit_type, "document", doc_id, {"document": snapshot(row)})
    return _one(session, access.caller(session, principal), row)


def get(session: Session, principal: Principal, doc_id: str) -> Document:
    who = access.caller(session, principal)
    return _one(session, who, visible_document(session, who, doc_id, "view"))


def list_documents(
    session: Session,
    principal: Principal,
    *,
    folder_id: str | None,
    folder_path: str | None,
    recursive: bool,
    label: str | None,
    creator: str | None,
    q: str | None,
    deleted: bool,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Document], int]:
    """Only documents the caller can open are listed or counted."""
    org = principal.org_id
    who = access.caller(session, principal)
    folder_ids: list[str] | None = None
    if folder_id is not None or folder_path is not None:
        row = (
            repo.get_folder(session, org, folder_id)
            if folder_id is not None
            else repo.folder_by_path(
                session, org, folders.normalise_path(folder_path or "/", where=("query", "folder"))
            )
        )
        if row is None or not who.can(who.folder_role(row), "view"):
            return [], 0
        folder_ids = (
            [f["id"] for f in repo.list_folders(session, org, path_prefix=row["path"])]
            if recursive
            else [row["id"]]
        )
    index = repo.document_index(
        session,
        org,
        deleted=deleted,
        folder_ids=folder_ids,
        creator=creator,
        q=q,
        sort=sort,
        descending=descending,
    )
    if label is not None:
        index = [d for d in index if label in (d["labels"] or [])]
    if not who.is_admin:
        index = [d for d in index if who.can(who.role("document", d["id"], d["folder_id"]), "view")]
    page_ids = [d["id"] for d in index[offset : offset + limit]]
    rows = repo.documents_by_ids(session, org, page_ids)
    return to_schemas(session, who, [rows[i] for i in page_ids if i in rows]), len(index)


# ---------------------------------------------------------------- update


def _apply(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    who: Caller,
    row: dict[str, Any],
    values: dict[str, Any],
    *,
    tiles_in: list[TileIn] | None,
    permissions_in: Mapping[str, str] | None,
    folder_ref: FolderRef | None,
    move_folder: bool,
    check: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> Document:
    org = principal.org_id
    issues: list[Issue] = []
    if tiles_in is not None:
        values["tiles"], issues = tiles.build_tiles(_merge_tile_ids(tiles_in, row["tiles"] or []))
    grants: list[Grant] | None = None
    if permissions_in is not None:
        who.require(who.document_role(row), "manage", f"document {row['id']}")
        try:
            grants = access.resolve_grants(session, org, "document", row["id"], permissions_in)
        except Invalid as exc:
            issues += exc.issues
    if (
        "identifier" in values
        and values["identifier"] != row["identifier"]
        and repo.identifier_taken(session, org, values["identifier"])
    ):
        issues.append(Issue("identifier is taken", ("identifier",), code="conflict"))
    if "tiles" in values or "default_filters" in values or "model_id" in values or issues:
        values["model_id"] = _check(
            session,
            runtime,
            org,
            values.get("model_id", row["model_id"]),
            values.get("tiles", row["tiles"] or []),
            values.get("default_filters", row["default_filters"] or {}),
            issues,
            check=check,
        )
    moved_from = row["folder_id"]
    if move_folder:
        target = resolve_folder(session, principal, who, folder_ref)
        values["folder_id"] = target["id"] if target else None
    values.update(extra or {})
    changed = {k: v for k, v in values.items() if row.get(k) != v}
    if grants is not None:
        permissions.replace(session, principal, "document", row["id"], grants)
    if not changed:
        return _one(session, access.caller(session, principal), row)
    now = utcnow()
    changed.update(version=row["version"] + 1, updated_at=now, updated_by=principal.actor_id)
    repo.update_document(session, org, row["id"], changed)
    after = {**row, **changed}
    content_keys = set(changed) - {"folder_id", "version", "updated_at", "updated_by"}
    if content_keys:
        catalog.emit(
            session,
            principal,
            "document.updated",
            "document",
            row["id"],
            {"document": snapshot(after)},
            changes={
                k: v
                for k, v in catalog_diff(snapshot(row), snapshot(after)).items()
                if k != "folder_id"
            },
        )
    if "folder_id" in changed and changed["folder_id"] != moved_from:
        catalog.emit(
            session,
            principal,
            "document.moved",
            "document",
            row["id"],
            {"document": snapshot(after)},
            changes={"folder_id": {"before": moved_from, "after": changed["folder_id"]}},
        )
    return _one(session, access.caller(session, principal), after)


def catalog_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return events.diff(before, after)


def replace(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    doc_id: str,
    body: DocumentCreate,
    *,
    check: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> Document:
    """PUT: the body is the whole definition; permissions/folder/identifier change only when
    the body names them."""
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "edit")
    sent = body.model_fields_set
    values: dict[str, Any] = {
        "name": body.name,
        "description": body.description,
        "default_filters": dict(body.default_filters),
        "labels": list(dict.fromkeys(body.labels)),
    }
    if body.identifier is not None:
        values["identifier"] = body.identifier
    if body.model_id is not None:
        values["model_id"] = body.model_id
    return _apply(
        session,
        principal,
        runtime,
        who,
        row,
        values,
        tiles_in=list(body.tiles),
        permissions_in=body.permissions if "permissions" in sent else None,
        folder_ref=body.folder,
        move_folder="folder" in sent,
        check=check,
        extra=extra,
    )


def patch(
    session: Session, principal: Principal, runtime: Runtime, doc_id: str, body: DocumentPatch
) -> Document:
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "edit")
    sent = body.model_dump(exclude_unset=True)
    nulls = [
        k
        for k in ("name", "default_filters", "tiles", "labels", "permissions")
        if k in sent and sent[k] is None
    ]
    if nulls:
        raise Invalid("fields cannot be null", [Issue(f"{k} cannot be null", (k,)) for k in nulls])
    values: dict[str, Any] = {}
    for key in ("name", "description", "default_filters"):
        if key in sent:
            values[key] = sent[key]
    if "labels" in sent:
        values["labels"] = list(dict.fromkeys(sent["labels"]))
    return _apply(
        session,
        principal,
        runtime,
        who,
        row,
        values,
        tiles_in=list(body.tiles) if body.tiles is not None else None,
        permissions_in=body.permissions,
        folder_ref=None,
        move_folder=False,
    )


def move(
    session: Session, principal: Principal, runtime: Runtime, doc_id: str, body: DocumentMove
) -> Document:
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "move")
    return _apply(
        session,
        principal,
        runtime,
        who,
        row,
        {},
        tiles_in=None,
        permissions_in=None,
        folder_ref=body.folder,
        move_folder=True,
    )


def duplicate(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    doc_id: str,
    body: DocumentDuplicate,
) -> Document:
    """A copy with new tile-independent identity; grants are not copied (the copy inherits
    from its folder), like a "Save as" in a BI tool."""
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "view")
    folder_ref = body.folder
    if folder_ref is None and row["folder_id"] is not None:
        folder_ref = FolderRef(id=row["folder_id"])
    create_body = DocumentCreate(
        name=body.name or f"{row['name'][:490]} (copy)",
        description=row["description"],
        folder=folder_ref,
        default_filters=row["default_filters"] or {},
        tiles=[TileIn.model_validate(t) for t in row["tiles"] or []],
        labels=row["labels"] or [],
        model_id=row["model_id"],
    )
    return create(session, principal, runtime, create_body)


# ---------------------------------------------------------------- trash


def trash(session: Session, principal: Principal, doc_id: str) -> None:
    org = principal.org_id
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "delete")
    folder = repo.get_folder(session, org, row["folder_id"]) if row["folder_id"] else None
    now = utcnow()
    values = {"deleted_at": now, "trashed_folder_path": folder["path"] if folder else None}
    repo.update_document(session, org, row["id"], values)
    catalog.emit(
        session, principal, "document.deleted", "document", row["id"], {"document": snapshot(row)}
    )


def restore(session: Session, principal: Principal, doc_id: str) -> Document:
    """Back where it was; a folder deleted meanwhile is re-created from the remembered path."""
    org = principal.org_id
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "delete", live=False)
    if row["deleted_at"] is None:
        return _one(session, who, row)
    values: dict[str, Any] = {"deleted_at": None, "trashed_folder_path": None}
    if row["folder_id"] is None and row["trashed_folder_path"]:
        folder, _ = folders.ensure_path(
            session,
            principal,
            who,
            row["trashed_folder_path"],
            create_if_missing=True,
            where=("folder",),
        )
        values["folder_id"] = folder["id"]
    values["updated_at"] = utcnow()
    repo.update_document(session, org, row["id"], values)
    after = {**row, **values}
    catalog.emit(
        session,
        principal,
        "document.restored",
        "document",
        row["id"],
        {"document": snapshot(after)},
    )
    return _one(session, access.caller(session, principal), after)


# ---------------------------------------------------------------- permissions


def get_permissions(session: Session, principal: Principal, doc_id: str) -> Permissions:
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "view")
    return permissions.describe(session, principal.org_id, "document", row["id"], row["folder_id"])


def set_permissions(
    session: Session, principal: Principal, doc_id: str, body: PermissionsUpdate
) -> Permissions:
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "manage")
    grants = access.resolve_grants(
        session, principal.org_id, "document", row["id"], body.permissions
    )
    permissions.replace(session, principal, "document", row["id"], grants)
    return permissions.describe(session, principal.org_id, "document", row["id"], row["folder_id"])


def get_access_list(session: Session, principal: Principal, doc_id: str) -> list[AccessEntry]:
    who = access.caller(session, principal)
    row = visible_document(session, who, doc_id, "view")
    return access.access_list(session, principal.org_id, "document", row["id"], row["folder_id"])
