"""HR sync: a CSV export plus a YAML mapping → the users gnomon should have.

The seed's ``OmniUserManager.syncUser`` creates or updates one user at a time; here the whole
file is planned first (every problem in the file reported at once, a dry run that shows exactly
what would change), then applied with bounded concurrency. Planning compares the desired state
with the server's, so a second run over the same file plans nothing: the sync is idempotent.

What the sync owns, so that it never undoes changes made by hand elsewhere:
- ``user_attributes``: only the attributes the mapping names;
- ``connection_roles``: only the connections the mapping names;
- ``groups``: only the groups the mapping can produce; other memberships are kept.

Mapping file (every key optional except where noted)::

    match_on: email                    # column with the email (the match key)
    name: "{first_name} {last_name}"   # template over columns; default: the `name` column
    external_id: employee_id           # column
    user_attributes: {employee_id: employee_id, department: department, job_title: job_title}
    connection_roles:
      column: job_title
      map: {Data Analyst: {main_db: QUERIER}, Executive: {main_db: VIEWER}}
      default: {main_db: VIEWER}
    groups: ["{department|slug}_team"] # templates; `|lower`, `|upper`, `|slug` filters
    groups_by: {column: job_title, map: {Executive: [executives]}}
    deactivate_missing: true           # users not in the file are deactivated ...
    managed_attribute: employee_id     # ... but only those that have this attribute
    protect: [admin@example.com]       # never deactivated (the calling user never is either)
    create_missing: true               # create unknown groups and attributes (type string)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gnomon.client.models import User

__all__ = ["Action", "MappingError", "Plan", "SyncMapping", "load_mapping", "plan_sync", "read_csv"]

_TEMPLATE = re.compile(r"\{([^{}|]+)(?:\|(lower|upper|slug))?\}")


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


_FILTERS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper, "slug": _slug}


class MappingError(ValueError):
    """The mapping or the CSV is wrong; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def render(template: str, row: Mapping[str, str]) -> str:
    """``"{department|slug}_team"`` with ``department="Customer Success"`` → customer_success_team."""

    def one(match: re.Match[str]) -> str:
        value = (row.get(match.group(1).strip()) or "").strip()
        filt = match.group(2)
        return _FILTERS[filt](value) if filt else value

    return _TEMPLATE.sub(one, template).strip()


@dataclass(frozen=True)
class SyncMapping:
    match_on: str = "email"
    name: str = "{name}"
    external_id: str | None = None
    user_attributes: dict[str, str] = field(default_factory=dict)
    roles_column: str | None = None
    roles_map: dict[str, dict[str, str]] = field(default_factory=dict)
    roles_default: dict[str, str] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    groups_by_column: str | None = None
    groups_by_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    deactivate_missing: bool = False
    managed_attribute: str | None = None
    protect: frozenset[str] = frozenset()
    create_missing: bool = True

    @property
    def managed_connections(self) -> set[str]:
        names = set(self.roles_default)
        for roles in self.roles_map.values():
            names |= set(roles)
        return names

    @property
    def owns_groups(self) -> bool:
        return bool(self.groups or self.groups_by_column)


