"""Content roles and how they are inherited down the folder tree (pure: no I/O).

Rules (DESIGN.md §3, docs/content.md):

- Roles are ordered ``NO_ACCESS < VIEWER < EDITOR < MANAGER``. The seed also grants
  ``CONNECTION_ADMIN`` on a folder; on content it means "may do everything", so it is stored
  as ``MANAGER``.
- Grants are per grantee (a group or a user). For each grantee the *nearest* grant wins: the
  document's own, else its folder's, else the parent folder's, and so on up to the root. A grant
  of ``NO_ACCESS`` therefore cuts one grantee's inherited access below that point without
  touching anyone else's.
- A user's role is the highest role over the grantees they are (themselves and their groups).
- Organization admins (organization keys, ORG_ADMIN users) are MANAGER everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["NO_ACCESS", "VIEWER", "EDITOR", "MANAGER"]
ResourceType = Literal["folder", "document"]
GranteeType = Literal["group", "user"]

ROLES: tuple[Role, ...] = ("NO_ACCESS", "VIEWER", "EDITOR", "MANAGER")
_RANK: dict[str, int] = {r: i for i, r in enumerate(ROLES)}

# Role names accepted on input beyond the four content roles, and what they mean on content.
ROLE_ALIASES: dict[str, Role] = {"CONNECTION_ADMIN": "MANAGER"}

# What each content action needs.
ACTION_ROLE: dict[str, Role] = {
    "view": "VIEWER",
    "run": "VIEWER",
    "export": "VIEWER",
    "edit": "EDITOR",
    "create_in": "EDITOR",
    "delete": "EDITOR",
    "move": "EDITOR",
    "manage": "MANAGER",
}


def normalise_role(value: str) -> Role | None:
    """The content role a written role name means, or None when it is not one."""
    upper = value.strip().upper()
    if upper in _RANK:
        return ROLES[_RANK[upper]]
    return ROLE_ALIASES.get(upper)


def rank(role: str | None) -> int:
    return -1 if role is None else _RANK.get(role, -1)


def at_least(role: str | None, minimum: str) -> bool:
    return rank(role) >= _RANK[minimum]


Node = tuple[ResourceType, str]
Grantee = tuple[GranteeType, str]


@dataclass(frozen=True)
class Grant:
    resource_type: ResourceType
    resource_id: str
    grantee_type: GranteeType
    grantee_id: str
    role: Role

    @property
    def node(self) -> Node:
        return (self.resource_type, self.resource_id)

    @property
    def grantee(self) -> Grantee:
        return (self.grantee_type, self.grantee_id)


@dataclass(frozen=True)
class Effective:
    """A role and the grant it comes from (None for organization admins)."""

    role: Role
    grant: Grant | None
    inherited: bool


@dataclass
class AccessTree:
    """Every folder's parent and every grant of an organization, to answer "who may do what".

    Built once per request from two queries; a whole list page is then filtered in memory.
    """

    parents: Mapping[str, str | None]
    grants: Iterable[Grant]
    _by_node: dict[Node, dict[Grantee, Grant]] = field(init=False, default_factory=dict)
    _chains: dict[str, tuple[Node, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for g in self.grants:
            self._by_node.setdefault(g.node, {})[g.grantee] = g

    def folder_chain(self, folder_id: str | None) -> tuple[Node, ...]:
        """The folder and its ancestors, nearest first (cycle-safe)."""
        if folder_id is None:
            return ()
        cached = self._chains.get(folder_id)
        if cached is not None:
            return cached
        chain: list[Node] = []
        seen: set[str] = set()
        current: str | None = folder_id
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(("folder", current))
            current = self.parents.get(current)
        out = tuple(chain)
        self._chains[folder_id] = out
        return out

    def chain(
        self, resource_type: ResourceType, resource_id: str, folder_id: str | None
    ) -> tuple[Node, ...]:
        """The nodes whose grants apply to a resource, nearest first.

        For a folder ``folder_id`` is its parent; for a document, the folder it lives in.
        """
        return ((resource_type, resource_id), *self.folder_chain(folder_id))

    def grants_on(self, node: Node) -> list[Grant]:
        return list(self._by_node.get(node, {}).values())

    def grantees_in(self, chain: Sequence[Node]) -> set[Grantee]:
        return {g for node in chain for g in self._by_node.get(node, {})}

    def nearest(self, chain: Sequence[Node], grantee: Grantee) -> Grant | None:
        for node in chain:
            found = self._by_node.get(node, {}).get(grantee)
            if found is not None:
                return found
        return None

    def effective(self, chain: Sequence[Node], grantees: Iterable[Grantee]) -> Effective | None:
        """The highest role over ``grantees`` (each at its nearest grant); None = no grant."""
        best: Grant | None = None
        for grantee in grantees:
            g = self.nearest(chain, grantee)
            if g is not None and (best is None or rank(g.role) > rank(best.role)):
                best = g
        if best is None:
            return None
        return Effective(role=best.role, grant=best, inherited=best.node != chain[0])


ADMIN = Effective(role="MANAGER", grant=None, inherited=False)
