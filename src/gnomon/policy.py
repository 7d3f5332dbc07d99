"""Who may do what: the one place permission rules live.

Services call these checks; endpoints never decide on rights themselves. Each check raises
:class:`gnomon.errors.Forbidden` with a message that says which right is missing.

Two kinds of role meet here (DESIGN.md §3): the organization role (``MEMBER``, ``ORG_ADMIN``;
organization keys act as ``ORG_ADMIN``) and connection roles, granted per connection to users
and groups. A user's effective connection role is the highest of its own grant and its groups'.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from gnomon.errors import Forbidden
from gnomon.identity import roles_repository
from gnomon.principal import Principal
from gnomon.store.memo import remembered

OrgRole = Literal["MEMBER", "ORG_ADMIN"]
ORG_ROLES: tuple[str, ...] = ("MEMBER", "ORG_ADMIN")

ConnectionRole = Literal[
    "NO_ACCESS", "VIEWER", "RESTRICTED_QUERIER", "QUERIER", "MODELER", "CONNECTION_ADMIN"
]
# Ordered lowest to highest: a role includes every right of the roles before it.
CONNECTION_ROLES: tuple[str, ...] = (
    "NO_ACCESS",
    "VIEWER",
    "RESTRICTED_QUERIER",
    "QUERIER",
    "MODELER",
    "CONNECTION_ADMIN",
)

# What each connection role adds to the one below it.
_CONNECTION_GRANTS: dict[str, tuple[str, ...]] = {
    "NO_ACCESS": (),
    "VIEWER": ("content:view",),
    "RESTRICTED_QUERIER": ("query:topic",),
    "QUERIER": ("query:sql",),
    "MODELER": ("model:edit",),
    "CONNECTION_ADMIN": ("connection:manage", "connection:grant_roles"),
}

_ORG_GRANTS: dict[str, tuple[str, ...]] = {
    "MEMBER": ("self:read", "groups:read", "user_attributes:read", "api_keys:own"),
    "ORG_ADMIN": (
        "users:manage",
        "groups:manage",
        "user_attributes:manage",
        "api_keys:manage",
        "audit:read",
        "connections:manage",
    ),
}


def role_rank(role: str) -> int:
    return CONNECTION_ROLES.index(role)


def highest_role(roles: list[str] | tuple[str, ...]) -> str:
    return max(roles, key=role_rank, default="NO_ACCESS")


def connection_permissions(role: str) -> list[str]:
    """Every permission a connection role implies (its own and those of the roles below)."""
    out: list[str] = []
    for r in CONNECTION_ROLES[: role_rank(role) + 1]:
        out.extend(_CONNECTION_GRANTS[r])
    return out


def org_role_of(principal: Principal) -> str:
    return "ORG_ADMIN" if principal.is_org_admin else "MEMBER"


def org_permissions(principal: Principal) -> list[str]:
    role = org_role_of(principal)
    return list(_ORG_GRANTS["MEMBER"] + (_ORG_GRANTS["ORG_ADMIN"] if role == "ORG_ADMIN" else ()))


def require_org_admin(principal: Principal, action: str) -> None:
    """Organization keys and users with the ORG_ADMIN role."""
    if not principal.is_org_admin:
        raise Forbidden(f"{action} needs the ORG_ADMIN role")


def require_self_or_admin(principal: Principal, user_id: str | None, action: str) -> None:
    """Admins act on anyone; a user acts on themselves only."""
    if principal.is_org_admin:
        return
    if user_id is None or principal.user_id != user_id:
        raise Forbidden(f"{action} is allowed on your own account only")


def require_member(principal: Principal, action: str) -> None:
    """Any authenticated caller of the organization (kept explicit so the matrix reads well)."""
    if principal.kind not in ("organization", "personal", "system"):
        raise Forbidden(f"{action} needs an organization or personal key")


def require_organization_key(principal: Principal, action: str) -> None:
    """SCIM provisioning runs with organization keys only: an IdP is not a person."""
    if principal.kind not in ("organization", "system"):
        raise Forbidden(f"{action} needs an organization key")


def effective_connection_role(session: Session, principal: Principal, connection_name: str) -> str:
    """The caller's role on a connection.

    Organization keys, the system and ORG_ADMIN users manage every connection; anyone else gets
    the highest of their own grant and their groups' grants, ``NO_ACCESS`` without any.
    """
    if principal.is_org_admin or principal.user_id is None:
        return "CONNECTION_ADMIN" if principal.is_org_admin else "NO_ACCESS"
    return effective_roles_for_user(session, principal.org_id, principal.user_id).get(
        connection_name, "NO_ACCESS"
    )


def effective_roles_for_user(session: Session, org_id: str, user_id: str) -> dict[str, str]:
    """``{connection: highest role}`` over the user's own and its groups' grants."""
    # Every query a user runs checks them: remembered on the event loop (gnomon.store.memo).
    key = ("connection_roles", org_id, user_id)
    return dict(remembered(session, key, lambda s: _effective_roles(s, org_id, user_id)))


def _effective_roles(session: Session, org_id: str, user_id: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, role in roles_repository.roles_reaching_user(session, org_id, user_id):
        if name not in out or role_rank(role) > role_rank(out[name]):
            out[name] = role
    return out


def require_connection_role(
    session: Session, principal: Principal, connection_name: str, minimum: str, action: str
) -> str:
    """Raise unless the caller holds at least ``minimum`` on the connection; returns the role."""
    role = effective_connection_role(session, principal, connection_name)
    if role_rank(role) < role_rank(minimum):
        raise Forbidden(
            f"{action} needs the {minimum} role on connection {connection_name!r} (you have {role})"
        )
    return role
