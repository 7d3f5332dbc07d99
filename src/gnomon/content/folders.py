"""Folder rules: create by path (with ancestors), list flat or as a tree, rename, move, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from gnomon.content import access, catalog, permissions
from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.access import Caller
from gnomon.content.roles import Role
from gnomon.content.schemas import (
    AccessEntry,
    Folder,
    FolderCreate,
    FolderMove,
    FolderUpdate,
    Permissions,
    PermissionsUpdate,
)
from gnomon.errors import Conflict, Invalid, Issue, NotFound
from gnomon.principal import Principal
from gnomon.util import new_id, utcnow


def normalise_path(raw: str, *, where: tuple[str | int, ...] = ("path",)) -> str:
    """``" Departments / Sales/"`` → ``"/Departments/Sales"``; ``"/"`` is the root."""
    segments = [s.strip() for s in raw.strip().split("/")]
    segments = [s for s in segments if s]
    bad = [s for s in segments if len(s) > 200 or any(ord(c) < 32 for c in s)]
    if bad:
        raise Invalid(
            "invalid folder path",
            [Issue("a folder name is at most 200 printable characters", where, hint=bad[0][:50])],
        )
    return "/" + "/".join(segments)


def _parent_path(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _name(path: str) -> str:
    return path.rsplit("/", 1)[1]


def to_schema(row: Mapping[str, Any], role: Role) -> Folder:
    return Folder(
        id=row["id"],
        name=row["name"],
        path=row["path"],
        parent_id=row["parent_id"],
        description=row["description"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        role=role,
    )


def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "path", "parent_id", "description")}


def visible_folder(session: Session, who: Caller, folder_id: str, action: str) -> dict[str, Any]:
    row = repo.get_folder(session, who.principal.org_id, folder_id)
    if row is None:
        raise NotFound(f"folder {folder_id} not found")
    who.require(who.folder_role(row), action, f"folder {folder_id}")
    return row


def ensure_path(
    session: Session,
    principal: Principal,
    who: Caller,
    path: str,
    *,
    create_if_missing: bool,
    where: tuple[str | int, ...],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The folder at ``path``, creating it and its missing ancestors when allowed.

    Returns the folder and the rows created. The caller needs EDITOR on the nearest existing
    ancestor (ORG_ADMIN at the root) to create anything.
    """
    org = principal.org_id
    found = repo.folder_by_path(session, org, path)
    if found is not None:
        return found, []
    if not create_if_missing:
        raise Invalid(
            f"folder {path} does not exist",
            [
                Issue(
                    f"folder {path} does not exist",
                    where,
                    code="not_found",
                    hint="create it first or pass create_if_missing: true",
                )
            ],
        )
    segments = path.strip("/").split("/")
    parent: dict[str, Any] | None = None
    created: list[dict[str, Any]] = []
    for depth in range(1, len(segments) + 1):
        current_path = "/" + "/".join(segments[:depth])
        existing = repo.folder_by_path(session, org, current_path)
        if existing is not None:
            parent = existing
            continue
        if not created:
            if parent is None:
                who.require_root("creating a folder")
            else:
                who.require(who.folder_role(parent), "create_in", f"folder {parent['path']}")
        now = utcnow()
        row: dict[str, Any] = {
            "id": new_id(),
            "org_id": org,
            "parent_id": parent["id"] if parent else None,
            "name": segments[depth - 1],
            "path": current_path,
            "description": None,
            "created_by": principal.actor_id,
            "created_at": now,
            "updated_at": now,
        }
        repo.insert_folder(session, row)
        if not created:
            grants = permissions.creator_grant(principal, "folder", row["id"])
            if grants:
                grepo.replace_grants(session, org, "folder", row["id"], grants)
        # Later checks in this request see the new folder.
        who.tree.parents = {**who.tree.parents, row["id"]: row["parent_id"]}
        created.append(row)
        parent = row
        catalog.emit(
            session, principal, "folder.created", "folder", row["id"], {"folder": _snapshot(row)}
        )
    assert parent is not None
    return parent, created


