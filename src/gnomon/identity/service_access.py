"""What a query runs as: a user's effective attribute values and connection role.

The Query API calls these to build access filters (DESIGN.md §3). The rule for values:

1. the user's own value wins;
2. otherwise the values of *all* the user's groups that set one are combined (deduplicated,
   ordered by group name) — so a member of the ``emea`` and ``apac`` groups sees both regions;
3. otherwise the attribute's default value;
4. otherwise the attribute is absent, and a filter on it lets nothing through.

Every value is text (``true``/``false`` for booleans) and every attribute is a tuple, since an
access filter is an ``IN`` list.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gnomon import policy
from gnomon.errors import NotFound
from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import repository as users_repo
from gnomon.identity.values import as_text
from gnomon.principal import Principal
from gnomon.store.memo import remembered

AccessContext = dict[str, tuple[str, ...]]


def access_context_for_user(session: Session, org_id: str, user_id: str) -> AccessContext:
    """Effective attributes of a user (for "run as user_id" and personal keys)."""
    # Every query a user runs needs them: remembered on the event loop (gnomon.store.memo).
    key = ("access_context", org_id, user_id)
    context = remembered(session, key, lambda s: _access_context(s, org_id, user_id))
    return dict(context)  # a copy; its values are tuples


def _access_context(session: Session, org_id: str, user_id: str) -> AccessContext:
    user = users_repo.get_user(session, org_id, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    defs = attrs_repo.definitions_by_name(session, org_id)
    own = attrs_repo.values_for(session, org_id, "user", [user_id]).get(user_id, {})
    group_names = groups_repo.group_names_for_users(session, org_id, [user_id]).get(user_id, [])
    group_ids = groups_repo.group_ids_for_user(session, org_id, user_id)
    by_group = attrs_repo.values_for(session, org_id, "group", group_ids)
    group_name_of = _group_names(session, org_id, group_ids)
    out: AccessContext = {}
    for name, definition in defs.items():
        stored: list[object] | None = own.get(name)
        if stored is None:
            combined: list[object] = []
            for gid in sorted(by_group, key=lambda g: group_name_of.get(g, g)):
                for v in by_group[gid].get(name, []):
                    if v not in combined:
                        combined.append(v)
            stored = combined or None
        if stored is None and definition["default_value"] is not None:
            stored = list(definition["default_value"])
        if stored is not None:
            out[name] = tuple(as_text(v) for v in stored)
    out.update(
        {
            "gnomon_user_id": (user["id"],),
            "gnomon_user_email": (user["email"],),
            "gnomon_user_name": (user["name"],),
            "gnomon_user_groups": tuple(group_names),
            "gnomon_is_org_admin": ("true" if user["org_role"] == "ORG_ADMIN" else "false",),
        }
    )
    return out


def _group_names(session: Session, org_id: str, group_ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for gid in group_ids:
        row = groups_repo.get_group(session, org_id, gid)
        if row is not None:
            out[gid] = row["name"]
    return out


def access_context_for(session: Session, principal: Principal) -> tuple[AccessContext, bool]:
    """``(attributes, unrestricted)``: organization keys and the system are unrestricted."""
    if principal.user_id is None:
        return {}, True
    return access_context_for_user(session, principal.org_id, principal.user_id), False


def effective_connection_role(session: Session, principal: Principal, connection_name: str) -> str:
    """``NO_ACCESS`` … ``CONNECTION_ADMIN``; organization keys and ORG_ADMIN → CONNECTION_ADMIN."""
    return policy.effective_connection_role(session, principal, connection_name)
