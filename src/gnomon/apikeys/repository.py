"""Every SQL statement of API keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect
from gnomon.store.tables import api_keys, organizations, users
from gnomon.util import as_utc

_TIME_COLUMNS = ("created_at", "expires_at", "last_used_at", "revoked_at", "rotated_at")
SORTABLE = {"created_at": api_keys.c.created_at, "name": api_keys.c.name}


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    for col in _TIME_COLUMNS:
        if col in out:
            out[col] = as_utc(out[col])
    return out


def insert_key(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(api_keys).values(**values))


_AUTHENTICATION = PreparedSelect(
    select(
        api_keys,
        organizations.c.deleted_at.label("org_deleted_at"),
        users.c.active.label("user_active"),
        users.c.org_role.label("user_org_role"),
        users.c.email.label("user_email"),
    )
    .join(organizations, organizations.c.id == api_keys.c.org_id)
    .outerjoin(users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.key_id == bindparam("key_id"))
)


def find_for_authentication(bind: Engine | Session, key_id: str) -> dict[str, Any] | None:
    """The one lookup made before the caller's organization is known: by the key's public id.

    Returns the key with its organization's and user's state, so that deleted organizations and
    deactivated users stop working on their next request. A prepared statement: given the
    engine, one autocommit read outside any session.
    """
    row = _AUTHENTICATION.one_or_none(bind, {"key_id": key_id})
    return _row(row) if row is not None else None


def touch_last_used(session: Session, key_db_id: str, when: datetime) -> None:
    session.execute(update(api_keys).where(api_keys.c.id == key_db_id).values(last_used_at=when))


def _scope(org_id: str, user_id: str | None) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [api_keys.c.org_id == org_id]
    if user_id is not None:
        cond.append(api_keys.c.user_id == user_id)
    return cond


def list_keys(
    session: Session,
    org_id: str,
    *,
    user_id: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    cond = _scope(org_id, user_id)
    cond.append(api_keys.c.revoked_at.is_(None))
    total = session.execute(select(func.count()).select_from(api_keys).where(*cond)).scalar_one()
    col = SORTABLE[sort]
    order = [col.desc() if descending else col.asc(), api_keys.c.id.asc()]
    rows = session.execute(
        select(api_keys).where(*cond).order_by(*order).offset(offset).limit(limit)
    ).mappings()
    return [_row(r) for r in rows], int(total)


def get_key(session: Session, org_id: str, key_db_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(api_keys).where(api_keys.c.org_id == org_id, api_keys.c.id == key_db_id)
        )
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def update_key(session: Session, org_id: str, key_db_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(api_keys)
        .where(api_keys.c.org_id == org_id, api_keys.c.id == key_db_id)
        .values(**values)
    )


def count_active_org_keys(session: Session, org_id: str) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(api_keys)
            .where(
                api_keys.c.org_id == org_id,
                api_keys.c.kind == "organization",
                api_keys.c.revoked_at.is_(None),
                api_keys.c.enabled.is_(True),
            )
        ).scalar_one()
    )
