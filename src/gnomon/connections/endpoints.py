"""``/api/v1/connections``: CRUD, test, refresh."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from gnomon.api.deps import CurrentPrincipal, CurrentRuntime, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.connections import service
from gnomon.connections.repository import SORTABLE
from gnomon.connections.schemas import (
    Connection,
    ConnectionCreate,
    ConnectionTest,
    ConnectionUpdate,
)

router = APIRouter(prefix="/connections", tags=["connections"], responses=common_responses())


@router.post(
    "",
    name="connections_create",
    status_code=201,
    response_model=One[Connection],
    response_model_by_alias=True,
)
def create_connection(
    body: ConnectionCreate,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(service.create(session, principal, runtime, body))


@router.get("", name="connections_list", response_model=Many[Connection])
def list_connections(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    sort: Annotated[str | None, sort_query(list(SORTABLE))] = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "name")
    items, total = service.list_connections(
        session,
        principal,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{connection_id}", name="connections_get", response_model=One[Connection])
def get_connection(connection_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, connection_id))


@router.patch("/{connection_id}", name="connections_update", response_model=One[Connection])
def update_connection(
    connection_id: str,
    body: ConnectionUpdate,
    session: WriteSession,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
) -> Any:
    return one(service.update(session, principal, runtime, connection_id, body))


@router.delete(
    "/{connection_id}", name="connections_delete", status_code=204, response_class=Response
)
def delete_connection(
    connection_id: str, session: WriteSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Response:
    service.delete(session, principal, runtime, connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/test", name="connections_test", response_model=One[ConnectionTest])
def test_connection(
    connection_id: str, session: ReadSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Any:
    return one(service.test(session, principal, runtime, connection_id))


@router.post("/{connection_id}/refresh", name="connections_refresh", response_model=One[Connection])
def refresh_connection(
    connection_id: str, session: WriteSession, principal: CurrentPrincipal, runtime: CurrentRuntime
) -> Any:
    return one(service.refresh(session, principal, runtime, connection_id))
