"""Every SQL statement about groups and group membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from gnomon.store.prepared import PreparedSelect, insert_rows
from gnomon.store.tables import users
from gnomon.store.tables_identity import (
    connection_roles,
    group_members,
    groups,
    user_attribute_values,
)
from gnomon.util import as_utc

SORTABLE = {"created_at": groups.c.created_at, "name": groups.c.name}


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out = dict(mapping)
    out["created_at"] = as_utc(out["created_at"])
    out["updated_at"] = as_utc(out["updated_at"])
    return out


def insert_group(session: Session, values: Mapping[str, Any]) -> None:
    session.execute(insert(groups).values(**values))


def get_group(session: Session, org_id: str, group_id: str) -> dict[str, Any] | None:
    row = (
        session.execute(select(groups).where(groups.c.org_id == org_id, groups.c.id == group_id))
        .mappings()
        .one_or_none()
    )
    return _row(row) if row is not None else None


# A user write names a few groups: a prepared lookup each is cheaper than building an IN query.
_BY_NAME = PreparedSelect(
    select(groups).where(groups.c.org_id == bindparam("org_id"), groups.c.name == bindparam("name"))
)
_FEW = 8


def groups_by_names(
    session: Session, org_id: str, names: Collection[str]
) -> dict[str, dict[str, Any]]:
    if not names:
        return {}
    if len(names) <= _FEW:
        found = (_BY_NAME.one_or_none(session, {"org_id": org_id, "name": n}) for n in set(names))
        return {r["name"]: _row(r) for r in found if r is not None}
    rows = session.execute(
        select(groups).where(groups.c.org_id == org_id, groups.c.name.in_(list(names)))
    ).mappings()
    return {r["name"]: _row(r) for r in rows}


def list_groups(
    session: Session,
    org_id: str,
    *,
    name: str | None = None,
    q: str | None = None,
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    cond: list[ColumnElement[bool]] = [groups.c.org_id == org_id]
    if name is not None:
        cond.append(groups.c.name == name)
    if q:
        cond.append(func.lower(groups.c.name).like(f"%{q.lower()}%"))
    total = session.execute(select(func.count()).select_from(groups).where(*cond)).scalar_one()
    col = SORTABLE[sort]
    stmt = (
        select(groups)
        .where(*cond)
        .order_by(col.desc() if descending else col.asc(), groups.c.id.asc())
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_row(r) for r in session.execute(stmt).mappings()], int(total)


def update_group(session: Session, org_id: str, group_id: str, values: Mapping[str, Any]) -> None:
    session.execute(
        update(groups).where(groups.c.org_id == org_id, groups.c.id == group_id).values(**values)
    )


def delete_group(session: Session, org_id: str, group_id: str) -> None:
    """Removes the group with its memberships, attribute values and connection roles."""
    for table in (group_members, user_attribute_values, connection_roles):
        session.execute(delete(table).where(table.c.org_id == org_id, table.c.group_id == group_id))
    session.execute(delete(groups).where(groups.c.org_id == org_id, groups.c.id == group_id))


def group_names_for_users(
    session: Session, org_id: str, user_ids: Collection[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if not user_ids:
        return out
    rows = session.execute(
        select(group_members.c.user_id, groups.c.name)
        .join(groups, groups.c.id == group_members.c.group_id)
        .where(group_members.c.org_id == org_id, group_members.c.user_id.in_(list(user_ids)))
        .order_by(groups.c.name)
    )
    for user_id, name in rows:
        out[user_id].append(name)
    return out


def group_ids_for_user(session: Session, org_id: str, user_id: str) -> list[str]:
    return list(
        session.execute(
            select(group_members.c.group_id).where(
                group_members.c.org_id == org_id, group_members.c.user_id == user_id
            )
        ).scalars()
    )


def set_user_groups(
    session: Session,
    org_id: str,
    user_id: str,
    group_ids: Collection[str],
    *,
    new_user: bool = False,
) -> None:
    """Replace the user's memberships (a user created in this transaction has none yet)."""
    if not new_user:
        session.execute(
            delete(group_members).where(
                group_members.c.org_id == org_id, group_members.c.user_id == user_id
            )
        )
    insert_rows(
        session,
        group_members,
        [{"org_id": org_id, "group_id": g, "user_id": user_id} for g in group_ids],
    )


def members_of(
    session: Session, org_id: str, group_ids: Collection[str]
) -> dict[str, list[dict[str, Any]]]:
    """Members of each group (id, email, name), ordered by email."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not group_ids:
        return out
    rows = session.execute(
        select(group_members.c.group_id, users.c.id, users.c.email, users.c.name)
        .join(users, users.c.id == group_members.c.user_id)
        .where(group_members.c.org_id == org_id, group_members.c.group_id.in_(list(group_ids)))
        .order_by(users.c.email)
    ).mappings()
    for r in rows:
        out[r["group_id"]].append({"id": r["id"], "email": r["email"], "name": r["name"]})
    return out


def set_group_members(
    session: Session, org_id: str, group_id: str, user_ids: Collection[str]
) -> None:
    session.execute(
        delete(group_members).where(
            group_members.c.org_id == org_id, group_members.c.group_id == group_id
        )
    )
    if user_ids:
        session.execute(
            insert(group_members),
            [{"org_id": org_id, "group_id": group_id, "user_id": u} for u in user_ids],
        )
