"""Every SQL statement about folders and documents; all of them filtered by ``org_id``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from gnomon.store.tables_content import content_documents as docs
from gnomon.store.tables_content import content_folders as folders
from gnomon.util import as_utc

DOC_SORTABLE = {
    "name": docs.c.name,
    "created_at": docs.c.created_at,
    "updated_at": docs.c.updated_at,
    "identifier": docs.c.identifier,
}
_TIMES = ("created_at", "updated_at", "deleted_at")


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    for col in _TIMES:
        if col in out:
            out[col] = as_utc(out[col])
    return out


# ---------------------------------------------------------------- folders


def insert_folder(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(folders).values(**values))


def get_folder(session: Session, org_id: str, folder_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(folders).where(folders.c.org_id == org_id, folders.c.id == folder_id)
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def folder_by_path(session: Session, org_id: str, path: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(folders).where(folders.c.org_id == org_id, folders.c.path == path))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def folders_by_ids(
    session: Session, org_id: str, ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        select(folders).where(folders.c.org_id == org_id, folders.c.id.in_(list(ids)))
    ).mappings()
    return {r["id"]: _row(r) for r in rows}


def folder_parents(session: Session, org_id: str) -> dict[str, str | None]:
    """Every folder's parent: the shape of the tree that permissions are inherited along."""
    rows = session.execute(
        select(folders.c.id, folders.c.parent_id).where(folders.c.org_id == org_id)
    )
    return {a: b for a, b in rows.all()}  # noqa: C416 (rows are Row objects)


def list_folders(session: Session, org_id: str, *, path_prefix: str | None) -> list[dict[str, Any]]:
    """Folders ordered by path; ``path_prefix`` keeps that folder and everything below it."""
    cond: list[ColumnElement[bool]] = [folders.c.org_id == org_id]
    if path_prefix is not None and path_prefix != "/":
        cond.append(
            or_(
                folders.c.path == path_prefix,
                folders.c.path.startswith(path_prefix + "/", autoescape=True),
            )
        )
    rows = session.execute(select(folders).where(*cond).order_by(folders.c.path)).mappings()
    return [_row(r) for r in rows]


def subtree(session: Session, org_id: str, path: str) -> list[dict[str, Any]]:
    """The folder at ``path`` and all its descendants, deepest first (safe deletion order)."""
    rows = list_folders(session, org_id, path_prefix=path)
    return sorted(rows, key=lambda r: r["path"].count("/"), reverse=True)


def update_folder(session: Session, org_id: str, folder_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(folders)
        .where(folders.c.org_id == org_id, folders.c.id == folder_id)
        .values(**values)
    )


def delete_folder(session: Session, org_id: str, folder_id: str) -> None:
    session.execute(delete(folders).where(folders.c.org_id == org_id, folders.c.id == folder_id))


def child_count(session: Session, org_id: str, folder_id: str) -> tuple[int, int]:
    """(sub-folders, live documents) directly inside a folder."""
    subs = session.execute(
        select(func.count())
        .select_from(folders)
        .where(folders.c.org_id == org_id, folders.c.parent_id == folder_id)
    ).scalar_one()
    documents = session.execute(
        select(func.count())
        .select_from(docs)
        .where(docs.c.org_id == org_id, docs.c.folder_id == folder_id, docs.c.deleted_at.is_(None))
    ).scalar_one()
    return int(subs), int(documents)


# ---------------------------------------------------------------- documents


def insert_document(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(docs).values(**values))


def get_document(session: Session, org_id: str, doc_id: str) -> dict[str, Any] | None:
    """By id, or by the stable ``identifier`` (slug) when no id matches."""
    for col in (docs.c.id, docs.c.identifier):
        row = (
            session.execute(select(docs).where(docs.c.org_id == org_id, col == doc_id))
            .mappings()
            .one_or_none()
        )
        if row is not None:
            return _row(row)
    return None


