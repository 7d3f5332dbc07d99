"""Request dependencies: the store session, the calling principal, pagination."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gnomon.api import writers
from gnomon.api.envelope import PageParams, page_params
from gnomon.apikeys import service as keys
from gnomon.config import Settings
from gnomon.errors import Forbidden, Unauthenticated
from gnomon.principal import Principal, RequestMeta
from gnomon.runtime import Runtime
from gnomon.store.db import Store, end_session

bearer = HTTPBearer(auto_error=False, description="An organization or personal API key.")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read_session(request: Request) -> AsyncIterator[Session]:
    """A read-only session. Async on purpose: making a session does no I/O (it connects at its
    first statement, inside the endpoint's worker thread), so this dependency need not cost a
    thread-pool hop on every request. Closing it ends the read transaction."""
    session = get_store(request).read_sessions()
    try:
        yield session
    finally:
        session.close()


async def write_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response is sent (scope=function).

    It waits for a writer place on the event loop first (:mod:`gnomon.api.writers`), and ends
    (commit or rollback, then close) in a thread that needs no pool token; the end is shielded
    from cancellation, so a client that goes away never leaves the store's writer lock held.
    """
    store = get_store(request)
    async with writers.writing(store):
        session = store.write_sessions()
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await writers.outside_pool(lambda: end_session(session, commit=False))
            raise
        with anyio.CancelScope(shield=True):
            await writers.outside_pool(lambda: end_session(session, commit=True))


def request_meta(request: Request) -> RequestMeta:
    client = request.client.host if request.client else None
    return RequestMeta(
        request_id=getattr(request.state, "request_id", None),
        client_ip=client,
        user_agent=request.headers.get("user-agent"),
    )


def _presented_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
    return credentials.credentials.strip()


def _is_admin_token(settings: Settings, token: str) -> bool:
    return settings.admin_token is not None and hmac.compare_digest(
        token.encode(), settings.admin_token.encode()
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = _presented_token(credentials)
    settings = get_settings(request)
    if _is_admin_token(settings, token):
        raise Forbidden("the platform key manages organizations only; use an organization key")
    store = get_store(request)

    def authenticate(engine: Engine) -> tuple[Principal, bool]:
        return keys.authenticate(
            engine,
            token,
            request_meta(request),
            touch_resolution_s=settings.key_last_used_resolution_s,
        )

    # The key lookup is one prepared read. On an embedded SQLite store that is a few tens of
    # microseconds of local I/O (WAL readers never wait) on the event loop's own connection,
    # less than a hop to the thread pool costs; a networked store is awaited in a thread.
    if store.loop_engine is not None:
        principal, due = authenticate(store.loop_engine)
    else:
        principal, due = await anyio.to_thread.run_sync(authenticate, store.engine)
    if due and principal.key_id is not None:
        key_id = principal.key_id

        def touch() -> None:
            with store.transaction(write=True) as session:
                keys.touch(session, key_id)

        # Not through the writer gate: this request may already hold a place there (its write
        # session can be resolved before this dependency). A thread of its own instead of a
        # pool token, so waiting for the writer never starves the pool (gnomon.api.writers).
        await writers.outside_pool(touch)
    request.state.principal = principal
    return principal


def platform_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> RequestMeta:
    """Only ``GNOMON_ADMIN_TOKEN`` passes; any other valid key is a 403."""
    token = _presented_token(credentials)
    settings = get_settings(request)
    if _is_admin_token(settings, token):
        return request_meta(request)
    keys.authenticate(
        get_store(request).engine, token, request_meta(request), touch_resolution_s=10**9
    )
    raise Forbidden("the organizations API needs the platform key (GNOMON_ADMIN_TOKEN)")


ReadSession = Annotated[Session, Depends(read_session, scope="function")]
# Lives until the response is fully sent: for streamed (CSV, Arrow) read-only responses.
StreamSession = Annotated[Session, Depends(read_session, scope="request")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
PlatformCaller = Annotated[RequestMeta, Depends(platform_caller)]
Page = Annotated[PageParams, Depends(page_params)]


# Dependencies that only read app state are async: a sync dependency costs a thread-pool hop
# per request, which is most of what a cached query answer spends in the framework.
async def runtime_dependency(request: Request) -> Runtime:
    return get_runtime(request)


async def settings_dependency(request: Request) -> Settings:
    return get_settings(request)


CurrentRuntime = Annotated[Runtime, Depends(runtime_dependency)]
CurrentSettings = Annotated[Settings, Depends(settings_dependency)]
