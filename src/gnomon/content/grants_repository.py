"""Every SQL statement about content grants, plus the identity lookups access checks need.

Identity owns users and groups; the few reads content needs that identity's repositories do not
offer (org admins, memberships restricted to some groups) are written here against its tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from gnomon.content.roles import Grant
from gnomon.store.tables import users
from gnomon.store.tables_content import content_grants as grants
from gnomon.store.tables_identity import group_members, groups


def _grant(row: Any) -> Grant:
    return Grant(
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        grantee_type=row.grantee_type,
        grantee_id=row.grantee_id,
        role=row.role,
    )


def all_grants(session: Session, org_id: str) -> list[Grant]:
    rows = session.execute(select(grants).where(grants.c.org_id == org_id))
    return [_grant(r) for r in rows]


def grants_on(session: Session, org_id: str, resource_type: str, resource_id: str) -> list[Grant]:
    rows = session.execute(
        select(grants).where(
            grants.c.org_id == org_id,
            grants.c.resource_type == resource_type,
            grants.c.resource_id == resource_id,
        )
    )
    return [_grant(r) for r in rows]


def replace_grants(
    session: Session, org_id: str, resource_type: str, resource_id: str, new: Collection[Grant]
) -> None:
    delete_grants(session, org_id, resource_type, [resource_id])
    if new:
        session.execute(
            insert(grants),
            [
                {
                    "org_id": org_id,
                    "resource_type": g.resource_type,
                    "resource_id": g.resource_id,
                    "grantee_type": g.grantee_type,
                    "grantee_id": g.grantee_id,
                    "role": g.role,
                }
                for g in new
            ],
        )


def delete_grants(
    session: Session, org_id: str, resource_type: str, resource_ids: Collection[str]
) -> None:
    if resource_ids:
        session.execute(
            delete(grants).where(
                grants.c.org_id == org_id,
                grants.c.resource_type == resource_type,
                grants.c.resource_id.in_(list(resource_ids)),
            )
        )


# ---------------------------------------------------------------- identity reads


def group_ids_of_user(session: Session, org_id: str, user_id: str) -> list[str]:
    return list(
        session.execute(
            select(group_members.c.group_id).where(
                group_members.c.org_id == org_id, group_members.c.user_id == user_id
            )
        ).scalars()
    )


def groups_by_name(session: Session, org_id: str, names: Collection[str]) -> dict[str, str]:
    """Group name → id for the names that exist."""
    if not names:
        return {}
    rows = session.execute(
        select(groups.c.name, groups.c.id).where(
            groups.c.org_id == org_id, groups.c.name.in_(list(names))
        )
    )
    return {a: b for a, b in rows.all()}  # noqa: C416 (rows are Row objects)


def group_names(session: Session, org_id: str, ids: Collection[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(groups.c.id, groups.c.name).where(
            groups.c.org_id == org_id, groups.c.id.in_(list(ids))
        )
    )
    return {a: b for a, b in rows.all()}  # noqa: C416 (rows are Row objects)


def users_by_email(session: Session, org_id: str, emails: Collection[str]) -> dict[str, str]:
    """Lower-cased email → user id."""
    if not emails:
        return {}
    rows = session.execute(
        select(users.c.email, users.c.id).where(
            users.c.org_id == org_id, users.c.email.in_([e.lower() for e in emails])
        )
    )
    return {email.lower(): uid for email, uid in rows}


def users_info(session: Session, org_id: str, ids: Collection[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        select(users.c.id, users.c.email, users.c.name, users.c.active, users.c.org_role).where(
            users.c.org_id == org_id, users.c.id.in_(list(ids))
        )
    ).mappings()
    return {r["id"]: dict(r) for r in rows}


def org_admin_users(session: Session, org_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(users.c.id, users.c.email, users.c.name).where(
            users.c.org_id == org_id, users.c.org_role == "ORG_ADMIN", users.c.active.is_(True)
        )
    ).mappings()
    return [dict(r) for r in rows]


def members_of_groups(
    session: Session, org_id: str, group_ids: Collection[str]
) -> dict[str, set[str]]:
    """user id → the ids (among ``group_ids``) of the groups the user belongs to."""
    out: dict[str, set[str]] = defaultdict(set)
    if not group_ids:
        return out
    rows = session.execute(
        select(group_members.c.user_id, group_members.c.group_id).where(
            group_members.c.org_id == org_id, group_members.c.group_id.in_(list(group_ids))
        )
    )
    for uid, gid in rows:
        out[uid].add(gid)
    return out
