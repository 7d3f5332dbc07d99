"""Reading and replacing the grants on one folder or document (shared by both services)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from gnomon.content import access, catalog
from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.roles import AccessTree, Grant, ResourceType
from gnomon.content.schemas import GrantOut, InheritedGrant, Permissions
from gnomon.principal import Principal


def describe(
    session: Session, org_id: str, resource_type: ResourceType, resource_id: str, parent: str | None
) -> Permissions:
    """The grants set on a resource and the ancestor grants still in force below it."""
    tree = AccessTree(repo.folder_parents(session, org_id), grepo.all_grants(session, org_id))
    own = tree.grants_on((resource_type, resource_id))
    own_grantees = {g.grantee for g in own}
    inherited: dict[tuple[str, str], Grant] = {}
    for node in tree.folder_chain(parent):
        for g in tree.grants_on(node):
            if g.grantee not in own_grantees and g.grantee not in inherited:
                inherited[g.grantee] = g
    names = access.grantee_names(session, org_id, [*own, *inherited.values()])
    paths = {
        fid: f["path"]
        for fid, f in repo.folders_by_ids(
            session, org_id, {g.resource_id for g in inherited.values()}
        ).items()
    }
    return Permissions(
        resource_type=resource_type,
        resource_id=resource_id,
        permissions={names[g.grantee]: g.role for g in own if g.grantee in names},
        grants=[
            GrantOut(
                grantee_type=g.grantee_type,
                grantee_id=g.grantee_id,
                grantee_name=names[g.grantee],
                role=g.role,
            )
            for g in sorted(own, key=lambda g: names.get(g.grantee, ""))
            if g.grantee in names
        ],
        inherited=[
            InheritedGrant(
                grantee_type=g.grantee_type,
                grantee_id=g.grantee_id,
                grantee_name=names[g.grantee],
                role=g.role,
                from_type=g.resource_type,
                from_id=g.resource_id,
                from_path=paths.get(g.resource_id),
            )
            for g in sorted(inherited.values(), key=lambda g: names.get(g.grantee, ""))
            if g.grantee in names
        ],
    )


def replace(
    session: Session,
    principal: Principal,
    resource_type: ResourceType,
    resource_id: str,
    new: list[Grant],
    *,
    emit_event: bool = True,
) -> dict[str, str]:
    """Store exactly ``new`` on the resource; emits ``permissions.changed`` when it differs."""
    org = principal.org_id
    before = grepo.grants_on(session, org, resource_type, resource_id)
    if {(g.grantee, g.role) for g in before} == {(g.grantee, g.role) for g in new}:
        return {k: str(v) for k, v in access.permission_map(session, org, before).items()}
    grepo.replace_grants(session, org, resource_type, resource_id, new)
    before_map: Mapping[str, str] = access.permission_map(session, org, before)
    after_map: dict[str, str] = dict(access.permission_map(session, org, new))
    if emit_event:
        catalog.emit(
            session,
            principal,
            "permissions.changed",
            resource_type,
            resource_id,
            {
                "resource_type": resource_type,
                "resource_id": resource_id,
                "permissions": after_map,
            },
            changes={"permissions": {"before": dict(before_map), "after": after_map}},
        )
    return after_map


def creator_grant(
    principal: Principal, resource_type: ResourceType, resource_id: str
) -> list[Grant]:
    """A user who is not an org admin keeps MANAGER on what they create (else they could lock
    themselves out of it by granting only their groups)."""
    if principal.is_org_admin or principal.user_id is None:
        return []
    return [Grant(resource_type, resource_id, "user", principal.user_id, "MANAGER")]
