"""``/api/v1/user-attributes``: attribute definitions (values live on users and groups)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.identity import attributes_service as service
from gnomon.identity.attributes_repository import SORTABLE
from gnomon.identity.schemas import UserAttribute, UserAttributeCreate, UserAttributePatch

router = APIRouter(
    prefix="/user-attributes", tags=["user-attributes"], responses=common_responses()
)
SortParam = Annotated[str | None, sort_query(list(SORTABLE))]


@router.post("", name="user_attributes_create", status_code=201, response_model=One[UserAttribute])
def create_attribute(
    body: UserAttributeCreate, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.create(session, principal, body))


@router.get("", name="user_attributes_list", response_model=Many[UserAttribute])
def list_attributes(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    sort: SortParam = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "name")
    items, total = service.list_attributes(
        session,
        principal,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{attribute_id}", name="user_attributes_get", response_model=One[UserAttribute])
def get_attribute(attribute_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, attribute_id))


@router.patch("/{attribute_id}", name="user_attributes_update", response_model=One[UserAttribute])
def update_attribute(
    attribute_id: str,
    body: UserAttributePatch,
    session: WriteSession,
    principal: CurrentPrincipal,
) -> Any:
    return one(service.update(session, principal, attribute_id, body))


@router.delete(
    "/{attribute_id}", name="user_attributes_delete", status_code=204, response_class=Response
)
def delete_attribute(
    attribute_id: str, session: WriteSession, principal: CurrentPrincipal
) -> Response:
    service.delete(session, principal, attribute_id)
    return Response(status_code=204)
