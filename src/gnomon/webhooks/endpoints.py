"""``/api/v1/webhooks``: subscriptions, their delivery log, redelivery, tests, the event
catalog and the organization's webhook settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, WriteSession, get_settings
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.secrets import load_secret_box
from gnomon.webhooks import service
from gnomon.webhooks.repository import SORTABLE
from gnomon.webhooks.safety import HostPolicy
from gnomon.webhooks.schemas import (
    Delivery,
    DeliveryStatus,
    EventTypeInfo,
    SecretRotation,
    Webhook,
    WebhookCreate,
    WebhookSettings,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=common_responses())


def webhook_context(request: Request) -> service.WebhookContext:
    """Built once per app (the key file is read once) and kept on the app state."""
    ctx: service.WebhookContext | None = getattr(request.app.state, "webhook_context", None)
    if ctx is None:
        settings = get_settings(request)
        ctx = service.WebhookContext(
            box=load_secret_box(settings), hosts=HostPolicy.parse(settings.webhook_allow_hosts)
        )
        request.app.state.webhook_context = ctx
    return ctx


Context = Annotated[service.WebhookContext, Depends(webhook_context)]
SortParam = Annotated[str | None, sort_query(list(SORTABLE))]


@router.post("", name="webhooks_create", status_code=201, response_model=One[WebhookWithSecret])
def create_webhook(
    body: WebhookCreate, session: WriteSession, principal: CurrentPrincipal, ctx: Context
) -> Any:
    return one(service.create(session, principal, ctx, body))


@router.get("", name="webhooks_list", response_model=Many[Webhook])
def list_webhooks(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    enabled: bool | None = None,
    sort: SortParam = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "created_at")
    items, total = service.list_webhooks(
        session,
        principal,
        enabled=enabled,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/event-types", name="webhooks_event_types", response_model=Many[EventTypeInfo])
def list_event_types(request: Request, principal: CurrentPrincipal, page: Page) -> Any:
    del principal  # any authenticated caller may read the catalog
    items = service.event_types()
    return many(request, items[page.offset : page.offset + page.per_page], len(items), page)


@router.get("/settings", name="webhooks_settings_get", response_model=One[WebhookSettings])
def get_webhook_settings(session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get_settings(session, principal))


@router.put("/settings", name="webhooks_settings_put", response_model=One[WebhookSettings])
def put_webhook_settings(
    body: WebhookSettings, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.put_settings(session, principal, body))


@router.get("/{webhook_id}", name="webhooks_get", response_model=One[Webhook])
def get_webhook(webhook_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, webhook_id))


@router.patch("/{webhook_id}", name="webhooks_update", response_model=One[Webhook])
def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    session: WriteSession,
    principal: CurrentPrincipal,
    ctx: Context,
) -> Any:
    return one(service.update(session, principal, ctx, webhook_id, body))


@router.delete("/{webhook_id}", name="webhooks_delete", status_code=204, response_class=Response)
def delete_webhook(webhook_id: str, session: WriteSession, principal: CurrentPrincipal) -> Response:
    service.delete(session, principal, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    name="webhooks_rotate_secret",
    response_model=One[WebhookWithSecret],
)
def rotate_webhook_secret(
    webhook_id: str,
    session: WriteSession,
    principal: CurrentPrincipal,
    ctx: Context,
    body: SecretRotation | None = None,
) -> Any:
    return one(service.rotate_secret(session, principal, ctx, webhook_id, body or SecretRotation()))


@router.post(
    "/{webhook_id}/test", name="webhooks_test", status_code=202, response_model=One[Delivery]
)
def test_webhook(webhook_id: str, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(service.send_test(session, principal, webhook_id))


@router.get("/{webhook_id}/deliveries", name="webhooks_deliveries", response_model=Many[Delivery])
def list_deliveries(
    request: Request,
    webhook_id: str,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    status: DeliveryStatus | None = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    items, total = service.list_deliveries(
        session,
        principal,
        webhook_id,
        status=status,
        event_type=event_type,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    name="webhooks_redeliver",
    status_code=202,
    response_model=One[Delivery],
)
def redeliver(
    webhook_id: str, delivery_id: str, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.redeliver(session, principal, webhook_id, delivery_id))
