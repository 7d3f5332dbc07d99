"""User attribute definitions: who may define them, type rules, events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from gnomon import events, policy
from gnomon.errors import Conflict, Invalid, Issue, NotFound
from gnomon.identity import attributes_repository as repo
from gnomon.identity import values
from gnomon.identity.refs import SYSTEM_ATTRIBUTES
from gnomon.identity.schemas import UserAttribute, UserAttributeCreate, UserAttributePatch
from gnomon.principal import Principal
from gnomon.util import new_id, utcnow


class _AttributeData(BaseModel):
    model_config = ConfigDict(extra="allow")
    user_attribute: dict[str, Any]


events.register("user_attribute.created", "A user attribute was defined.", _AttributeData)
events.register("user_attribute.updated", "A user attribute definition changed.", _AttributeData)
events.register(
    "user_attribute.deleted", "A user attribute and all its values were removed.", _AttributeData
)


def to_schema(row: dict[str, Any]) -> UserAttribute:
    default = row["default_value"]
    return UserAttribute(
        id=row["id"],
        name=row["name"],
        label=row["label"],
        type=row["type"],
        multiple=bool(row["multiple"]),
        default_value=values.present(row, default) if default is not None else None,
        description=row["description"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return to_schema(row).model_dump(mode="json")


def _default(definition: dict[str, Any], raw: Any) -> list[Any] | None:
    issues: list[Issue] = []
    stored = values.normalize(definition, raw, ("default_value",), issues)
    if issues:
        raise Invalid("invalid default value", issues)
    return stored


def create(session: Session, principal: Principal, body: UserAttributeCreate) -> UserAttribute:
    policy.require_org_admin(principal, "defining user attributes")
    if body.name in SYSTEM_ATTRIBUTES or body.name.startswith("gnomon_"):
        raise Invalid(
            "reserved attribute name",
            [Issue("names starting with gnomon_ are reserved for system attributes", ("name",))],
        )
    if repo.definitions_by_name(session, principal.org_id, [body.name]):
        raise Conflict(f"user attribute {body.name!r} already exists")
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "org_id": principal.org_id,
        "name": body.name,
        "label": body.label or body.name,
        "type": body.type,
        "multiple": body.multiple,
        "description": body.description,
        "created_at": now,
        "updated_at": now,
    }
    row["default_value"] = _default(row, body.default_value)
    repo.insert_definition(session, row)
    events.emit(
        session,
        principal,
        events.Event(
            "user_attribute.created",
            "user_attribute",
            row["id"],
            {"user_attribute": _snapshot(row)},
        ),
    )
    return to_schema(row)


def ensure_defined(
    session: Session,
    principal: Principal,
    names: Iterable[str],
    known: Mapping[str, Any] | None = None,
) -> list[str]:
    """Define missing string attributes (SCIM: an IdP cannot define attributes first).

    ``known`` is every definition of the organization by name, when the caller has them.
    Returns the names defined now.
    """
    wanted = [n for n in dict.fromkeys(names) if n not in SYSTEM_ATTRIBUTES]
    existing = (
        known if known is not None else repo.definitions_by_name(session, principal.org_id, wanted)
    )
    created = [name for name in wanted if name not in existing]
    for name in created:
        create(session, principal, UserAttributeCreate(name=name))
    return created


def list_attributes(
    session: Session, principal: Principal, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[UserAttribute], int]:
    policy.require_member(principal, "reading user attributes")
    rows, total = repo.list_definitions(
        session, principal.org_id, sort=sort, descending=descending, offset=offset, limit=limit
    )
    return [to_schema(r) for r in rows], total


def _get_row(session: Session, principal: Principal, attribute_id: str) -> dict[str, Any]:
    row = repo.get_definition(session, principal.org_id, attribute_id)
    if row is None:
        raise NotFound(f"user attribute {attribute_id} not found")
    return row


def get(session: Session, principal: Principal, attribute_id: str) -> UserAttribute:
    policy.require_member(principal, "reading user attributes")
    return to_schema(_get_row(session, principal, attribute_id))


def update(
    session: Session, principal: Principal, attribute_id: str, body: UserAttributePatch
) -> UserAttribute:
    row = _get_row(session, principal, attribute_id)
    policy.require_org_admin(principal, "changing user attributes")
    given = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "label" in given and given["label"] is not None:
        changes["label"] = given["label"]
    if "description" in given:
        changes["description"] = given["description"]
    if given.get("multiple") is not None:
        changes["multiple"] = given["multiple"]
        if not given["multiple"] and repo.max_value_count(session, principal.org_id, row["id"]) > 1:
            raise Conflict(
                f"user attribute {row['name']!r} has users or groups with several values; "
                "remove them before making it single-valued"
            )
    after = {**row, **changes}
    if "default_value" in given:
        after["default_value"] = _default(after, given["default_value"])
        changes["default_value"] = after["default_value"]
    if not changes:
        return to_schema(row)
    changes["updated_at"] = after["updated_at"] = utcnow()
    repo.update_definition(session, principal.org_id, row["id"], changes)
    before_s, after_s = _snapshot(row), _snapshot(after)
    events.emit(
        session,
        principal,
        events.Event(
            "user_attribute.updated",
            "user_attribute",
            row["id"],
            {"user_attribute": after_s},
            changes=events.diff(before_s, after_s),
        ),
    )
    return to_schema(after)


def delete(session: Session, principal: Principal, attribute_id: str) -> None:
    row = _get_row(session, principal, attribute_id)
    policy.require_org_admin(principal, "deleting user attributes")
    repo.delete_definition(session, principal.org_id, row["id"])
    events.emit(
        session,
        principal,
        events.Event(
            "user_attribute.deleted",
            "user_attribute",
            row["id"],
            {"user_attribute": _snapshot(row)},
        ),
    )
