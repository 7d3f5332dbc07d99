"""Every SQL statement about user rows (memberships, values and roles have their own modules)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect, insert_rows
from gnomon.store.tables import users
from gnomon.store.tables_identity import group_members
from gnomon.util import as_utc

SORTABLE = {
    "created_at": users.c.created_at,
    "email": users.c.email,
    "name": users.c.name,
    "updated_at": users.c.updated_at,
}


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["updated_at"] = as_utc(out["updated_at"])
    return out


def insert_user(session: Session, values: Mapping[str, Any]) -> None:
    insert_rows(session, users, [values])


def get_user(session: Session, org_id: str, user_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(users).where(users.c.org_id == org_id, users.c.id == user_id))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


def get_users(
    session: Session, org_id: str, user_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(users).where(users.c.org_id == org_id, users.c.id.in_(list(user_ids)))
    ).mappings()
    return {r["id"]: _row(r) for r in rows}


def find_by_email(session: Session, org_id: str, email: str) -> dict[str, Any] | None:
    row = (
        session.execute(
            select(users).where(users.c.org_id == org_id, users.c.email == email.lower())
        )
        .mappings()
        .first()
    )
    return _row(row) if row is not None else None


# Every SCIM create looks the user name up, and every create checks email and user name:
# prepared reads (gnomon.store.prepared), served by the index on (org_id, lower(user_name)).
_BY_USER_NAME = PreparedSelect(
    select(users)
    .where(
        users.c.org_id == bindparam("org_id"),
        func.lower(users.c.user_name) == bindparam("user_name"),
    )
    .limit(1)
)
# Two lookups, not one OR: SQLite answers an OR of the two with one of the indexes and a scan of
# the organization's users for the other term.
_EMAIL_TAKEN = PreparedSelect(
    select(users.c.id)
    .where(users.c.org_id == bindparam("org_id"), users.c.email == bindparam("email"))
    .limit(1)
)


def find_by_user_name(session: Session, org_id: str, user_name: str) -> dict[str, Any] | None:
    """SCIM's userName is case-insensitive (RFC 7643 §4.1.1)."""
    row = _BY_USER_NAME.one_or_none(session, {"org_id": org_id, "user_name": user_name.lower()})
    return _row(row) if row is not None else None


def find_taken(session: Session, org_id: str, email: str, user_name: str) -> tuple[bool, bool]:
    """``(email taken, user name taken)``: each an index lookup (a create checks both)."""
    email_taken = _EMAIL_TAKEN.one_or_none(session, {"org_id": org_id, "email": email.lower()})
    name_taken = _BY_USER_NAME.one_or_none(
        session, {"org_id": org_id, "user_name": user_name.lower()}
    )
    return email_taken is not None, name_taken is not None


def list_users(
    session: Session,
    org_id: str,
    *,
    email: str | None = None,
    q: str | None = None,
    group_id: str | None = None,
    active: bool | None = None,
    sort: str = "created_at",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    cond: list[ColumnElement[bool]] = [users.c.org_id == org_id]
    if email is not None:
        cond.append(users.c.email == email.lower())
    if q:
        pattern = f"%{q.lower()}%"
        cond.append(or_(func.lower(users.c.name).like(pattern), users.c.email.like(pattern)))
    if active is not None:
        cond.append(users.c.active.is_(active))
    if group_id is not None:
        members = select(group_members.c.user_id).where(
            group_members.c.org_id == org_id, group_members.c.group_id == group_id
        )
        cond.append(users.c.id.in_(members))
    col = SORTABLE[sort]
    stmt = (
        select(users)
        .where(*cond)
        .order_by(col.desc() if descending else col.asc(), users.c.id.asc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [_row(r) for r in session.execute(stmt).mappings()]
    # A short page that is not past the end already tells the total (a lookup by email is one
    # statement instead of two); only a full or empty-beyond-the-start page needs the count.
    if (limit is None or len(rows) < limit) and (rows or offset == 0):
        return rows, offset + len(rows)
    total = session.execute(select(func.count()).select_from(users).where(*cond)).scalar_one()
    return rows, int(total)


def update_user(session: Session, org_id: str, user_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(users).where(users.c.org_id == org_id, users.c.id == user_id).values(**values)
    )
