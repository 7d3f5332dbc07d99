"""Users: the rules behind ``/api/v1/users`` and SCIM ``/Users`` (both write through here, so a
change made through either emits the same events)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gnomon import events, policy
from gnomon.errors import Conflict, GnomonError, Invalid, Issue, NotFound
from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import refs, values
from gnomon.identity import repository as repo
from gnomon.identity import roles_repository as roles_repo
from gnomon.identity.schemas import User, UserCreate, UserPatch, UserReplace
from gnomon.principal import Principal
from gnomon.util import new_id, utcnow


class _UserData(BaseModel):
    model_config = ConfigDict(extra="allow")
    user: dict[str, Any]


class _UserChangeData(_UserData):
    changes: dict[str, Any]


events.register("user.created", "A user was created (REST or SCIM).", _UserData)
events.register(
    "user.updated",
    "A user changed; `changes` holds the before/after of each changed field.",
    _UserChangeData,
)
events.register("user.deleted", "A user was deactivated (their content stays).", _UserData)
events.register(
    "role.changed",
    "A user's organization role or connection roles changed.",
    _UserChangeData,
)

Mode = Literal["replace", "merge"]
_ROLE_FIELDS = ("org_role", "connection_roles")


@dataclass
class UserWrite:
    """One write to a user, whichever API it came through.

    ``fields`` are column values (email, name, org_role, active, external_id, user_name,
    scim_data); collections are None when untouched, else applied with their mode.
    """

    fields: dict[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] | None = None
    attributes_mode: Mode = "replace"
    roles: Mapping[str, str | None] | None = None
    roles_mode: Mode = "replace"
    groups: Sequence[str] | None = None
    change_log: Mapping[str, Any] | None = None
    # Every attribute definition of the organization by name, when the caller already loaded
    # them in this transaction (saves reading them again).
    definitions: Mapping[str, dict[str, Any]] | None = None


def hydrate(session: Session, org_id: str, rows: Sequence[dict[str, Any]]) -> list[User]:
    """REST representations of user rows, loading values, grants and groups in bulk."""
    ids = [r["id"] for r in rows]
    defs = attrs_repo.definitions_by_name(session, org_id) if ids else {}
    vals = attrs_repo.values_for(session, org_id, "user", ids)
    grants = roles_repo.grants_for(session, org_id, "user", ids)
    group_names = groups_repo.group_names_for_users(session, org_id, ids)
    out = []
    for r in rows:
        own = vals.get(r["id"], {})
        out.append(
            User(
                id=r["id"],
                email=r["email"],
                name=r["name"],
                org_role=r["org_role"],
                active=bool(r["active"]),
                external_id=r.get("external_id"),
                user_attributes={n: values.present(defs[n], v) for n, v in own.items()},
                connection_roles=grants.get(r["id"], {}),
                groups=group_names.get(r["id"], []),
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
        )
    return out


def _one(session: Session, org_id: str, row: dict[str, Any]) -> User:
    return hydrate(session, org_id, [row])[0]


def get_row(session: Session, principal: Principal, user_id: str) -> dict[str, Any]:
    row = repo.get_user(session, principal.org_id, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


def _check_unique(
    session: Session, org_id: str, email: str | None, user_name: str | None, user_id: str | None
) -> None:
    if user_id is None and email is not None and user_name is not None:
        # A new user: both checks in one statement.
        email_taken, name_taken = repo.find_taken(session, org_id, email, user_name)
        if email_taken:
            raise Conflict(f"a user with email {email!r} already exists")
        if name_taken:
            raise Conflict(f"a user with user name {user_name!r} already exists")
        return
    if email is not None:
        other = repo.find_by_email(session, org_id, email)
        if other is not None and other["id"] != user_id:
            raise Conflict(f"a user with email {email!r} already exists")
    if user_name is not None:
        other = repo.find_by_user_name(session, org_id, user_name)
        if other is not None and other["id"] != user_id:
            raise Conflict(f"a user with user name {user_name!r} already exists")


@dataclass
class _Resolved:
    """A write's names resolved to ids, with what rendering the written user needs."""

    attrs: dict[str, list[Any] | None] | None
    roles: dict[str, str | None] | None
    group_ids: list[str] | None
    group_names: list[str] | None
    defs_by_id: dict[str, dict[str, Any]]


def _resolve(session: Session, org_id: str, write: UserWrite) -> _Resolved:
    issues: list[Issue] = []
    attrs: dict[str, list[Any] | None] | None = None
    defs: Mapping[str, dict[str, Any]] = {}
    if write.attributes is not None:
        defs = (
            write.definitions
            if write.definitions is not None
            else attrs_repo.definitions_by_name(session, org_id, list(write.attributes))
        )
        attrs = refs.attribute_values(session, org_id, write.attributes, issues, defs)
    roles = (
        refs.connection_grants(session, org_id, write.roles, issues)
        if write.roles is not None
        else None
    )
    group_ids = (
        refs.group_ids(session, org_id, write.groups, issues) if write.groups is not None else None
    )
    if issues:
        raise Invalid("the user refers to things that do not exist or are invalid", issues)
    group_names = list(dict.fromkeys(write.groups)) if write.groups is not None else None
    return _Resolved(attrs, roles, group_ids, group_names, {d["id"]: d for d in defs.values()})


