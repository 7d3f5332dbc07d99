"""Every SQL statement of organizations.

Organizations are the tenants themselves, so these statements are the platform's, not scoped to
one org.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.tables import organizations
from gnomon.util import as_utc, utcnow

SORTABLE = {"created_at": organizations.c.created_at, "name": organizations.c.name}


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["deleted_at"] = as_utc(out["deleted_at"])
    return out


def insert_org(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(organizations).values(**values))


def slug_taken(session: Session, slug: str) -> bool:
    return (
        session.execute(select(organizations.c.id).where(organizations.c.slug == slug)).first()
        is not None
    )


def get_org(session: Session, org_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(organizations).where(
                organizations.c.id == org_id, organizations.c.deleted_at.is_(None)
            )
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def list_orgs(
    session: Session, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    cond = organizations.c.deleted_at.is_(None)
    total = session.execute(
        select(func.count()).select_from(organizations).where(cond)
    ).scalar_one()
    col = SORTABLE[sort]
    rows = session.execute(
        select(organizations)
        .where(cond)
        .order_by(col.desc() if descending else col.asc(), organizations.c.id)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def count_orgs(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(organizations)).scalar_one())


def mark_deleted(session: Session, org_id: str) -> None:
    session.execute(
        update(organizations).where(organizations.c.id == org_id).values(deleted_at=utcnow())
    )
