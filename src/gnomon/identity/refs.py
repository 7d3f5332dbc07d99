"""Resolving the names a user or group body refers to, collecting every problem at once.

A body may name attributes, connections and groups; each unknown name becomes one
:class:`Issue` so that a 422 lists all of them and nothing is written half-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from gnomon.errors import Issue
from gnomon.identity import attributes_repository as attrs_repo
from gnomon.identity import groups_repository as groups_repo
from gnomon.identity import values
from gnomon.identity.connections_lookup import known_connection_names

SYSTEM_ATTRIBUTES = (
    "gnomon_user_id",
    "gnomon_user_email",
    "gnomon_user_name",
    "gnomon_user_groups",
    "gnomon_is_org_admin",
)


def attribute_values(
    session: Session,
    org_id: str,
    given: Mapping[str, Any],
    issues: list[Issue],
    defs: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, list[Any] | None]:
    """``{attribute id: stored values or None}`` for a ``user_attributes`` map.

    ``defs`` are definitions by name the caller already loaded (at least those ``given``
    names); they are read from the store otherwise.
    """
    if defs is None:
        defs = attrs_repo.definitions_by_name(session, org_id, list(given))
    out: dict[str, list[Any] | None] = {}
    for name, raw in given.items():
        path: tuple[str | int, ...] = ("user_attributes", name)
        if name in SYSTEM_ATTRIBUTES:
            issues.append(Issue(f"{name} is a system attribute and cannot be set", path))
            continue
        definition = defs.get(name)
        if definition is None:
            issues.append(
                Issue(
                    f"user attribute {name!r} does not exist",
                    path,
                    code="unknown_attribute",
                    hint="define it first with POST /api/v1/user-attributes",
                )
            )
            continue
        out[definition["id"]] = values.normalize(definition, raw, path, issues)
    return out


def connection_grants(
    session: Session, org_id: str, given: Mapping[str, str | None], issues: list[Issue]
) -> dict[str, str | None]:
    if not given:
        return {}
    known = known_connection_names(session, org_id)
    for name in given:
        if name not in known:
            issues.append(
                Issue(
                    f"connection {name!r} does not exist",
                    ("connection_roles", name),
                    code="unknown_connection",
                    hint="known connections: " + ", ".join(sorted(known)),
                )
            )
    return dict(given)


def group_ids(
    session: Session, org_id: str, names: Iterable[str], issues: list[Issue]
) -> list[str]:
    wanted = list(dict.fromkeys(names))
    found = groups_repo.groups_by_names(session, org_id, wanted)
    for i, name in enumerate(wanted):
        if name not in found:
            issues.append(
                Issue(
                    f"group {name!r} does not exist",
                    ("groups", i),
                    code="unknown_group",
                    hint="create it first with POST /api/v1/groups",
                )
            )
    return [found[n]["id"] for n in wanted if n in found]
