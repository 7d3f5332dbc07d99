"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from gnomon import __version__
from gnomon.api import errors, system
from gnomon.api.direct import DirectLane, DirectRoute
from gnomon.api.idempotency import IdempotencyMiddleware
from gnomon.api.middleware import BodyLimitMiddleware, RateLimitMiddleware, RequestContextMiddleware
from gnomon.api.ratelimit import create_rate_limiter
from gnomon.apikeys.endpoints import router as api_keys_router
from gnomon.audit.endpoints import router as audit_router
from gnomon.config import Settings
from gnomon.connections.endpoints import router as connections_router
from gnomon.content.endpoints import router as content_router
from gnomon.errors import ConfigurationError
from gnomon.identity.endpoints import routers as identity_routers
from gnomon.metrics import Metrics
from gnomon.modeling.endpoints import router as modeling_router
from gnomon.organizations.endpoints import router as organizations_router
from gnomon.queries.endpoints import router as queries_router
from gnomon.runtime import Runtime
from gnomon.scim.endpoints import PREFIX as SCIM_PREFIX
from gnomon.scim.endpoints import create_scim_app
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.webhooks.endpoints import router as webhooks_router

API_PREFIX = "/api/v1"

DESCRIPTION = """gnomon's REST API. Authenticate with `Authorization: Bearer <key>`.

Every success is `{"data", "meta", "links"}`; every error is
`{"error", "message", "details", "request_id"}`. Lists take `page` and `per_page` (max 200).
POSTs honour `Idempotency-Key`. Responses carry `X-Request-Id` and `RateLimit-*` headers.
"""

TAGS = [
    {"name": "organizations", "description": "Platform API (GNOMON_ADMIN_TOKEN)."},
    {"name": "api-keys", "description": "Organization and personal API keys."},
    {"name": "audit", "description": "The hash-chained audit log."},
    {"name": "users", "description": "Users (soft-deleted by DELETE)."},
    {"name": "groups", "description": "Flat groups of users."},
    {"name": "user-attributes", "description": "User attribute definitions."},
    {"name": "system", "description": "Who am I."},
]


def _operation_id(route: APIRoute) -> str:
    # Stable, readable operation ids (`api_keys_create`) instead of FastAPI's path-derived ones.
    return route.name


def open_store(settings: Settings) -> Store:
    """Open the metadata store; the embedded one is created and upgraded automatically."""
    if settings.is_embedded_store:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.resolved_database_url)
    if settings.is_embedded_store:
        migrate.upgrade(store.engine)
    elif not migrate.is_up_to_date(store.engine):
        store.dispose()
        raise ConfigurationError(
            "the metadata store is not at the current schema revision; run `gnomon db upgrade`"
        )
    return store


def api_routers() -> list[APIRouter]:
    # FastAPI tries the routers in this order and every route's pattern within each, so the
    # Query API, the hot path, comes first (no two routers share a path prefix).
    return [
        queries_router,
        organizations_router,
        api_keys_router,
        audit_router,
        *identity_routers,
        connections_router,
        modeling_router,
        content_router,
        webhooks_router,
    ]


def direct_routes() -> dict[str, DirectRoute]:
    """The API's direct routes by the paths the application serves them at."""
    return {
        API_PREFIX + route.path: route
        for router in api_routers()
        for route in router.routes
        if isinstance(route, DirectRoute)
    }


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_safe()
    own_store = store is None
    store = store or open_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.runtime.close()
        if own_store:
            store.dispose()

    app = FastAPI(
        title="gnomon",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        openapi_tags=TAGS,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = Metrics()
    app.state.runtime = Runtime.create(settings, app.state.metrics, store)

    errors.install(app)
    app.include_router(system.router)
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX)
    app.mount(SCIM_PREFIX, create_scim_app(settings, store))

    # Added innermost first: the request id wraps everything, then size, rate, idempotency, and
    # the direct lane for the hot endpoint (gnomon.api.direct).
    app.add_middleware(DirectLane, application=app, routes=direct_routes())
    app.add_middleware(IdempotencyMiddleware, store=store, ttl_s=settings.idempotency_ttl_s)
    limiter = create_rate_limiter(settings.rate_limit, settings.redis_url)
    if limiter is not None:
        app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
