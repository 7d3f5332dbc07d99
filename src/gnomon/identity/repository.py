"""Every SQL statement of users (the part the foundation needs: keys act as users)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gnomon.store.tables import users
from gnomon.util import as_utc


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["updated_at"] = as_utc(out["updated_at"])
    return out


def insert_user(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(users).values(**values))


def get_user(session: Session, org_id: str, user_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(users).where(users.c.org_id == org_id, users.c.id == user_id))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None
