"""``/api/v1/organizations``: the platform API (``GNOMON_ADMIN_TOKEN`` only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from gnomon.api.deps import CurrentSettings, Page, PlatformCaller, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.organizations import service
from gnomon.organizations.repository import SORTABLE
from gnomon.organizations.schemas import Organization, OrganizationCreate, OrganizationCreated

router = APIRouter(prefix="/organizations", tags=["organizations"], responses=common_responses())


@router.post(
    "", name="organizations_create", status_code=201, response_model=One[OrganizationCreated]
)
def create_organization(
    body: OrganizationCreate,
    session: WriteSession,
    caller: PlatformCaller,
    settings: CurrentSettings,
) -> Any:
    return one(service.create(session, body, caller, settings))


@router.get("", name="organizations_list", response_model=Many[Organization])
def list_organizations(
    request: Request,
    session: ReadSession,
    caller: PlatformCaller,
    page: Page,
    sort: Annotated[str | None, sort_query(list(SORTABLE))] = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "created_at")
    items, total = service.list_orgs(
        session,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{org_id}", name="organizations_get", response_model=One[Organization])
def get_organization(org_id: str, session: ReadSession, caller: PlatformCaller) -> Any:
    return one(service.get(session, org_id))


@router.delete("/{org_id}", name="organizations_delete", status_code=204, response_class=Response)
def delete_organization(org_id: str, session: WriteSession, caller: PlatformCaller) -> Response:
    service.delete(session, org_id, caller)
    return Response(status_code=204)