def load_mapping(path: Path) -> SyncMapping:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise MappingError([f"{path}: the mapping must be a YAML mapping"])
    known = {
        "match_on",
        "name",
        "external_id",
        "user_attributes",
        "connection_roles",
        "groups",
        "groups_by",
        "deactivate_missing",
        "managed_attribute",
        "protect",
        "create_missing",
    }
    problems += [f"unknown mapping key {k!r}" for k in raw if k not in known]
    roles = raw.get("connection_roles") or {}
    groups_by = raw.get("groups_by") or {}
    if not isinstance(roles, dict) or not isinstance(groups_by, dict):
        problems.append("connection_roles and groups_by must be mappings")
        roles, groups_by = {}, {}
    groups = raw.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    if problems:
        raise MappingError(problems)
    return SyncMapping(
        match_on=str(raw.get("match_on", "email")),
        name=str(raw.get("name", "{name}")),
        external_id=raw.get("external_id"),
        user_attributes={str(k): str(v) for k, v in (raw.get("user_attributes") or {}).items()},
        roles_column=roles.get("column"),
        roles_map={str(k): dict(v or {}) for k, v in (roles.get("map") or {}).items()},
        roles_default=dict(roles.get("default") or {}),
        groups=tuple(str(g) for g in groups),
        groups_by_column=groups_by.get("column"),
        groups_by_map={
            str(k): tuple([v] if isinstance(v, str) else v or [])
            for k, v in (groups_by.get("map") or {}).items()
        },
        deactivate_missing=bool(raw.get("deactivate_missing", False)),
        managed_attribute=raw.get("managed_attribute"),
        protect=frozenset(str(e).lower() for e in raw.get("protect") or []),
        create_missing=bool(raw.get("create_missing", True)),
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [dict(row) for row in csv.DictReader(f)]


@dataclass(frozen=True)
class Desired:
    email: str
    name: str
    external_id: str | None
    user_attributes: dict[str, str | None]
    connection_roles: dict[str, str]
    groups: frozenset[str]


def desired_user(m: SyncMapping, row: Mapping[str, str]) -> Desired:
    email = (row.get(m.match_on) or "").strip()
    attrs = {a: (row.get(col) or "").strip() or None for a, col in m.user_attributes.items()}
    roles = m.roles_default
    if m.roles_column:
        roles = m.roles_map.get((row.get(m.roles_column) or "").strip(), m.roles_default)
    groups = {render(t, row) for t in m.groups}
    if m.groups_by_column:
        groups |= set(m.groups_by_map.get((row.get(m.groups_by_column) or "").strip(), ()))
    groups.discard("")
    external = (row.get(m.external_id) or "").strip() or None if m.external_id else None
    return Desired(
        email=email,
        name=render(m.name, row),
        external_id=external,
        user_attributes=attrs,
        connection_roles=dict(roles),
        groups=frozenset(groups),
    )


@dataclass(frozen=True)
class Action:
    kind: str  # create | update | deactivate
    email: str
    body: dict[str, Any]
    user_id: str | None = None
    changed: tuple[str, ...] = ()


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    unchanged: int = 0
    missing_groups: set[str] = field(default_factory=set)
    missing_attributes: set[str] = field(default_factory=set)

    def count(self, kind: str) -> int:
        return sum(1 for a in self.actions if a.kind == kind)


def validate_rows(m: SyncMapping, rows: Sequence[Mapping[str, str]]) -> list[Desired]:
    problems: list[str] = []
    wanted: list[Desired] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        d = desired_user(m, row)
        if "@" not in d.email:
            problems.append(f"line {line}: no valid email in column {m.match_on!r}")
            continue
        key = d.email.lower()
        if key in seen:
            problems.append(f"line {line}: {d.email} already on line {seen[key]}")
            continue
        seen[key] = line
        wanted.append(d)
    if problems:
        raise MappingError(problems)
    return wanted


def _diff(m: SyncMapping, d: Desired, u: User, managed_groups: set[str]) -> dict[str, Any]:
    """The PATCH body that brings user ``u`` to ``d`` (empty: nothing to do)."""
    body: dict[str, Any] = {}
    if d.name and d.name != (u.name or ""):
        body["name"] = d.name
    if m.external_id and d.external_id != u.external_id:
        body["external_id"] = d.external_id
    attrs = {k: v for k, v in d.user_attributes.items() if _as_text(u.user_attributes.get(k)) != v}
    if attrs:
        body["user_attributes"] = attrs
    roles: dict[str, str | None] = {
        c: d.connection_roles.get(c)
        for c in m.managed_connections
        if u.connection_roles.get(c) != d.connection_roles.get(c)
    }
    if roles:
        body["connection_roles"] = roles
    if m.owns_groups:
        groups = (set(u.groups) - managed_groups) | set(d.groups)
        if groups != set(u.groups):
            body["groups"] = sorted(groups)
    if not u.active:
        body["active"] = True
    return body


def _as_text(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def plan_sync(
    m: SyncMapping,
    rows: Sequence[Mapping[str, str]],
    users: Sequence[User],
    *,
    existing_groups: set[str],
    existing_attributes: set[str],
    caller_email: str | None,
) -> Plan:
    wanted = validate_rows(m, rows)
    by_email = {u.email.lower(): u for u in users}
    all_groups = {g for d in wanted for g in d.groups} | {
        g for gs in m.groups_by_map.values() for g in gs
    }
    managed_groups = all_groups | {g for g in existing_groups if _is_templated(m, g, all_groups)}
    plan = Plan(
        missing_groups={g for d in wanted for g in d.groups} - existing_groups,
        missing_attributes=set(m.user_attributes) - existing_attributes,
    )
    for d in wanted:
        current = by_email.get(d.email.lower())
        if current is None:
            body: dict[str, Any] = {
                "email": d.email,
                "name": d.name,
                "user_attributes": {k: v for k, v in d.user_attributes.items() if v is not None},
                "connection_roles": d.connection_roles,
                "groups": sorted(d.groups),
            }
            if d.external_id:
                body["external_id"] = d.external_id
            plan.actions.append(Action("create", d.email, body, changed=tuple(body)))
            continue
        patch = _diff(m, d, current, managed_groups)
        if patch:
            plan.actions.append(Action("update", d.email, patch, current.id, tuple(patch)))
        else:
            plan.unchanged += 1
    if m.deactivate_missing:
        in_file = {d.email.lower() for d in wanted}
        protected = set(m.protect) | ({caller_email.lower()} if caller_email else set())
        for u in users:
            email = u.email.lower()
            if not u.active or email in in_file or email in protected:
                continue
            if u.org_role == "ORG_ADMIN":
                continue  # an HR file must never lock the administrators out
            if m.managed_attribute and u.user_attributes.get(m.managed_attribute) in (None, ""):
                continue
            plan.actions.append(Action("deactivate", u.email, {}, u.id, ("active",)))
    return plan


def _is_templated(m: SyncMapping, group: str, produced: set[str]) -> bool:
    """An existing group the mapping's templates could produce (e.g. ``legal_team`` when the
    template is ``{department|slug}_team``), so that leaving that department removes it."""
    return group in produced or any(_template_regex(t).match(group) for t in m.groups)


def _template_regex(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    pos = 0
    for match in _TEMPLATE.finditer(template):
        parts += [re.escape(template[pos : match.start()]), ".+"]
        pos = match.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(parts) + "$")
