"""Groups: flat, name unique per organization; members, attribute values, connection roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gnomon import events, policy
from gnomon.errors import Conflict, Invalid, Issue, NotFound
from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import groups_repository as repo
from gnomon.identity import refs, values
from gnomon.identity import repository as users_repo
from gnomon.identity import roles_repository as roles_repo
from gnomon.identity.schemas import Group, GroupCreate, GroupMember, GroupPatch
from gnomon.principal import Principal
from gnomon.util import new_id, utcnow


class _GroupData(BaseModel):
    model_config = ConfigDict(extra="allow")
    group: dict[str, Any]


events.register("group.created", "A group was created (REST or SCIM).", _GroupData)
events.register("group.updated", "A group's name, members, values or roles changed.", _GroupData)
events.register("group.deleted", "A group was deleted.", _GroupData)


@dataclass
class GroupWrite:
    """One write to a group, whichever API it came through (see ``users_service.UserWrite``)."""

    fields: dict[str, Any] = field(default_factory=dict)
    members: Sequence[str] | None = None
    attributes: Mapping[str, Any] | None = None
    attributes_mode: str = "replace"
    roles: Mapping[str, str | None] | None = None
    roles_mode: str = "replace"


def hydrate(session: Session, org_id: str, rows: Sequence[dict[str, Any]]) -> list[Group]:
    ids = [r["id"] for r in rows]
    defs = attrs_repo.definitions_by_name(session, org_id) if ids else {}
    vals = attrs_repo.values_for(session, org_id, "group", ids)
    grants = roles_repo.grants_for(session, org_id, "group", ids)
    members = repo.members_of(session, org_id, ids)
    return [
        Group(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            external_id=r["external_id"],
            members=[GroupMember(**m) for m in members.get(r["id"], [])],
            user_attributes={
                n: values.present(defs[n], v) for n, v in vals.get(r["id"], {}).items()
            },
            connection_roles=grants.get(r["id"], {}),
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


def _one(session: Session, org_id: str, row: dict[str, Any]) -> Group:
    return hydrate(session, org_id, [row])[0]


def get_row(session: Session, principal: Principal, group_id: str) -> dict[str, Any]:
    row = repo.get_group(session, principal.org_id, group_id)
    if row is None:
        raise NotFound(f"group {group_id} not found")
    return row


def _member_ids(
    session: Session, org_id: str, ids: Sequence[str], path: str, issues: list[Issue]
) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    found = users_repo.get_users(session, org_id, wanted)
    for i, uid in enumerate(wanted):
        if uid not in found:
            issues.append(Issue(f"user {uid!r} does not exist", (path, i), code="unknown_user"))
    return [u for u in wanted if u in found]


def _check_name(session: Session, org_id: str, name: str | None, group_id: str | None) -> None:
    if name is None:
        return
    other = repo.groups_by_names(session, org_id, [name]).get(name)
    if other is not None and other["id"] != group_id:
        raise Conflict(f"a group named {name!r} already exists")


def _apply(
    session: Session, org_id: str, group_id: str, write: GroupWrite, issues: list[Issue]
) -> None:
    attrs = (
        refs.attribute_values(session, org_id, write.attributes, issues)
        if write.attributes is not None
        else None
    )
    roles = (
        refs.connection_grants(session, org_id, write.roles, issues)
        if write.roles is not None
        else None
    )
    members = (
        _member_ids(session, org_id, write.members, "members", issues)
        if write.members is not None
        else None
    )
    if issues:
        raise Invalid("the group refers to things that do not exist or are invalid", issues)
    if attrs is not None:
        attrs_repo.set_values(
            session,
            org_id,
            ("group", group_id),
            attrs,
            replace_all=write.attributes_mode == "replace",
        )
    if roles is not None:
        roles_repo.set_grants(
            session, org_id, "group", group_id, roles, replace_all=write.roles_mode == "replace"
        )
    if members is not None:
        repo.set_group_members(session, org_id, group_id, members)


def create_group(session: Session, principal: Principal, write: GroupWrite) -> Group:
    policy.require_org_admin(principal, "creating groups")
    org_id = principal.org_id
    _check_name(session, org_id, write.fields["name"], None)
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "org_id": org_id,
        "description": None,
        "external_id": None,
        "scim_data": None,
        "version": 1,
        **write.fields,
        "created_at": now,
        "updated_at": now,
    }
    repo.insert_group(session, row)
    _apply(session, org_id, row["id"], write, [])
    group = _one(session, org_id, row)
    events.emit(
        session,
        principal,
        events.Event("group.created", "group", group.id, {"group": group.model_dump(mode="json")}),
    )
    return group


def update_group(
    session: Session, principal: Principal, row: dict[str, Any], write: GroupWrite
) -> Group:
    policy.require_org_admin(principal, "changing groups")
    org_id = principal.org_id
    before = _one(session, org_id, row)
    _check_name(session, org_id, write.fields.get("name"), row["id"])
    fields = {
        **write.fields,
        "updated_at": utcnow(),
        "version": int(row.get("version") or 1) + 1,
    }
    repo.update_group(session, org_id, row["id"], fields)
    _apply(session, org_id, row["id"], write, [])
    after = _one(session, org_id, {**row, **fields})
    b = before.model_dump(mode="json", exclude={"updated_at"})
    a = after.model_dump(mode="json", exclude={"updated_at"})
    changes = events.diff(b, a)
    if changes:
        events.emit(
            session,
            principal,
            events.Event(
                "group.updated",
                "group",
                after.id,
                {"group": after.model_dump(mode="json"), "changes": changes},
                changes=changes,
            ),
        )
    return after


def delete_group(session: Session, principal: Principal, group_id: str) -> None:
    row = get_row(session, principal, group_id)
    policy.require_org_admin(principal, "deleting groups")
    group = _one(session, principal.org_id, row)
    repo.delete_group(session, principal.org_id, group_id)
    events.emit(
        session,
        principal,
        events.Event("group.deleted", "group", group_id, {"group": group.model_dump(mode="json")}),
    )


# REST entry points -----------------------------------------------------------------------


def create(session: Session, principal: Principal, body: GroupCreate) -> Group:
    return create_group(
        session,
        principal,
        GroupWrite(
            fields=body.model_dump(include={"name", "description", "external_id"}),
            members=body.members,
            attributes=body.user_attributes,
            roles=dict(body.connection_roles),
        ),
    )


def patch(session: Session, principal: Principal, group_id: str, body: GroupPatch) -> Group:
    row = get_row(session, principal, group_id)
    given = body.model_dump(exclude_unset=True)
    if "name" in given and given["name"] is None:
        raise Invalid("name cannot be null", [Issue("name cannot be null", ("name",))])
    members: list[str] | None = given.get("members")
    if given.get("add_members") or given.get("remove_members"):
        current = members
        if current is None:
            current = [
                m["id"] for m in repo.members_of(session, principal.org_id, [row["id"]])[row["id"]]
            ]
        removed = set(given.get("remove_members") or [])
        members = [m for m in current if m not in removed] + list(given.get("add_members") or [])
    write = GroupWrite(
        fields={k: given[k] for k in ("name", "description", "external_id") if k in given},
        members=members,
        attributes=given.get("user_attributes"),
        attributes_mode="merge",
        roles=given.get("connection_roles"),
        roles_mode="merge",
    )
    return update_group(session, principal, row, write)


def get(session: Session, principal: Principal, group_id: str) -> Group:
    row = get_row(session, principal, group_id)
    policy.require_member(principal, "reading groups")
    return _one(session, principal.org_id, row)


def list_groups(
    session: Session,
    principal: Principal,
    *,
    name: str | None,
    q: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Group], int]:
    policy.require_member(principal, "reading groups")
    rows, total = repo.list_groups(
        session,
        principal.org_id,
        name=name,
        q=q,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    return hydrate(session, principal.org_id, rows), total
