"""``GET /api/v1/whoami``: the caller, its roles and the permissions they imply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from gnomon import policy
from gnomon.api.deps import CurrentPrincipal, ReadSession
from gnomon.api.envelope import One, one
from gnomon.api.errors import common_responses
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import repository as users_repo
from gnomon.identity.connections_lookup import known_connection_names
from gnomon.identity.schemas import ConnectionAccess, WhoAmI
from gnomon.identity.service_access import access_context_for
from gnomon.principal import Principal

router = APIRouter(tags=["system"], responses=common_responses())


def describe(session: Session, principal: Principal) -> WhoAmI:
    names = known_connection_names(session, principal.org_id)
    email = name = None
    groups: list[str] = []
    if principal.user_id is not None:
        user = users_repo.get_user(session, principal.org_id, principal.user_id)
        if user is not None:
            email, name = user["email"], user["name"]
        groups = groups_repo.group_names_for_users(
            session, principal.org_id, [principal.user_id]
        ).get(principal.user_id, [])
        names |= set(policy.effective_roles_for_user(session, principal.org_id, principal.user_id))
    connections = {}
    for conn in sorted(names):
        role = policy.effective_connection_role(session, principal, conn)
        connections[conn] = ConnectionAccess(
            role=role,
            permissions=policy.connection_permissions(role),
        )
    attrs, _unrestricted = access_context_for(session, principal)
    return WhoAmI(
        org_id=principal.org_id,
        kind=principal.kind,
        user_id=principal.user_id,
        key_id=principal.key_id,
        is_org_admin=principal.is_org_admin,
        org_role=policy.org_role_of(principal),
        label=principal.label,
        email=email,
        name=name,
        groups=groups,
        permissions=policy.org_permissions(principal),
        connections=connections,
        user_attributes={k: list(v) for k, v in attrs.items()},
    )


@router.get("/whoami", name="whoami", response_model=One[WhoAmI])
def whoami(session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(describe(session, principal))
