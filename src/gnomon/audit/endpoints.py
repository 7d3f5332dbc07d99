"""``/api/v1/audit-events``: the audit log, its CSV export and chain verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, StreamSession
from gnomon.api.envelope import IsoDateTime, Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses
from gnomon.audit import service
from gnomon.audit.repository import EventFilter
from gnomon.audit.schemas import AuditEvent, ChainVerification

router = APIRouter(prefix="/audit-events", tags=["audit"], responses=common_responses())

CSV_TYPE = "text/csv"


def _filter(
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="Event type, or a prefix like `user.*`.")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=50)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[IsoDateTime | None, Query(description="Inclusive lower bound.")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Exclusive upper bound.")] = None,
) -> EventFilter:
    return EventFilter(actor_id, action, target_type, target_id, since, until)


Filter = Annotated[EventFilter, Depends(_filter)]


@router.get(
    "",
    name="audit_events_list",
    response_model=Many[AuditEvent],
    responses={200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}},
    summary="List audit events (JSON), or export them (Accept: text/csv)",
)
def list_audit_events(
    request: Request,
    session: StreamSession,
    principal: CurrentPrincipal,
    f: Filter,
    page: Page,
    sort: Annotated[str | None, sort_query(["occurred_at"])] = None,
) -> Any:
    spec = parse_sort(sort, ["occurred_at"], "-occurred_at")
    if CSV_TYPE in request.headers.get("accept", ""):
        chunks = service.export_csv(session, principal, f)
        return StreamingResponse(
            chunks,
            media_type=CSV_TYPE,
            headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
        )
    items, total = service.list_events(
        session, principal, f, descending=spec.descending, offset=page.offset, limit=page.per_page
    )
    return many(request, items, total, page)


@router.get("/verify", name="audit_events_verify", response_model=One[ChainVerification])
def verify_audit_chain(session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.verify(session, principal))


@router.get("/{event_id}", name="audit_events_get", response_model=One[AuditEvent])
def get_audit_event(event_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get_event(session, principal, event_id))