def _store_collections(
    session: Session,
    org_id: str,
    user_id: str,
    write: UserWrite,
    resolved: _Resolved,
    *,
    new_user: bool = False,
) -> None:
    if resolved.attrs is not None:
        attrs_repo.set_values(
            session,
            org_id,
            ("user", user_id),
            resolved.attrs,
            replace_all=write.attributes_mode == "replace",
            new_owner=new_user,
        )
    if resolved.roles is not None:
        roles_repo.set_grants(
            session,
            org_id,
            "user",
            user_id,
            resolved.roles,
            replace_all=write.roles_mode == "replace",
            new_owner=new_user,
        )
    if resolved.group_ids is not None:
        groups_repo.set_user_groups(session, org_id, user_id, resolved.group_ids, new_user=new_user)


def _created(session: Session, org_id: str, row: dict[str, Any], resolved: _Resolved) -> User:
    """The user just created, from the values written (what ``hydrate`` would read back).

    Grants and groups read back in the store's name order; with more than one, the store is
    asked, so that the order is the store's collation, as for every later read.
    """
    user_id = row["id"]
    attributes = {
        resolved.defs_by_id[a]["name"]: values.present(resolved.defs_by_id[a], list(v))
        for a, v in (resolved.attrs or {}).items()
        if v is not None
    }
    roles = {n: r for n, r in (resolved.roles or {}).items() if r is not None}
    if len(roles) > 1:
        roles = roles_repo.grants_for(session, org_id, "user", [user_id]).get(user_id, {})
    group_names = resolved.group_names or []
    if len(group_names) > 1:
        group_names = groups_repo.group_names_for_users(session, org_id, [user_id]).get(user_id, [])
    return User(
        id=user_id,
        email=row["email"],
        name=row["name"],
        org_role=row["org_role"],
        active=bool(row["active"]),
        external_id=row.get("external_id"),
        user_attributes=attributes,
        connection_roles=roles,
        groups=group_names,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def create_user(session: Session, principal: Principal, write: UserWrite) -> User:
    return create_user_row(session, principal, write)[0]


def create_user_row(
    session: Session, principal: Principal, write: UserWrite
) -> tuple[User, dict[str, Any]]:
    """Create a user; returns it with the row written (SCIM renders from both)."""
    policy.require_org_admin(principal, "creating users")
    org_id = principal.org_id
    resolved = _resolve(session, org_id, write)
    fields = dict(write.fields)
    fields["email"] = fields["email"].lower()
    fields.setdefault("user_name", fields["email"])
    _check_unique(session, org_id, fields["email"], fields["user_name"], None)
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "org_id": org_id,
        "name": "",
        "org_role": "MEMBER",
        "active": True,
        "external_id": None,
        "scim_data": None,
        "version": 1,
        **fields,
        "created_at": now,
        "updated_at": now,
    }
    repo.insert_user(session, row)
    _store_collections(session, org_id, row["id"], write, resolved, new_user=True)
    user = _created(session, org_id, row, resolved)
    events.emit(
        session,
        principal,
        events.Event(
            "user.created",
            "user",
            user.id,
            {"user": user.model_dump(mode="json")},
            change_log=write.change_log,
        ),
    )
    return user, row


def update_user(
    session: Session, principal: Principal, row: dict[str, Any], write: UserWrite
) -> User:
    """Apply a write to an existing user; emits user.updated (and role.changed, user.deleted)."""
    return update_user_row(session, principal, row, write)[0]


def update_user_row(
    session: Session, principal: Principal, row: dict[str, Any], write: UserWrite
) -> tuple[User, dict[str, Any]]:
    """:func:`update_user`, also returning the row as it now is."""
    policy.require_org_admin(principal, "changing users")
    org_id = principal.org_id
    before = _one(session, org_id, row)
    resolved = _resolve(session, org_id, write)
    fields = dict(write.fields)
    if fields.get("email") is not None:
        fields["email"] = fields["email"].lower()
        # A user name that was the email follows it (REST users never chose one).
        if "user_name" not in fields and row.get("user_name") in (None, row["email"]):
            fields["user_name"] = fields["email"]
    _check_unique(session, org_id, fields.get("email"), fields.get("user_name"), row["id"])
    if fields.get("active") is False and principal.user_id == row["id"]:
        raise Conflict("you cannot deactivate your own user; ask another admin")
    if fields.get("active") is True:
        fields["scim_deleted_at"] = None  # reactivated: visible to SCIM again
    fields["updated_at"] = utcnow()
    fields["version"] = int(row.get("version") or 1) + 1
    repo.update_user(session, org_id, row["id"], fields)
    _store_collections(session, org_id, row["id"], write, resolved)
    after_row = {**row, **fields}
    after = _one(session, org_id, after_row)
    _emit_changes(session, principal, before, after, write.change_log)
    return after, after_row


