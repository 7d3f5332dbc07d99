"""Who may see and change which content: the caller's view of the grant tree, grantee names.

Everything a service needs to answer "may this principal do X here" goes through
:class:`Caller`; the rules themselves are in :mod:`gnomon.content.roles`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gnomon.content import grants_repository as grepo
from gnomon.content import repository as repo
from gnomon.content.roles import (
    ACTION_ROLE,
    ADMIN,
    AccessTree,
    Effective,
    Grant,
    Grantee,
    GranteeType,
    ResourceType,
    Role,
    at_least,
    normalise_role,
)
from gnomon.content.schemas import AccessEntry, AccessSource
from gnomon.errors import Forbidden, Invalid, Issue, NotFound
from gnomon.principal import Principal


@dataclass
class Caller:
    principal: Principal
    tree: AccessTree
    grantees: tuple[Grantee, ...]

    @property
    def is_admin(self) -> bool:
        return self.principal.is_org_admin

    def effective(
        self, resource_type: ResourceType, resource_id: str, folder_id: str | None
    ) -> Effective | None:
        if self.is_admin:
            return ADMIN
        return self.tree.effective(
            self.tree.chain(resource_type, resource_id, folder_id), self.grantees
        )

    def role(self, resource_type: ResourceType, resource_id: str, folder_id: str | None) -> Role:
        eff = self.effective(resource_type, resource_id, folder_id)
        return "NO_ACCESS" if eff is None else eff.role

    def folder_role(self, folder: Mapping[str, Any]) -> Role:
        return self.role("folder", folder["id"], folder["parent_id"])

    def document_role(self, doc: Mapping[str, Any]) -> Role:
        return self.role("document", doc["id"], doc["folder_id"])

    def can(self, role: str, action: str) -> bool:
        return at_least(role, ACTION_ROLE[action])

    def require(self, role: str, action: str, what: str) -> None:
        """Unseen content is a 404 (its existence is not disclosed); seen but not allowed, 403."""
        if not at_least(role, "VIEWER"):
            raise NotFound(f"{what} not found")
        needed = ACTION_ROLE[action]
        if not at_least(role, needed):
            raise Forbidden(
                f"{action.replace('_', ' ')} on {what} needs the {needed} role (you have {role})"
            )

    def require_root(self, action: str) -> None:
        if not self.is_admin:
            raise Forbidden(
                f"{action} at the root needs the ORG_ADMIN role; use a folder you can edit"
            )


def caller(session: Session, principal: Principal) -> Caller:
    org = principal.org_id
    if principal.is_org_admin:
        # Admins never consult grants: skip loading them.
        return Caller(principal, AccessTree({}, []), ())
    grantees: list[Grantee] = []
    if principal.user_id is not None:
        grantees.append(("user", principal.user_id))
        grantees += [("group", g) for g in grepo.group_ids_of_user(session, org, principal.user_id)]
    tree = AccessTree(repo.folder_parents(session, org), grepo.all_grants(session, org))
    return Caller(principal, tree, tuple(grantees))


# ---------------------------------------------------------------- grantee names


def _split(key: str) -> tuple[str | None, str]:
    for prefix in ("group:", "user:"):
        if key.startswith(prefix):
            return prefix[:-1], key[len(prefix) :]
    return None, key


def resolve_grants(
    session: Session,
    org_id: str,
    resource_type: ResourceType,
    resource_id: str,
    permissions: Mapping[str, str],
    *,
    path: tuple[str | int, ...] = ("permissions",),
) -> list[Grant]:
    """Turn the seed's ``{"<group>": "ROLE"}`` map into grants; every unknown name is reported."""
    issues: list[Issue] = []
    wanted_groups: set[str] = set()
    wanted_emails: set[str] = set()
    for key in permissions:
        kind, name = _split(key.strip())
        if kind == "group" or (kind is None and "@" not in name):
            wanted_groups.add(name)
        elif "@" in name:
            wanted_emails.add(name)
    group_ids = grepo.groups_by_name(session, org_id, wanted_groups)
    user_ids = grepo.users_by_email(session, org_id, wanted_emails)
    out: dict[Grantee, Grant] = {}
    for key, raw_role in permissions.items():
        role = normalise_role(raw_role)
        if role is None:
            issues.append(
                Issue(
                    f"unknown content role {raw_role!r}",
                    (*path, key),
                    code="unknown_role",
                    hint="one of NO_ACCESS, VIEWER, EDITOR, MANAGER (CONNECTION_ADMIN = MANAGER)",
                )
            )
            continue
        kind, name = _split(key.strip())
        grantee: Grantee | None = None
        if kind == "user":
            if "@" in name:
                uid = user_ids.get(name.lower())
                grantee = ("user", uid) if uid else None
            else:
                info = grepo.users_info(session, org_id, [name])
                grantee = ("user", name) if name in info else None
        elif kind == "group" or "@" not in name:
            gid = group_ids.get(name)
            grantee = ("group", gid) if gid else None
        else:
            uid = user_ids.get(name.lower())
            grantee = ("user", uid) if uid else None
        if grantee is None:
            what = "user" if kind == "user" or (kind is None and "@" in name) else "group"
            issues.append(
                Issue(
                    f"no {what} named {name!r} in this organization",
                    (*path, key),
                    code="unknown_grantee",
                    hint="create the group first (POST /api/v1/groups) or fix the name",
                )
            )
            continue
        gtype: GranteeType = grantee[0]
        out[grantee] = Grant(resource_type, resource_id, gtype, grantee[1], role)
    if issues:
        raise Invalid(f"{len(issues)} permission grantee(s) could not be resolved", issues)
    return list(out.values())