def create(session: Session, principal: Principal, body: FolderCreate) -> Folder:
    org = principal.org_id
    path = normalise_path(body.path)
    if path == "/":
        raise Invalid(
            "the root folder always exists", [Issue("give a folder path below /", ("path",))]
        )
    existing = repo.folder_by_path(session, org, path)
    if existing is not None:
        raise Conflict(
            f"folder {path} already exists",
            details=[{"id": existing["id"], "path": path, "code": "already_exists"}],
        )
    who = access.caller(session, principal)
    row, _ = ensure_path(session, principal, who, path, create_if_missing=True, where=("path",))
    values: dict[str, Any] = {}
    if body.description is not None:
        values["description"] = body.description
        repo.update_folder(session, org, row["id"], values)
        row = {**row, **values}
    if body.permissions:
        grants = access.resolve_grants(session, org, "folder", row["id"], body.permissions)
        grants += [
            g
            for g in permissions.creator_grant(principal, "folder", row["id"])
            if g.grantee not in {x.grantee for x in grants}
        ]
        permissions.replace(session, principal, "folder", row["id"], grants)
    who = access.caller(session, principal)
    return to_schema(row, who.folder_role(row))


def list_folders(
    session: Session, principal: Principal, *, path: str | None, tree: bool
) -> list[Folder]:
    """Folders the caller can open, ordered by path; as a tree, each under its nearest visible
    ancestor (a folder whose parent is hidden from the caller becomes a top-level node)."""
    prefix = normalise_path(path, where=("query", "path")) if path is not None else None
    who = access.caller(session, principal)
    rows = repo.list_folders(session, principal.org_id, path_prefix=prefix)
    visible = [(r, who.folder_role(r)) for r in rows]
    items = [to_schema(r, role) for r, role in visible if who.can(role, "view")]
    if not tree:
        return items
    by_id = {f.id: f for f in items}
    for f in items:
        f.children = []
    roots: list[Folder] = []
    parents = (
        who.tree.parents if who.tree.parents else repo.folder_parents(session, principal.org_id)
    )
    for f in items:
        up = f.parent_id
        while up is not None and up not in by_id:
            up = parents.get(up)
        if up is None:
            roots.append(f)
        else:
            children = by_id[up].children
            assert children is not None
            children.append(f)
    return roots


def get(session: Session, principal: Principal, folder_id: str) -> Folder:
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "view")
    return to_schema(row, who.folder_role(row))


def _rewrite_subtree(session: Session, org_id: str, old: str, new: str) -> None:
    for f in repo.list_folders(session, org_id, path_prefix=old):
        repo.update_folder(session, org_id, f["id"], {"path": new + f["path"][len(old) :]})


def update(session: Session, principal: Principal, folder_id: str, body: FolderUpdate) -> Folder:
    org = principal.org_id
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "edit")
    values = body.model_dump(exclude_unset=True)
    if "name" in values and values["name"] is None:
        raise Invalid("name cannot be null", [Issue("name cannot be null", ("name",))])
    now = utcnow()
    changed: dict[str, Any] = {}
    if values.get("name") is not None:
        name = values["name"].strip()
        if not name or "/" in name:
            raise Invalid(
                "invalid folder name", [Issue("a folder name is non-empty and has no /", ("name",))]
            )
        if name != row["name"]:
            parent = _parent_path(row["path"])
            new_path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
            clash = repo.folder_by_path(session, org, new_path)
            if clash is not None:
                raise Conflict(
                    f"folder {new_path} already exists",
                    details=[{"id": clash["id"], "path": new_path}],
                )
            _rewrite_subtree(session, org, row["path"], new_path)
            changed.update(name=name, path=new_path)
    if "description" in values and values["description"] != row["description"]:
        changed["description"] = values["description"]
    if not changed:
        return to_schema(row, who.folder_role(row))
    repo.update_folder(session, org, folder_id, {**changed, "updated_at": now})
    after = {**row, **changed, "updated_at": now}
    catalog.emit(
        session,
        principal,
        "folder.updated",
        "folder",
        folder_id,
        {"folder": _snapshot(after)},
        changes={k: {"before": row[k], "after": after[k]} for k in changed},
    )
    return to_schema(after, who.folder_role(after))


