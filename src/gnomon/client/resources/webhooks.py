"""``/webhooks``: subscriptions, delivery log, test events, the event catalog."""

from __future__ import annotations

from typing import Any

from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.models import Webhook, WebhookDelivery
from gnomon.client.pagination import Page
from gnomon.client.resources.base import (
    AsyncCreatable,
    AsyncDeletable,
    AsyncGettable,
    AsyncListable,
    AsyncUpdatable,
    Creatable,
    Deletable,
    Gettable,
    Listable,
    Updatable,
)

__all__ = ["AsyncWebhooks", "Webhooks"]


def _delivery(raw: Any) -> WebhookDelivery:
    return WebhookDelivery.model_validate(raw)


class Webhooks(
    Listable[Webhook],
    Gettable[Webhook],
    Creatable[Webhook],
    Updatable[Webhook],
    Deletable[Webhook],
):
    """The seed's ``configureWebhooks`` bodies work as ``create(body)``."""

    def __init__(self, core: SyncCore) -> None:
        super().__init__(core, "/webhooks", Webhook)

    def test(self, webhook_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._core.data("POST", f"{self._item(webhook_id)}/test")
        return result

    def rotate_secret(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        """A new secret (shown once); the old one keeps signing during the overlap."""
        path = f"{self._item(webhook_id)}/rotate-secret"
        result: dict[str, Any] = self._core.data("POST", path, json=fields or None)
        return result

    def deliveries(self, webhook_id: str, *, page: int | None = None) -> Page[WebhookDelivery]:
        params = {"page": page}
        return self._core.page(f"{self._item(webhook_id)}/deliveries", params, _delivery)

    def redeliver(self, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        path = f"{self._item(webhook_id)}/deliveries/{delivery_id}/redeliver"
        result: dict[str, Any] = self._core.data("POST", path)
        return result

    def event_types(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._core.data("GET", f"{self.path}/event-types")
        return result


class AsyncWebhooks(
    AsyncListable[Webhook],
    AsyncGettable[Webhook],
    AsyncCreatable[Webhook],
    AsyncUpdatable[Webhook],
    AsyncDeletable[Webhook],
):
    def __init__(self, core: AsyncCore) -> None:
        super().__init__(core, "/webhooks", Webhook)

    async def test(self, webhook_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._core.data("POST", f"{self._item(webhook_id)}/test")
        return result

    async def rotate_secret(self, webhook_id: str, **fields: Any) -> dict[str, Any]:
        path = f"{self._item(webhook_id)}/rotate-secret"
        result: dict[str, Any] = await self._core.data("POST", path, json=fields or None)
        return result

    async def deliveries(
        self, webhook_id: str, *, page: int | None = None
    ) -> Page[WebhookDelivery]:
        params = {"page": page}
        return await self._core.page(f"{self._item(webhook_id)}/deliveries", params, _delivery)

    async def redeliver(self, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        path = f"{self._item(webhook_id)}/deliveries/{delivery_id}/redeliver"
        result: dict[str, Any] = await self._core.data("POST", path)
        return result

    async def event_types(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._core.data("GET", f"{self.path}/event-types")
        return result
