"""The SCIM 2.0 application, mounted at ``/scim/v2``.

A separate ASGI app so that every response under ``/scim/v2`` — including 401s and unknown
paths — carries SCIM's error body and media type, while the main app's middleware (request id,
rate limits, body limits) still wraps it. It is not part of the OpenAPI document: SCIM describes
itself through ``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gnomon import policy
from gnomon.api import writers
from gnomon.api.deps import CurrentPrincipal, ReadSession, WriteSession
from gnomon.config import Settings
from gnomon.scim import bulk, errors, models, service
from gnomon.store.db import Store

PREFIX = "/scim/v2"
router = APIRouter()
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{PREFIX}"


def _json(doc: Any, status: int = 200) -> JSONResponse:
    headers = {}
    if isinstance(doc, dict) and "meta" in doc and "version" in doc["meta"]:
        headers["ETag"] = doc["meta"]["version"]
        if status == 201:
            headers["Location"] = doc["meta"]["location"]
    return JSONResponse(doc, status_code=status, media_type=errors.SCIM_JSON, headers=headers)


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise errors.ScimError(400, f"request body is not JSON: {exc}", "invalidSyntax") from exc


async def _in_transaction(request: Request, write: bool, fn: Callable[[Any], Any]) -> Any:
    """Run store work off the event loop, in one transaction (committed before responding)."""
    store: Store = request.app.state.store

    def run() -> Any:
        with store.transaction(write=write) as session:
            return fn(session)

    if write:
        return await writers.run_writing(store, run)
    return await run_in_threadpool(run)


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


def _one_of(items: list[dict[str, Any]], key: str, value: str, what: str) -> dict[str, Any]:
    for item in items:
        if item[key] == value:
            return item
    raise errors.ScimError(404, f"{what} {value} not found")


@router.get("/ServiceProviderConfig")
def service_provider_config(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    policy.require_organization_key(principal, "SCIM")
    settings: Settings = request.app.state.settings
    return _json(
        models.service_provider_config(
            _base(request),
            max_operations=bulk.MAX_OPERATIONS,
            max_payload_size=settings.max_body_bytes,
        )
    )


@router.get("/ResourceTypes")
def resource_types(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    policy.require_organization_key(principal, "SCIM")
    return _json(_list(models.resource_types(_base(request))))


@router.get("/ResourceTypes/{name}")
def resource_type(name: str, request: Request, principal: CurrentPrincipal) -> JSONResponse:
    policy.require_organization_key(principal, "SCIM")
    return _json(_one_of(models.resource_types(_base(request)), "id", name, "ResourceType"))


@router.get("/Schemas")
def schemas(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    policy.require_organization_key(principal, "SCIM")
    return _json(_list(models.schemas(_base(request))))


@router.get("/Schemas/{schema_id}")
def schema(schema_id: str, request: Request, principal: CurrentPrincipal) -> JSONResponse:
    policy.require_organization_key(principal, "SCIM")
    return _json(_one_of(models.schemas(_base(request)), "id", schema_id, "Schema"))


def _query_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in ("filter", "sortBy", "sortOrder", "attributes", "excludedAttributes"):
        if key in request.query_params:
            value = request.query_params[key]
            params[key] = value.split(",") if key.endswith("ttributes") else value
    for key in ("startIndex", "count"):
        if key in request.query_params:
            try:
                params[key] = int(request.query_params[key])
            except ValueError as exc:
                raise errors.ScimError(400, f"{key} must be an integer", "invalidValue") from exc
    return params


def _collection(kind: str) -> None:
    """Registers list, search, get, create, replace, patch and delete for Users or Groups."""
    path = f"/{kind}s"
    get_one: Callable[..., Any] = service.get_user if kind == "User" else service.get_group
    create: Callable[..., Any] = service.create_user if kind == "User" else service.create_group
    replace: Callable[..., Any] = service.replace_user if kind == "User" else service.replace_group
    patch: Callable[..., Any] = service.patch_user if kind == "User" else service.patch_group
    delete: Callable[..., Any] = service.delete_user if kind == "User" else service.delete_group

    @router.get(path, name=f"scim_{kind.lower()}s_list")
    def list_resources(
        request: Request,
        session: ReadSession,
        principal: CurrentPrincipal,
    ) -> JSONResponse:
        params = _query_params(request)
        return _json(service.search(session, principal, _base(request), kind, params))

    @router.post(f"{path}/.search", name=f"scim_{kind.lower()}s_search")
    async def search_resources(request: Request, principal: CurrentPrincipal) -> JSONResponse:
        body = await _body(request)
        base = _base(request)
        doc = await _in_transaction(
            request, False, lambda s: service.search(s, principal, base, kind, body)
        )
        return _json(doc)

    @router.get(f"{path}/{{resource_id}}", name=f"scim_{kind.lower()}s_get")
    def get_resource(
        resource_id: str, request: Request, session: ReadSession, principal: CurrentPrincipal
    ) -> JSONResponse:
        doc = get_one(session, principal, _base(request), resource_id)
        return _json(service.shape(kind, doc, _query_params(request)))

    @router.post(path, name=f"scim_{kind.lower()}s_create")
    async def create_resource(request: Request, principal: CurrentPrincipal) -> JSONResponse:
        body, base = await _body(request), _base(request)
        doc = await _in_transaction(request, True, lambda s: create(s, principal, base, body))
        return _json(doc, 201)

    @router.put(f"{path}/{{resource_id}}", name=f"scim_{kind.lower()}s_replace")
    async def replace_resource(
        resource_id: str, request: Request, principal: CurrentPrincipal, if_match: IfMatch = None
    ) -> JSONResponse:
        body, base = await _body(request), _base(request)
        doc = await _in_transaction(
            request, True, lambda s: replace(s, principal, base, resource_id, body, if_match)
        )
        return _json(doc)

    @router.patch(f"{path}/{{resource_id}}", name=f"scim_{kind.lower()}s_patch")
    async def patch_resource(
        resource_id: str, request: Request, principal: CurrentPrincipal, if_match: IfMatch = None
    ) -> JSONResponse:
        body, base = await _body(request), _base(request)
        doc = await _in_transaction(
            request, True, lambda s: patch(s, principal, base, resource_id, body, if_match)
        )
        return _json(doc)

    @router.delete(f"{path}/{{resource_id}}", name=f"scim_{kind.lower()}s_delete")
    def delete_resource(
        resource_id: str,
        session: WriteSession,
        principal: CurrentPrincipal,
        if_match: IfMatch = None,
    ) -> Response:
        delete(session, principal, resource_id, if_match)
        return Response(status_code=204)


_collection("User")
_collection("Group")


@router.post("/Bulk", name="scim_bulk")
async def bulk_request(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """Many operations in one request (RFC 7644 §3.7); each succeeds or fails on its own."""
    body, base = await _body(request), _base(request)
    doc = await _in_transaction(request, True, lambda s: bulk.run(s, principal, base, body))
    return _json(doc)


@router.post("/.search", name="scim_search")
async def search_all(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """Searches users and groups at once (RFC 7644 §3.4.3)."""
    body, base = await _body(request), _base(request)
    doc = await _in_transaction(
        request, False, lambda s: service.search(s, principal, base, "*", body)
    )
    return _json(doc)


def create_scim_app(settings: Settings, store: Store) -> FastAPI:
    """The SCIM app; it shares the main app's store and settings (its requests authenticate
    with the same dependencies)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.store = store
    errors.install(app)
    app.include_router(router)
    return app