def document_by_origin(session: Session, org_id: str, origin_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(docs)
            .where(
                docs.c.org_id == org_id,
                or_(docs.c.origin_id == origin_id, docs.c.id == origin_id),
            )
            .order_by(docs.c.created_at)
        )
        .mappings()
        .first()
    )
    return _row(row) if row is not None else None


def identifier_taken(session: Session, org_id: str, identifier: str) -> bool:
    found = session.execute(
        select(docs.c.id).where(docs.c.org_id == org_id, docs.c.identifier == identifier)
    ).first()
    return found is not None


def identifiers_like(session: Session, org_id: str, base: str) -> set[str]:
    rows = session.execute(
        select(docs.c.identifier).where(
            docs.c.org_id == org_id,
            or_(
                docs.c.identifier == base, docs.c.identifier.startswith(base + "-", autoescape=True)
            ),
        )
    ).scalars()
    return set(rows)


def document_index(
    session: Session,
    org_id: str,
    *,
    deleted: bool,
    folder_ids: Collection[str] | None = None,
    creator: str | None = None,
    q: str | None = None,
    sort: str = "name",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """The light columns of every matching document, sorted: visibility and label filtering
    happen in memory on this list before a page is cut from it."""
    cond: list[ColumnElement[bool]] = [docs.c.org_id == org_id]
    cond.append(docs.c.deleted_at.is_not(None) if deleted else docs.c.deleted_at.is_(None))
    if folder_ids is not None:
        cond.append(docs.c.folder_id.in_(list(folder_ids)))
    if creator is not None:
        cond.append(or_(docs.c.created_by == creator, docs.c.created_by_label == creator))
    if q:
        pattern = f"%{q.lower()}%"
        cond.append(
            or_(
                func.lower(docs.c.name).like(pattern),
                func.lower(func.coalesce(docs.c.description, "")).like(pattern),
            )
        )
    col = DOC_SORTABLE[sort]
    stmt = (
        select(docs.c.id, docs.c.folder_id, docs.c.labels)
        .where(*cond)
        .order_by(col.desc() if descending else col.asc(), docs.c.id.asc())
    )
    return [dict(r) for r in session.execute(stmt).mappings()]


def documents_by_ids(
    session: Session, org_id: str, ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        select(docs).where(docs.c.org_id == org_id, docs.c.id.in_(list(ids)))
    ).mappings()
    return {r["id"]: _row(r) for r in rows}


def live_documents(
    session: Session, org_id: str, *, model_ids: Collection[str | None] | None = None
) -> list[dict[str, Any]]:
    """Every document not in the trash (optionally only those bound to ``model_ids``)."""
    cond: list[ColumnElement[bool]] = [docs.c.org_id == org_id, docs.c.deleted_at.is_(None)]
    if model_ids is not None:
        ids = [m for m in model_ids if m is not None]
        parts: list[ColumnElement[bool]] = [docs.c.model_id.in_(ids)]
        if None in model_ids:
            parts.append(docs.c.model_id.is_(None))
        cond.append(or_(*parts))
    rows = session.execute(select(docs).where(*cond).order_by(docs.c.name, docs.c.id)).mappings()
    return [_row(r) for r in rows]


def documents_in_folders(
    session: Session, org_id: str, folder_ids: Collection[str]
) -> list[dict[str, Any]]:
    if not folder_ids:
        return []
    rows = session.execute(
        select(docs)
        .where(
            docs.c.org_id == org_id,
            docs.c.folder_id.in_(list(folder_ids)),
            docs.c.deleted_at.is_(None),
        )
        .order_by(docs.c.name, docs.c.id)
    ).mappings()
    return [_row(r) for r in rows]


def update_document(session: Session, org_id: str, doc_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(docs).where(docs.c.org_id == org_id, docs.c.id == doc_id).values(**values)
    )


def detach_from_folders(session: Session, org_id: str, folder_ids: Collection[str]) -> None:
    """Trashed documents keep their old path in ``trashed_folder_path``; the folder row goes."""
    if folder_ids:
        session.execute(
            update(docs)
            .where(docs.c.org_id == org_id, docs.c.folder_id.in_(list(folder_ids)))
            .values(folder_id=None)
        )
