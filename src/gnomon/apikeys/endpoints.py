"""``/api/v1/api-keys``: create (secret shown once), list, get, update, rotate, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.apikeys import service
from gnomon.apikeys.repository import SORTABLE
from gnomon.apikeys.schemas import ApiKey, ApiKeyCreate, ApiKeyUpdate, ApiKeyWithSecret

SortParam = Annotated[str | None, sort_query(list(SORTABLE))]

router = APIRouter(prefix="/api-keys", tags=["api-keys"], responses=common_responses())


@router.post("", name="api_keys_create", status_code=201, response_model=One[ApiKeyWithSecret])
def create_api_key(body: ApiKeyCreate, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(service.create(session, principal, body))


@router.get("", name="api_keys_list", response_model=Many[ApiKey])
def list_api_keys(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    sort: SortParam = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "-created_at")
    items, total = service.list_keys(
        session,
        principal,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{key_id}", name="api_keys_get", response_model=One[ApiKey])
def get_api_key(key_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, key_id))


@router.patch("/{key_id}", name="api_keys_update", response_model=One[ApiKey])
def update_api_key(
    key_id: str, body: ApiKeyUpdate, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.update(session, principal, key_id, body))


@router.post("/{key_id}/rotate", name="api_keys_rotate", response_model=One[ApiKeyWithSecret])
def rotate_api_key(key_id: str, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(service.rotate(session, principal, key_id))


@router.delete("/{key_id}", name="api_keys_revoke", status_code=204, response_class=Response)
def revoke_api_key(key_id: str, session: WriteSession, principal: CurrentPrincipal) -> Response:
    service.revoke(session, principal, key_id)
    return Response(status_code=204)
