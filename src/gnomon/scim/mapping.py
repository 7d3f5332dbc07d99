"""gnomon users and groups ↔ SCIM resources (JSON documents).

gnomon keeps what SCIM sends that it has no column for (``scim_data``) so that every attribute
round-trips, and *overlays* what gnomon owns on the way out: a change made through the REST
API (name, email, active, attribute values, groups) is what SCIM shows next.

Mapped attributes (see :mod:`gnomon.scim.settings`) are not kept in ``scim_data``: their only
home is the gnomon user attribute they map to.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from gnomon.errors import Invalid, Issue
from gnomon.identity.schemas import User
from gnomon.identity.users_service import UserWrite
from gnomon.identity.values import as_text
from gnomon.scim.models import ENTERPRISE_SCHEMA, GNOMON_USER_SCHEMA, USER_SCHEMA

_ENTERPRISE_PREFIX = "enterprise:"
_READ_ONLY = ("id", "meta", "groups", "password")


def etag(version: int) -> str:
    return f'W/"{version}"'


def _slot(doc: dict[str, Any], key: str, *, create: bool) -> tuple[dict[str, Any] | None, str]:
    """The dict holding a mapped attribute and its key inside it."""
    if key.startswith(_ENTERPRISE_PREFIX):
        ext = doc.get(ENTERPRISE_SCHEMA)
        if ext is None and create:
            ext = doc[ENTERPRISE_SCHEMA] = {}
        return ext, key[len(_ENTERPRISE_PREFIX) :]
    return doc, key


def derived_email(doc: Mapping[str, Any]) -> str:
    emails = doc.get("emails") or []
    primary = [e for e in emails if e.get("primary") and e.get("value")]
    chosen = primary or [e for e in emails if e.get("value")]
    return str(chosen[0]["value"] if chosen else doc["userName"]).lower()


def derived_name(doc: Mapping[str, Any]) -> str:
    if doc.get("displayName"):
        return str(doc["displayName"])
    name = doc.get("name") or {}
    if name.get("formatted"):
        return str(name["formatted"])
    parts = [name.get("givenName"), name.get("familyName")]
    return " ".join(p for p in parts if p)


def stored_document(
    resource_doc: Mapping[str, Any],
    mapping: Mapping[str, str],
    unbound: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What ``scim_data`` keeps: the request minus read-only, mapped and gnomon-owned parts."""
    doc = {k: copy.deepcopy(v) for k, v in resource_doc.items() if k not in _READ_ONLY}
    doc.pop(GNOMON_USER_SCHEMA, None)
    if unbound or GNOMON_USER_SCHEMA in resource_doc:
        # Values for attributes nobody defined: kept (they round-trip) but bind nothing.
        doc[GNOMON_USER_SCHEMA] = {"userAttributes": list(unbound)} if unbound else {}
    for key in mapping:
        holder, attr = _slot(doc, key, create=False)
        if holder is not None:
            holder.pop(attr, None)
    if doc.get(ENTERPRISE_SCHEMA) == {}:
        doc.pop(ENTERPRISE_SCHEMA)
    doc["schemas"] = [USER_SCHEMA]
    return doc


def to_scim_user(
    user: User,
    row: Mapping[str, Any],
    group_refs: list[tuple[str, str]],
    mapping: Mapping[str, str],
    manager_of: Callable[[str], dict[str, Any] | None],
    base_url: str,
) -> dict[str, Any]:
    stored = row.get("scim_data")
    doc: dict[str, Any] = copy.deepcopy(stored) if stored else {"schemas": [USER_SCHEMA]}
    doc["userName"] = row.get("user_name") or user.email
    if not stored:
        doc["emails"] = [{"value": user.email, "type": "work", "primary": True}]
        if user.name:
            doc["displayName"] = user.name
    if user.name != derived_name(doc):
        doc["displayName"] = user.name
    if user.email != derived_email(doc):
        emails = doc.setdefault("emails", [])
        target = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
        if target is None:
            emails.append({"value": user.email, "type": "work", "primary": True})
        else:
            target["value"] = user.email
    doc["id"] = user.id
    # SCIM's ``active`` is optional: shown when the IdP set it, or when the user is inactive.
    if not user.active or "active" in doc:
        doc["active"] = user.active
    if user.external_id is not None:
        doc["externalId"] = user.external_id
    else:
        doc.pop("externalId", None)
    if group_refs:
        doc["groups"] = [
            {"value": gid, "display": name, "$ref": f"{base_url}/Groups/{gid}", "type": "direct"}
            for gid, name in group_refs
        ]
    mapped = set(mapping.values())
    for key, attr in mapping.items():
        value = user.user_attributes.get(attr)
        if value is None or value == []:
            continue
        first = value[0] if isinstance(value, list) else value
        holder, name = _slot(doc, key, create=True)
        assert holder is not None
        if key == "enterprise:manager":
            manager = manager_of(as_text(first))
            holder[name] = manager or {"value": as_text(first)}
            holder[name].pop("displayName", None)
        else:
            holder[name] = as_text(first)
    extra = [
        {"name": name, "value": as_text(v)}
        for name, value in user.user_attributes.items()
        if name not in mapped
        for v in (value if isinstance(value, list) else [value])
    ]
    listed = GNOMON_USER_SCHEMA in doc  # the IdP set the extension, possibly empty
    extra += (doc.pop(GNOMON_USER_SCHEMA, None) or {}).get("userAttributes") or []
    if extra or listed:
        doc[GNOMON_USER_SCHEMA] = {"userAttributes": extra} if extra else {}
    schemas = [USER_SCHEMA]
    schemas += [s for s in (ENTERPRISE_SCHEMA, GNOMON_USER_SCHEMA) if s in doc]
    doc["schemas"] = schemas
    doc["meta"] = {
        "resourceType": "User",
        "created": user.created_at.isoformat(),
        "lastModified": user.updated_at.isoformat(),
        "location": f"{base_url}/Users/{user.id}",
        "version": etag(int(row.get("version") or 1)),
    }
    return doc


