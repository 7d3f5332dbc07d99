"""Who may do what: the one place permission rules live.

Services call these checks; endpoints never decide on rights themselves. Each check raises
:class:`gnomon.errors.Forbidden` with a message that says which right is missing.
"""

from __future__ import annotations

from gnomon.errors import Forbidden
from gnomon.principal import Principal


def require_org_admin(principal: Principal, action: str) -> None:
    """Organization keys and users with the ORG_ADMIN role."""
    if not principal.is_org_admin:
        raise Forbidden(f"{action} needs the ORG_ADMIN role")


def require_self_or_admin(principal: Principal, user_id: str | None, action: str) -> None:
    """Admins act on anyone; a user acts on themselves only."""
    if principal.is_org_admin:
        return
    if user_id is None or principal.user_id != user_id:
        raise Forbidden(f"{action} is allowed on your own account only")
