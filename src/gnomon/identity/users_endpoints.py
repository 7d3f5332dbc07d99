"""``/api/v1/users``: create, find (``?email=``), list, get, replace, patch, deactivate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from gnomon.api.deps import CurrentPrincipal, Page, ReadSession, WriteSession
from gnomon.api.envelope import Many, One, many, one, parse_sort, sort_query
from gnomon.api.errors import common_responses, status_for
from gnomon.errors import GnomonError
from gnomon.identity import users_service as service
from gnomon.identity.repository import SORTABLE
from gnomon.identity.schemas import (
    BatchItemError,
    BatchMeta,
    User,
    UserBatch,
    UserBatchItem,
    UserBatchResult,
    UserCreate,
    UserPatch,
    UserReplace,
)

router = APIRouter(prefix="/users", tags=["users"], responses=common_responses())
SortParam = Annotated[str | None, sort_query(list(SORTABLE))]


@router.post("", name="users_create", status_code=201, response_model=One[User])
def create_user(body: UserCreate, session: WriteSession, principal: CurrentPrincipal) -> Any:
    return one(service.create(session, principal, body))


@router.post("/batch", name="users_create_batch", response_model=UserBatchResult)
def create_users(body: UserBatch, session: WriteSession, principal: CurrentPrincipal) -> Any:
    """Create up to 1000 users in one request, each on its own: one item's error (201 or the
    status it would have had alone, with the usual error body) does not stop the others."""
    items = []
    for index, outcome in enumerate(service.create_many(session, principal, body.users)):
        if isinstance(outcome, GnomonError):
            error = BatchItemError(
                error=outcome.code, message=outcome.message, details=list(outcome.details)
            )
            items.append(UserBatchItem(index=index, status=status_for(outcome), error=error))
        else:
            items.append(UserBatchItem(index=index, status=201, data=outcome))
    created = sum(1 for item in items if item.status == 201)
    meta = BatchMeta(total=len(items), created=created, failed=len(items) - created)
    return UserBatchResult(data=items, meta=meta)


@router.get("", name="users_list", response_model=Many[User])
def list_users(
    request: Request,
    session: ReadSession,
    principal: CurrentPrincipal,
    page: Page,
    email: Annotated[str | None, Query(max_length=320, description="Exact email.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of name or email.")] = None,
    group: Annotated[str | None, Query(max_length=200, description="Group name.")] = None,
    active: Annotated[bool | None, Query()] = None,
    sort: SortParam = None,
) -> Any:
    spec = parse_sort(sort, list(SORTABLE), "created_at")
    items, total = service.list_users(
        session,
        principal,
        email=email,
        q=q,
        group=group,
        active=active,
        sort=spec.field,
        descending=spec.descending,
        offset=page.offset,
        limit=page.per_page,
    )
    return many(request, items, total, page)


@router.get("/{user_id}", name="users_get", response_model=One[User])
def get_user(user_id: str, session: ReadSession, principal: CurrentPrincipal) -> Any:
    return one(service.get(session, principal, user_id))


@router.put("/{user_id}", name="users_replace", response_model=One[User])
def replace_user(
    user_id: str, body: UserReplace, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.replace(session, principal, user_id, body))


@router.patch("/{user_id}", name="users_update", response_model=One[User])
def update_user(
    user_id: str, body: UserPatch, session: WriteSession, principal: CurrentPrincipal
) -> Any:
    return one(service.patch(session, principal, user_id, body))


@router.delete("/{user_id}", name="users_deactivate", status_code=204, response_class=Response)
def deactivate_user(user_id: str, session: WriteSession, principal: CurrentPrincipal) -> Response:
    service.deactivate(session, principal, user_id)
    return Response(status_code=204)
