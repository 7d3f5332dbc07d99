"""Every SQL statement about connection role grants (by connection name, to users and groups)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gnomon.store.prepared import insert_rows
from gnomon.store.tables_identity import connection_roles, group_members


def _owner_col(kind: str) -> Any:
    return connection_roles.c.user_id if kind == "user" else connection_roles.c.group_id


def grants_for(
    session: Session, org_id: str, kind: str, owner_ids: Collection[str]
) -> dict[str, dict[str, str]]:
    """``{owner_id: {connection name: role}}`` for users or groups."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    if not owner_ids:
        return out
    col = _owner_col(kind)
    rows = session.execute(
        select(col, connection_roles.c.connection_name, connection_roles.c.role)
        .where(connection_roles.c.org_id == org_id, col.in_(list(owner_ids)))
        .order_by(connection_roles.c.connection_name)
    )
    for owner, name, role in rows:
        out[owner][name] = role
    return out


def roles_reaching_user(session: Session, org_id: str, user_id: str) -> list[tuple[str, str]]:
    """Every (connection, role) granted to the user directly or through any of its groups."""
    via_groups = select(group_members.c.group_id).where(
        group_members.c.org_id == org_id, group_members.c.user_id == user_id
    )
    rows = session.execute(
        select(connection_roles.c.connection_name, connection_roles.c.role).where(
            connection_roles.c.org_id == org_id,
            (connection_roles.c.user_id == user_id) | connection_roles.c.group_id.in_(via_groups),
        )
    )
    return [(name, role) for name, role in rows]


def set_grants(
    session: Session,
    org_id: str,
    kind: str,
    owner_id: str,
    grants: Mapping[str, str | None],
    *,
    replace_all: bool,
    new_owner: bool = False,
) -> None:
    """Write grants by connection name; None removes one (see attributes' ``set_values``)."""
    col = _owner_col(kind)
    cond = [connection_roles.c.org_id == org_id, col == owner_id]
    if new_owner:
        pass
    elif replace_all:
        session.execute(delete(connection_roles).where(*cond))
    elif grants:
        session.execute(
            delete(connection_roles).where(
                *cond, connection_roles.c.connection_name.in_(list(grants))
            )
        )
    rows = [
        {
            "org_id": org_id,
            "connection_name": name,
            "user_id": owner_id if kind == "user" else None,
            "group_id": owner_id if kind == "group" else None,
            "role": role,
        }
        for name, role in grants.items()
        if role is not None
    ]
    insert_rows(session, connection_roles, rows)
