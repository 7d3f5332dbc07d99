"""SCIM operations on users and groups, written through identity's services.

Every write goes through ``users_service``/``groups_service``: the same rules, the same events
(``user.created``, ``user.updated`` …) as the REST API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from scim2_models import Context, PatchOp, ScimFilter, SearchRequest
from scim2_models.path.expressions import AttrPath, Comparison
from sqlalchemy.orm import Session

from gnomon import policy
from gnomon.errors import NotFound, PreconditionFailed
from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import attributes_service, groups_service, users_service
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import repository as users_repo
from gnomon.identity.groups_service import GroupWrite
from gnomon.identity.schemas import User
from gnomon.principal import Principal
from gnomon.scim import mapping as m
from gnomon.scim.errors import ScimError
from gnomon.scim.models import (
    GNOMON_USER_SCHEMA,
    MAX_RESULTS,
    GnomonUser,
    ScimGroup,
    ScimUser,
)
from gnomon.scim.settings import attribute_map
from gnomon.util import utcnow

Doc = dict[str, Any]


def _validate(model: Any, payload: Any, ctx: Context) -> Any:
    try:
        return model.model_validate(payload, scim_ctx=ctx)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        scim_type = "mutability" if "mutab" in first.get("type", "") else "invalidValue"
        if "filter" in [str(p) for p in first.get("loc", ())]:
            scim_type = "invalidFilter"
        raise ScimError(400, f"{where}: {first.get('msg')}", scim_type) from exc


def _request_doc(model: Any, payload: Any, ctx: Context) -> Doc:
    resource = _validate(model, payload, ctx)
    doc: Doc = resource.model_dump(scim_ctx=ctx)
    return doc


def _check_etag(if_match: str | None, version: int) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {t.strip() for t in if_match.split(",")}
    if m.etag(version) not in wanted and f'"{version}"' not in wanted:
        raise PreconditionFailed("the resource changed since you read it (ETag mismatch)")


_MODELS: dict[str, Any] = {"User": ScimUser, "Group": ScimGroup}
_FILTERS: dict[str, Any] = {"User": ScimFilter[ScimUser], "Group": ScimFilter[ScimGroup]}


# Users ------------------------------------------------------------------------------------


class UserView:
    """Renders users as SCIM documents for one request (caches what rendering looks up)."""

    def __init__(self, session: Session, principal: Principal, base_url: str) -> None:
        self.session = session
        self.principal = principal
        self.base_url = base_url
        self.mapping = attribute_map()

    def manager_of(self, email: str) -> dict[str, Any] | None:
        row = users_repo.find_by_email(self.session, self.principal.org_id, email)
        if row is None:
            return None
        return {
            "value": row["id"],
            "$ref": f"{self.base_url}/Users/{row['id']}",
            "displayName": row["name"] or row["email"],
        }

    def manager_email(self, user_id: str) -> str | None:
        row = users_repo.get_user(self.session, self.principal.org_id, user_id)
        return None if row is None else str(row["email"])

    def render(self, rows: list[dict[str, Any]]) -> list[Doc]:
        users = users_service.hydrate(self.session, self.principal.org_id, rows)
        return self.render_users(users, rows)

    def render_users(self, users: list[User], rows: list[dict[str, Any]]) -> list[Doc]:
        """Render users already hydrated (e.g. just written), with their rows."""
        memberships = _group_refs(self.session, self.principal.org_id, users)
        return [
            m.to_scim_user(
                u, r, memberships.get(r["id"], []), self.mapping, self.manager_of, self.base_url
            )
            for u, r in zip(users, rows, strict=True)
        ]


def _group_refs(
    session: Session, org_id: str, users: list[User]
) -> dict[str, list[tuple[str, str]]]:
    """``(group id, name)`` of each user's groups (``User.groups`` already holds the names)."""
    names = {u.id: u.groups for u in users if u.groups}
    if not names:
        return {}
    by_name = groups_repo.groups_by_names(session, org_id, {n for v in names.values() for n in v})
    return {uid: [(by_name[n]["id"], n) for n in ns if n in by_name] for uid, ns in names.items()}


def _visible_user(session: Session, principal: Principal, user_id: str) -> dict[str, Any]:
    row = users_repo.get_user(session, principal.org_id, user_id)
    if row is None or row.get("scim_deleted_at") is not None:
        raise NotFound(f"User {user_id} not found")
    return row


def get_user(session: Session, principal: Principal, base_url: str, user_id: str) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    return UserView(session, principal, base_url).render(
        [_visible_user(session, principal, user_id)]
    )[0]


