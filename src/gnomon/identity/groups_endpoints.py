"""``/api/v1/groups``: flat groups with members, attribute values and connection roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.identity import groups_service as service
from gnomon.identity.groups_repository import SORTABLE
from gnomon.identity.schemas import Group, GroupCreate, GroupPatch

router = APIRouter(prefix="/groups", tags=["groups"], responses=common_responses())
SortParam = Annotated[str | None, sort_query(list(SORTABLE))]


@router.post("", name="groups_create", status_code=201, response_model=One[Group])
def create_group(body: GroupCreate, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(service.create(session, principal, body))


@router.get("", name="groups_list", response_model=Many[Group])
def list_groups(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    name: Annotated[str | None, Query(max_length=200, description="Exact name.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    sort: SortParam = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "name")
    items, total = service.list_groups(
        session,
        principal,
        name=name,
        q=q,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{group_id}", name="groups_get", response_model=One[Group])
def get_group(group_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, group_id))


@router.patch("/{group_id}", name="groups_update", response_model=One[Group])
def update_group(
    group_id: str, body: GroupPatch, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.patch(session, principal, group_id, body))


@router.delete("/{group_id}", name="groups_delete", status_code=204, response_class=Response)
def delete_group(group_id: str, session: WriteSession, principal: CurrentPrincipal) -> Response:
    service.delete_group(session, principal, group_id)
    return Response(status_code=204)