def move(session: Session, principal: Principal, folder_id: str, body: FolderMove) -> Folder:
    org = principal.org_id
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "move")
    parent: dict[str, Any] | None = None
    if body.parent_id is not None:
        parent = repo.get_folder(session, org, body.parent_id)
        if parent is None or not who.can(who.folder_role(parent), "view"):
            raise Invalid(
                "unknown parent",
                [Issue(f"folder {body.parent_id} not found", ("parent_id",), code="not_found")],
            )
    elif body.parent_path is not None and normalise_path(body.parent_path) != "/":
        parent = repo.folder_by_path(session, org, normalise_path(body.parent_path))
        if parent is None or not who.can(who.folder_role(parent), "view"):
            raise Invalid(
                "unknown parent",
                [Issue(f"folder {body.parent_path} not found", ("parent_path",), code="not_found")],
            )
    if parent is not None and (
        parent["id"] == row["id"] or parent["path"].startswith(row["path"] + "/")
    ):
        raise Invalid(
            "a folder cannot move into itself",
            [
                Issue(
                    f"{parent['path']} is inside {row['path']}",
                    ("parent_id" if body.parent_id else "parent_path",),
                    code="cycle",
                )
            ],
        )
    if parent is None:
        who.require_root("moving a folder")
    else:
        who.require(who.folder_role(parent), "create_in", f"folder {parent['path']}")
    new_parent_id = parent["id"] if parent else None
    if new_parent_id == row["parent_id"]:
        return to_schema(row, who.folder_role(row))
    new_path = (parent["path"] if parent else "") + "/" + row["name"]
    clash = repo.folder_by_path(session, org, new_path)
    if clash is not None:
        raise Conflict(
            f"folder {new_path} already exists", details=[{"id": clash["id"], "path": new_path}]
        )
    _rewrite_subtree(session, org, row["path"], new_path)
    now = utcnow()
    repo.update_folder(session, org, folder_id, {"parent_id": new_parent_id, "updated_at": now})
    after = {**row, "parent_id": new_parent_id, "path": new_path, "updated_at": now}
    catalog.emit(
        session,
        principal,
        "folder.moved",
        "folder",
        folder_id,
        {"folder": _snapshot(after)},
        changes={"path": {"before": row["path"], "after": new_path}},
    )
    who = access.caller(session, principal)
    return to_schema(after, who.folder_role(after))


def delete(session: Session, principal: Principal, folder_id: str, *, force: bool) -> None:
    """An empty folder is deleted; a non-empty one needs ``force``, which moves every document
    below it to the trash (restorable) and deletes the sub-folders."""
    org = principal.org_id
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "delete")
    subs, docs = repo.child_count(session, org, folder_id)
    if (subs or docs) and not force:
        raise Conflict(
            f"folder {row['path']} is not empty ({subs} folder(s), {docs} document(s)); "
            "pass ?force=true to delete it and move its documents to the trash",
            details=[{"folders": subs, "documents": docs, "code": "not_empty"}],
        )
    tree = repo.subtree(session, org, row["path"])
    ids = [f["id"] for f in tree]
    paths = {f["id"]: f["path"] for f in tree}
    now = utcnow()
    for doc in repo.documents_in_folders(session, org, ids):
        repo.update_document(
            session,
            org,
            doc["id"],
            {"deleted_at": now, "trashed_folder_path": paths[doc["folder_id"]], "folder_id": None},
        )
        catalog.emit(
            session,
            principal,
            "document.deleted",
            "document",
            doc["id"],
            {"document": {"id": doc["id"], "identifier": doc["identifier"], "name": doc["name"]}},
        )
    repo.detach_from_folders(session, org, ids)
    grepo.delete_grants(session, org, "folder", ids)
    for f in tree:
        repo.delete_folder(session, org, f["id"])
        catalog.emit(
            session, principal, "folder.deleted", "folder", f["id"], {"folder": _snapshot(f)}
        )


def get_permissions(session: Session, principal: Principal, folder_id: str) -> Permissions:
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "view")
    return permissions.describe(session, principal.org_id, "folder", row["id"], row["parent_id"])


def set_permissions(
    session: Session, principal: Principal, folder_id: str, body: PermissionsUpdate
) -> Permissions:
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "manage")
    grants = access.resolve_grants(session, principal.org_id, "folder", row["id"], body.permissions)
    permissions.replace(session, principal, "folder", row["id"], grants)
    return permissions.describe(session, principal.org_id, "folder", row["id"], row["parent_id"])


def get_access_list(session: Session, principal: Principal, folder_id: str) -> list[AccessEntry]:
    who = access.caller(session, principal)
    row = visible_folder(session, who, folder_id, "view")
    return access.access_list(session, principal.org_id, "folder", row["id"], row["parent_id"])