def _from_text(definition: Mapping[str, Any] | None, text: str) -> Any:
    """SCIM carries text; a typed gnomon attribute gets its own type back."""
    kind = definition["type"] if definition else "string"
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text  # left for the type check to report
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text


def user_write_from_scim(
    doc: Mapping[str, Any],
    mapping: Mapping[str, str],
    defs: Mapping[str, Mapping[str, Any]],
    manager_email: Callable[[str], str | None],
    *,
    gnomon_ext_given: bool,
) -> UserWrite:
    """The identity write a (validated) SCIM user document amounts to.

    Mapped attributes are set or removed; the gnomon extension, when the request carries it,
    replaces every other attribute value of the user.
    """
    attrs: dict[str, Any] = {}
    for key, attr in mapping.items():
        holder, name = _slot(dict(doc), key, create=False)
        raw = holder.get(name) if holder else None
        if key == "enterprise:manager" and raw is not None:
            raw = manager_email(str(raw.get("value") or "")) or raw.get("value")
        attrs[attr] = None if raw in (None, "") else _from_text(defs.get(attr), str(raw))
    unbound: list[dict[str, Any]] = []
    if gnomon_ext_given:
        extra: dict[str, list[Any]] = {}
        for item in (doc.get(GNOMON_USER_SCHEMA) or {}).get("userAttributes") or []:
            name = item.get("name")
            if not name or name in attrs:
                continue
            if name not in defs:
                unbound.append({k: v for k, v in item.items() if v is not None})
                continue
            extra.setdefault(name, []).append(_from_text(defs.get(name), item.get("value") or ""))
        for name, definition in defs.items():
            if name not in attrs:
                vals = extra.pop(name, None)
                attrs[name] = (
                    None if vals is None else (vals if definition["multiple"] else vals[0])
                )
    fields: dict[str, Any] = {
        "user_name": doc["userName"],
        "email": derived_email(doc),
        "name": derived_name(doc)[:200],
        "active": doc.get("active", True) is not False,
        "external_id": doc.get("externalId"),
        "scim_data": stored_document(doc, mapping, unbound),
    }
    return UserWrite(fields=fields, attributes=attrs, attributes_mode="merge")


def to_scim_group(
    group_id: str,
    row: Mapping[str, Any],
    members: list[dict[str, Any]],
    base_url: str,
) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(row.get("scim_data") or {})
    doc.update(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": group_id,
            "displayName": row["name"],
        }
    )
    if row.get("external_id") is not None:
        doc["externalId"] = row["external_id"]
    else:
        doc.pop("externalId", None)
    # A display the IdP sent for a member is what it reads back.
    displays = {d["value"]: d.get("display") for d in doc.pop("memberDisplays", [])}
    if members:
        doc["members"] = [
            {
                "value": m["id"],
                "display": displays.get(m["id"]) or m["name"] or m["email"],
                "$ref": f"{base_url}/Users/{m['id']}",
                "type": "User",
            }
            for m in members
        ]
    else:
        doc.pop("members", None)
    doc["meta"] = {
        "resourceType": "Group",
        "created": row["created_at"].isoformat(),
        "lastModified": row["updated_at"].isoformat(),
        "location": f"{base_url}/Groups/{group_id}",
        "version": etag(int(row.get("version") or 1)),
    }
    return doc


def group_fields_from_scim(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``(group columns, member user ids)``; gnomon groups are flat, so members are users."""
    nested = [m for m in doc.get("members") or [] if m.get("type") == "Group"]
    if nested:
        raise Invalid(
            "gnomon groups are flat: a group cannot be a member of another group",
            [Issue("nested group member", ("members",), code="invalidValue")],
        )
    kept = {
        k: copy.deepcopy(v)
        for k, v in doc.items()
        if k not in ("id", "meta", "members", "displayName", "externalId", "schemas")
    }
    displays = [
        {"value": m["value"], "display": m["display"]}
        for m in doc.get("members") or []
        if m.get("value") and m.get("display")
    ]
    if displays:
        kept["memberDisplays"] = displays
    fields = {
        "name": doc["displayName"],
        "external_id": doc.get("externalId"),
        "scim_data": kept or None,
    }
    members = [str(m["value"]) for m in doc.get("members") or [] if m.get("value")]
    return fields, members
