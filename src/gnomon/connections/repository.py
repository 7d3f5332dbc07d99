"""Every SQL statement of connections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect
from gnomon.store.tables_semantic import connections as t
from gnomon.store.tables_semantic import models
from gnomon.util import as_utc

SORTABLE = {"name": t.c.name, "created_at": t.c.created_at}


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["updated_at"] = as_utc(out["updated_at"])
    return out


def insert_connection(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(t).values(**values))


def get(session: Session, org_id: str, connection_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(t).where(t.c.org_id == org_id, t.c.id == connection_id))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


# Every query looks its connection up by name: a prepared statement (gnomon.store.prepared).
_BY_NAME = PreparedSelect(
    select(t).where(t.c.org_id == bindparam("org_id"), t.c.name == bindparam("name")),
    remember=True,
)


def get_by_name(session: Session, org_id: str, name: str) -> dict[str, Any] | None:
    row = _BY_NAME.one_or_none(session, {"org_id": org_id, "name": name})
    return _row(row) if row is not None else None


_NAMES = PreparedSelect(select(t.c.name).where(t.c.org_id == bindparam("org_id")))


def names(session: Session, org_id: str) -> set[str]:
    """Every connection name (each user write checks its grants against them)."""
    return {r["name"] for r in _NAMES.all(session, {"org_id": org_id})}


def list_connections(
    session: Session, org_id: str, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    cond = t.c.org_id == org_id
    total = session.execute(select(func.count()).select_from(t).where(cond)).scalar_one()
    col = SORTABLE[sort]
    rows = session.execute(
        select(t)
        .where(cond)
        .order_by(col.desc() if descending else col.asc(), t.c.id)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def update_connection(
    session: Session, org_id: str, connection_id: str, values: Mapping[str, Any]
) -> None:
    session.execute(update(t).where(t.c.org_id == org_id, t.c.id == connection_id).values(**values))


def bump_version(session: Session, org_id: str, connection_id: str) -> None:
    session.execute(
        update(t)
        .where(t.c.org_id == org_id, t.c.id == connection_id)
        .values(version=t.c.version + 1)
    )


def models_using(session: Session, org_id: str, connection_id: str) -> list[str]:
    return list(
        session.execute(
            select(models.c.name).where(
                models.c.org_id == org_id, models.c.connection_id == connection_id
            )
        ).scalars()
    )


def delete_connection(session: Session, org_id: str, connection_id: str) -> None:
    session.execute(delete(t).where(t.c.org_id == org_id, t.c.id == connection_id))