def _emit_changes(
    session: Session,
    principal: Principal,
    before: User,
    after: User,
    change_log: Mapping[str, Any] | None,
) -> None:
    b = before.model_dump(mode="json", exclude={"updated_at"})
    a = after.model_dump(mode="json", exclude={"updated_at"})
    changes = events.diff(b, a)
    if not changes:
        return
    data = {"user": after.model_dump(mode="json"), "changes": changes}
    events.emit(
        session,
        principal,
        events.Event(
            "user.updated", "user", after.id, data, changes=changes, change_log=change_log
        ),
    )
    role_changes = {k: v for k, v in changes.items() if k in _ROLE_FIELDS}
    if role_changes:
        events.emit(
            session,
            principal,
            events.Event(
                "role.changed",
                "user",
                after.id,
                {"user": data["user"], "changes": role_changes},
                changes=role_changes,
                change_log=change_log,
            ),
        )
    if before.active and not after.active:
        events.emit(
            session,
            principal,
            events.Event(
                "user.deleted", "user", after.id, {"user": data["user"]}, change_log=change_log
            ),
        )


# REST entry points -----------------------------------------------------------------------


def create(session: Session, principal: Principal, body: UserCreate) -> User:
    fields = body.model_dump(include={"email", "name", "org_role", "active", "external_id"})
    return create_user(
        session,
        principal,
        UserWrite(
            fields=fields,
            attributes=body.user_attributes,
            roles=dict(body.connection_roles),
            groups=body.groups,
        ),
    )


def create_many(
    session: Session, principal: Principal, bodies: Sequence[UserCreate]
) -> list[User | GnomonError]:
    """Create each user in a savepoint of the caller's transaction: an item that fails (an
    email taken, a group that does not exist) is rolled back alone, with its events, and its
    error is returned in its place; the others stand."""
    policy.require_org_admin(principal, "creating users")
    outcomes: list[User | GnomonError] = []
    for body in bodies:
        try:
            with session.begin_nested():
                outcomes.append(create(session, principal, body))
        except GnomonError as exc:
            outcomes.append(exc)
    return outcomes


_SCALARS = ("email", "name", "org_role", "active", "external_id")


def _write_from(body: UserReplace | UserPatch, mode: Mode) -> UserWrite:
    given = body.model_dump(exclude_unset=True)
    fields = {k: given[k] for k in _SCALARS if k in given}
    nulls = [
        k for k in ("email", "name", "org_role", "active") if k in fields and fields[k] is None
    ]
    if nulls:
        raise Invalid("fields cannot be null", [Issue(f"{k} cannot be null", (k,)) for k in nulls])
    return UserWrite(
        fields=fields,
        attributes=given.get("user_attributes"),
        attributes_mode=mode,
        roles=given.get("connection_roles"),
        roles_mode=mode,
        groups=given.get("groups"),
        change_log=given.get("change_log"),
    )


def replace(session: Session, principal: Principal, user_id: str, body: UserReplace) -> User:
    row = get_row(session, principal, user_id)
    return update_user(session, principal, row, _write_from(body, "replace"))


def patch(session: Session, principal: Principal, user_id: str, body: UserPatch) -> User:
    row = get_row(session, principal, user_id)
    return update_user(session, principal, row, _write_from(body, "merge"))


def deactivate(session: Session, principal: Principal, user_id: str) -> None:
    """DELETE is a soft delete: the user can no longer authenticate; their content stays."""
    row = get_row(session, principal, user_id)
    policy.require_org_admin(principal, "deactivating users")
    if row["active"]:
        update_user(session, principal, row, UserWrite(fields={"active": False}))


def get(session: Session, principal: Principal, user_id: str) -> User:
    row = get_row(session, principal, user_id)
    policy.require_self_or_admin(principal, user_id, "reading users")
    return _one(session, principal.org_id, row)


def list_users(
    session: Session,
    principal: Principal,
    *,
    email: str | None,
    q: str | None,
    group: str | None,
    active: bool | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[User], int]:
    policy.require_org_admin(principal, "listing users")
    group_id: str | None = None
    if group is not None:
        found = groups_repo.groups_by_names(session, principal.org_id, [group])
        if group not in found:
            return [], 0
        group_id = found[group]["id"]
    rows, total = repo.list_users(
        session,
        principal.org_id,
        email=email,
        q=q,
        group_id=group_id,
        active=active,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    return hydrate(session, principal.org_id, rows), total