def grantee_names(session: Session, org_id: str, grants: Iterable[Grant]) -> dict[Grantee, str]:
    """Display names: a group's name, a user's email. Grantees that no longer exist are absent."""
    grants = list(grants)
    groups = grepo.group_names(
        session, org_id, {g.grantee_id for g in grants if g.grantee_type == "group"}
    )
    users = grepo.users_info(
        session, org_id, {g.grantee_id for g in grants if g.grantee_type == "user"}
    )
    out: dict[Grantee, str] = {}
    for g in grants:
        if g.grantee_type == "group" and g.grantee_id in groups:
            out[g.grantee] = groups[g.grantee_id]
        elif g.grantee_type == "user" and g.grantee_id in users:
            out[g.grantee] = str(users[g.grantee_id]["email"])
    return out


def permission_map(session: Session, org_id: str, grants: Iterable[Grant]) -> dict[str, Role]:
    grants = list(grants)
    names = grantee_names(session, org_id, grants)
    return {names[g.grantee]: g.role for g in grants if g.grantee in names}


# ---------------------------------------------------------------- access list


def access_list(
    session: Session,
    org_id: str,
    resource_type: ResourceType,
    resource_id: str,
    folder_id: str | None,
) -> list[AccessEntry]:
    """Every active user who can at least view the resource, with the grant that gives it."""
    tree = AccessTree(repo.folder_parents(session, org_id), grepo.all_grants(session, org_id))
    chain = tree.chain(resource_type, resource_id, folder_id)
    in_chain = tree.grantees_in(chain)
    group_ids = {gid for kind, gid in in_chain if kind == "group"}
    memberships = grepo.members_of_groups(session, org_id, group_ids)
    direct_users = {gid for kind, gid in in_chain if kind == "user"}
    admins = {u["id"] for u in grepo.org_admin_users(session, org_id)}
    candidates = set(memberships) | direct_users | admins
    users = grepo.users_info(session, org_id, candidates)
    folder_paths = {
        fid: f["path"]
        for fid, f in repo.folders_by_ids(
            session, org_id, {rid for rtype, rid in chain if rtype == "folder"}
        ).items()
    }
    names = grantee_names(session, org_id, [g for node in chain for g in tree.grants_on(node)])
    out: list[AccessEntry] = []
    for uid, user in users.items():
        if not user["active"]:
            continue
        if uid in admins:
            out.append(_entry(user, "MANAGER", AccessSource(type="org_admin")))
            continue
        grantees: list[Grantee] = [("user", uid)]
        grantees += [("group", g) for g in sorted(memberships.get(uid, set()))]
        eff = tree.effective(chain, grantees)
        if eff is None or eff.grant is None or not at_least(eff.role, "VIEWER"):
            continue
        g = eff.grant
        source = AccessSource(
            type=g.grantee_type,
            grantee_id=g.grantee_id,
            grantee_name=names.get(g.grantee),
            resource_type=g.resource_type,
            resource_id=g.resource_id,
            path=folder_paths.get(g.resource_id) if g.resource_type == "folder" else None,
            inherited=eff.inherited,
        )
        out.append(_entry(user, eff.role, source))
    return sorted(out, key=lambda e: e.email)


def _entry(user: Mapping[str, Any], role: Role, source: AccessSource) -> AccessEntry:
    return AccessEntry(
        user_id=user["id"], email=user["email"], name=user["name"] or "", role=role, source=source
    )
