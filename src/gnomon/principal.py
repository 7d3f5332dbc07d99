"""Who is calling: the principal every service receives.

A principal always belongs to exactly one organization; repositories take its ``org_id`` so a
query can never leave the caller's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["organization", "personal", "system"]


@dataclass(frozen=True)
class RequestMeta:
    """Where a change came from; copied into every audit record."""

    request_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Principal:
    org_id: str
    kind: PrincipalKind
    is_org_admin: bool
    label: str
    key_id: str | None = None  # the API key's database id
    user_id: str | None = None
    scopes: frozenset[str] = frozenset()
    request: RequestMeta = field(default_factory=RequestMeta)

    @property
    def actor_type(self) -> str:
        return "user" if self.user_id is not None else ("api_key" if self.key_id else "system")

    @property
    def actor_id(self) -> str | None:
        return self.user_id or self.key_id

    @classmethod
    def system(cls, org_id: str, *, label: str = "system") -> Principal:
        """The principal of gnomon itself (bootstrap, worker jobs)."""
        return cls(org_id=org_id, kind="system", is_org_admin=True, label=label)