def _write_user(
    session: Session,
    principal: Principal,
    view: UserView,
    doc: Doc,
    row: dict[str, Any] | None,
    *,
    gnomon_ext_given: bool,
) -> Doc:
    defs = attrs_repo.definitions_by_name(session, principal.org_id)
    write = m.user_write_from_scim(
        doc, view.mapping, defs, view.manager_email, gnomon_ext_given=gnomon_ext_given
    )
    assert write.attributes is not None
    # Removing a value of an attribute nobody defined is nothing to do.
    write.attributes = {k: v for k, v in write.attributes.items() if v is not None or k in defs}
    # An IdP cannot define attributes first: the ones it sends are defined on first use.
    mapped = set(view.mapping.values())
    created = attributes_service.ensure_defined(
        session,
        principal,
        [k for k, v in write.attributes.items() if v is not None and k in mapped],
        known=defs,
    )
    # The identity write resolves names against these definitions instead of reading them again.
    write.definitions = (
        attrs_repo.definitions_by_name(session, principal.org_id) if created else defs
    )
    if row is None:
        # A user deleted through SCIM comes back when the IdP provisions it again.
        row = users_repo.find_by_user_name(session, principal.org_id, doc["userName"])
        if row is not None and row.get("scim_deleted_at") is None:
            raise ScimError(409, f"userName {doc['userName']!r} is taken", "uniqueness")
    # Rendered from what was just written: no read back.
    if row is None:
        user, new_row = users_service.create_user_row(session, principal, write)
    else:
        write.fields["scim_deleted_at"] = None
        user, new_row = users_service.update_user_row(session, principal, row, write)
    return view.render_users([user], [new_row])[0]


def create_user(session: Session, principal: Principal, base_url: str, payload: Any) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    doc = _request_doc(ScimUser, payload, Context.RESOURCE_CREATION_REQUEST)
    view = UserView(session, principal, base_url)
    return _write_user(session, principal, view, doc, None, gnomon_ext_given=False)


def replace_user(
    session: Session,
    principal: Principal,
    base_url: str,
    user_id: str,
    payload: Any,
    if_match: str | None,
) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    row = _visible_user(session, principal, user_id)
    _check_etag(if_match, int(row["version"]))
    doc = _request_doc(ScimUser, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    view = UserView(session, principal, base_url)
    return _write_user(session, principal, view, doc, row, gnomon_ext_given=False)


def _names_extension(payload: Any) -> bool:
    """Whether a PatchOp adds or replaces the gnomon extension as a whole (even empty)."""
    ops = payload.get("Operations") if isinstance(payload, dict) else None
    return any(
        isinstance(o, dict)
        and str(o.get("op", "")).lower() in ("add", "replace")
        and str(o.get("path", "")).lower() == GNOMON_USER_SCHEMA.lower()
        for o in ops or []
    )


def patch_user(
    session: Session,
    principal: Principal,
    base_url: str,
    user_id: str,
    payload: Any,
    if_match: str | None,
) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    row = _visible_user(session, principal, user_id)
    _check_etag(if_match, int(row["version"]))
    view = UserView(session, principal, base_url)
    current = view.render([row])[0]
    resource = _validate(ScimUser, current, Context.RESOURCE_QUERY_RESPONSE)
    op = _validate(PatchOp[ScimUser], payload, Context.RESOURCE_PATCH_REQUEST)
    changed = op.patch(resource)
    ext_added = GNOMON_USER_SCHEMA not in current and _names_extension(payload)
    if not changed and not ext_added:
        return current
    doc = resource.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    if resource[GnomonUser] is not None or ext_added:
        # An empty extension the IdP added is dropped by the dump; it is kept as set.
        doc.setdefault(GNOMON_USER_SCHEMA, {})
    return _write_user(session, principal, view, doc, row, gnomon_ext_given=False)


def delete_user(session: Session, principal: Principal, user_id: str, if_match: str | None) -> None:
    """Deactivates the user (REST keeps showing it, content stays) and hides it from SCIM."""
    policy.require_organization_key(principal, "SCIM")
    row = _visible_user(session, principal, user_id)
    _check_etag(if_match, int(row["version"]))
    write = users_service.UserWrite(fields={"active": False, "scim_deleted_at": utcnow()})
    users_service.update_user(session, principal, row, write)


# Simple equality filters are answered by the store; anything else is evaluated in memory.
_PUSHDOWN: dict[str, Callable[[Session, str, str], dict[str, Any] | None]] = {
    "username": users_repo.find_by_user_name,
    "id": users_repo.get_user,
    "emails": users_repo.find_by_email,
    "emails.value": users_repo.find_by_email,
}


def _pushdown_rows(
    session: Session, principal: Principal, filt: ScimFilter[Any]
) -> list[dict[str, Any]] | None:
    node = filt.ast
    if not isinstance(node, Comparison) or str(node.op).lower() not in ("eq", "op.eq"):
        return None
    path: AttrPath = node.attr_path
    key = ".".join(p for p in (path.attr, path.sub_attr) if p).lower()
    if path.uri or key not in _PUSHDOWN or not isinstance(node.value, str):
        return None
    row = _PUSHDOWN[key](session, principal.org_id, node.value)
    return [row] if row is not None else []


def _resources(
    session: Session, principal: Principal, base_url: str, kind: str, filt: Any
) -> list[Any]:
    """Every resource of a kind that matches the filter, as validated SCIM models."""
    model: Any = _MODELS[kind]
    if kind == "User":
        rows = _pushdown_rows(session, principal, filt) if filt is not None else None
        if rows is None:
            rows, _ = users_repo.list_users(session, principal.org_id)
        rows = [r for r in rows if r.get("scim_deleted_at") is None]
        docs = UserView(session, principal, base_url).render(rows)
    else:
        group_rows, _ = groups_repo.list_groups(session, principal.org_id)
        docs = _render_groups(session, principal, base_url, group_rows)
    resources = [_validate(model, d, Context.RESOURCE_QUERY_RESPONSE) for d in docs]
    if filt is not None:
        resources = [r for r in resources if filt.match(r)]
    return resources


def search(
    session: Session,
    principal: Principal,
    base_url: str,
    kind: str,
    params: Mapping[str, Any],
) -> Doc:
    """List or search one kind (``User``, ``Group``) or, for ``/.search``, both (``*``)."""
    policy.require_organization_key(principal, "SCIM")
    kinds = list(_MODELS) if kind == "*" else [kind]
    model: Any = _MODELS[kinds[0]] if len(kinds) == 1 else ScimUser | ScimGroup
    request: Any = _validate(SearchRequest[model], dict(params), Context.SEARCH_REQUEST)
    resources: list[Any] = []
    for each in kinds:
        filt: Any = _FILTERS[each](request.filter) if request.filter else None
        resources += _resources(session, principal, base_url, each, filt)
    if request.sort_by:
        resources = request.sort(resources)
    total = len(resources)
    start = (request.start_index or 1) - 1
    count = MAX_RESULTS if request.count is None else min(request.count, MAX_RESULTS)
    page = resources[start : start + count]
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start + 1,
        "itemsPerPage": len(page),
        "Resources": [
            r.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=request)
            for r in page
        ],
    }


