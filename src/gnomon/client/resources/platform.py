"""Organizations (platform API), API keys and the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.models import (
    ApiKey,
    ApiKeyWithSecret,
    AuditEvent,
    Organization,
    OrganizationCreated,
)
from gnomon.client.resources.base import (
    AsyncDeletable,
    AsyncGettable,
    AsyncListable,
    AsyncUpdatable,
    Body,
    Deletable,
    Gettable,
    Listable,
    Updatable,
    merge_body,
)

__all__ = [
    "ApiKeys",
    "AsyncApiKeys",
    "AsyncAuditEvents",
    "AsyncOrganizations",
    "AuditEvents",
    "Organizations",
    "audit_filters",
]

CSV = "text/csv"


class Organizations(Listable[Organization], Gettable[Organization], Deletable[Organization]):
    """``/organizations``: needs the platform token (``GNOMON_ADMIN_TOKEN``)."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/organizations", Organization)

    def create(self, body: Body | None = None, /, **fields: Any) -> OrganizationCreated:
        """A new organization and its first admin key (the secret is shown once)."""
        raw = self._core.data("POST", self.path, json=merge_body(body, fields))
        return OrganizationCreated.model_validate(raw)


class AsyncOrganizations(
    AsyncListable[Organization], AsyncGettable[Organization], AsyncDeletable[Organization]
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/organizations", Organization)

    async def create(self, body: Body | None = None, /, **fields: Any) -> OrganizationCreated:
        raw = await self._core.data("POST", self.path, json=merge_body(body, fields))
        return OrganizationCreated.model_validate(raw)


class ApiKeys(Listable[ApiKey], Gettable[ApiKey], Updatable[ApiKey], Deletable[ApiKey]):
    """``/api-keys``. ``create`` and ``rotate`` return the secret, once."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/api-keys", ApiKey)

    def create(
        self, body: Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
    ) -> ApiKeyWithSecret:
        raw = self._core.data(
            "POST", self.path, json=merge_body(body, fields), idempotency_key=idempotency_key
        )
        return ApiKeyWithSecret.model_validate(raw)

    def rotate(self, key_id: str) -> ApiKeyWithSecret:
        raw = self._core.data("POST", f"{self._item(key_id)}/rotate")
        return ApiKeyWithSecret.model_validate(raw)

    def revoke(self, key_id: str) -> None:
        self.delete(key_id)


class AsyncApiKeys(
    AsyncListable[ApiKey], AsyncGettable[ApiKey], AsyncUpdatable[ApiKey], AsyncDeletable[ApiKey]
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/api-keys", ApiKey)

    async def create(
        self, body: Body | None = None, /, *, idempotency_key: str | None = None, **fields: Any
    ) -> ApiKeyWithSecret:
        raw = await self._core.data(
            "POST", self.path, json=merge_body(body, fields), idempotency_key=idempotency_key
        )
        return ApiKeyWithSecret.model_validate(raw)

    async def rotate(self, key_id: str) -> ApiKeyWithSecret:
        raw = await self._core.data("POST", f"{self._item(key_id)}/rotate")
        return ApiKeyWithSecret.model_validate(raw)

    async def revoke(self, key_id: str) -> None:
        await self.delete(key_id)


def audit_filters(
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    action: str | None = None,
    actor_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
) -> dict[str, Any]:
    """The audit list's query parameters; datetimes are sent as ISO 8601 (what it accepts)."""

    def iso(value: datetime | str | None) -> str | None:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "since": iso(since),
        "until": iso(until),
        "action": action,
        "actor_id": actor_id,
        "target_type": target_type,
        "target_id": target_id,
    }


class AuditEvents(Listable[AuditEvent], Gettable[AuditEvent]):
    """``/audit-events``: list/iter take ``since``, ``until``, ``action`` (``user.*``), …"""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/audit-events", AuditEvent)

    def export_csv(self, **filters: Any) -> str:
        """The whole filtered log as CSV (the server streams it; no pagination)."""
        params: Mapping[str, Any] = audit_filters(**filters)
        return self._core.request("GET", self.path, params=params, headers={"Accept": CSV}).text

    def verify(self) -> dict[str, Any]:
        """Check the hash chain: ``{"ok", "checked", "head_seq", "first_broken"}``."""
        result: dict[str, Any] = self._core.data("GET", f"{self.path}/verify")
        return result


class AsyncAuditEvents(AsyncListable[AuditEvent], AsyncGettable[AuditEvent]):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/audit-events", AuditEvent)

    async def export_csv(self, **filters: Any) -> str:
        response = await self._core.request(
            "GET", self.path, params=audit_filters(**filters), headers={"Accept": CSV}
        )
        return response.text

    async def verify(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data("GET", f"{self.path}/verify")
        return result