def shape(kind: str, doc: Doc, params: Mapping[str, Any]) -> Doc:
    """Apply ``attributes``/``excludedAttributes`` to one resource."""
    if not params.get("attributes") and not params.get("excludedAttributes"):
        return doc
    model: Any = _MODELS[kind]
    request: Any = _validate(SearchRequest[model], dict(params), Context.SEARCH_REQUEST)
    resource = _validate(model, doc, Context.RESOURCE_QUERY_RESPONSE)
    out: Doc = resource.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=request
    )
    return out


# Groups -----------------------------------------------------------------------------------


def _render_groups(
    session: Session, principal: Principal, base_url: str, rows: list[dict[str, Any]]
) -> list[Doc]:
    members = groups_repo.members_of(session, principal.org_id, [r["id"] for r in rows])
    return [m.to_scim_group(r["id"], r, members.get(r["id"], []), base_url) for r in rows]


def get_group(session: Session, principal: Principal, base_url: str, group_id: str) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    row = groups_service.get_row(session, principal, group_id)
    return _render_groups(session, principal, base_url, [row])[0]


def _write_group(
    session: Session, principal: Principal, base_url: str, doc: Doc, row: dict[str, Any] | None
) -> Doc:
    fields, members = m.group_fields_from_scim(doc)
    write = GroupWrite(fields=fields, members=members)
    if row is None:
        group_id = groups_service.create_group(session, principal, write).id
    else:
        groups_service.update_group(session, principal, row, write)
        group_id = row["id"]
    return get_group(session, principal, base_url, group_id)


def create_group(session: Session, principal: Principal, base_url: str, payload: Any) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    doc = _request_doc(ScimGroup, payload, Context.RESOURCE_CREATION_REQUEST)
    return _write_group(session, principal, base_url, doc, None)


def replace_group(
    session: Session,
    principal: Principal,
    base_url: str,
    group_id: str,
    payload: Any,
    if_match: str | None,
) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    row = groups_service.get_row(session, principal, group_id)
    _check_etag(if_match, int(row["version"]))
    doc = _request_doc(ScimGroup, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    return _write_group(session, principal, base_url, doc, row)


def patch_group(
    session: Session,
    principal: Principal,
    base_url: str,
    group_id: str,
    payload: Any,
    if_match: str | None,
) -> Doc:
    policy.require_organization_key(principal, "SCIM")
    row = groups_service.get_row(session, principal, group_id)
    _check_etag(if_match, int(row["version"]))
    current = _render_groups(session, principal, base_url, [row])[0]
    resource = _validate(ScimGroup, current, Context.RESOURCE_QUERY_RESPONSE)
    op = _validate(PatchOp[ScimGroup], payload, Context.RESOURCE_PATCH_REQUEST)
    if not op.patch(resource):
        return current
    doc = resource.model_dump(scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
    return _write_group(session, principal, base_url, doc, row)


def delete_group(
    session: Session, principal: Principal, group_id: str, if_match: str | None
) -> None:
    policy.require_organization_key(principal, "SCIM")
    row = groups_service.get_row(session, principal, group_id)
    _check_etag(if_match, int(row["version"]))
    groups_service.delete_group(session, principal, group_id)
