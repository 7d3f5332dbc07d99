"""``Gnomon`` and ``AsyncGnomon``: one object per server, one attribute per API area."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from gnomon.client.batch import BatchResults, run_batch, run_batch_async
from gnomon.client.core import AsyncCore, SyncCore
from gnomon.client.errors import GnomonClientError
from gnomon.client.models import WhoAmI
from gnomon.client.resources.content import AsyncDocuments, AsyncFolders, Documents, Folders
from gnomon.client.resources.identity import (
    AsyncGroups,
    AsyncUserAttributes,
    AsyncUsers,
    Groups,
    UserAttributes,
    Users,
)
from gnomon.client.resources.modeling import (
    AsyncConnections,
    AsyncModelResource,
    AsyncQueries,
    Connections,
    ModelResource,
    Queries,
)
from gnomon.client.resources.platform import (
    ApiKeys,
    AsyncApiKeys,
    AsyncAuditEvents,
    AsyncOrganizations,
    AuditEvents,
    Organizations,
)
from gnomon.client.resources.webhooks import AsyncWebhooks, Webhooks
from gnomon.client.transport import AsyncTransport, RetryPolicy, SyncTransport, base_headers

__all__ = ["AsyncGnomon", "Gnomon"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TIMEOUT = 60.0


def _resolve(url: str | None, token: str | None) -> tuple[str, str | None]:
    """Explicit arguments win; otherwise ``GNOMON_URL`` / ``GNOMON_TOKEN`` (as the CLI reads)."""
    resolved_url = url or os.environ.get("GNOMON_URL")
    if not resolved_url:
        raise GnomonClientError("no server URL: pass url=... or set GNOMON_URL")
    return resolved_url.rstrip("/"), token if token is not None else os.environ.get("GNOMON_TOKEN")


class Gnomon:
    """A synchronous client. Thread-safe: ``batch`` shares it across its worker threads.

    >>> client = Gnomon("http://127.0.0.1:8080", "gnm_...")  # doctest: +SKIP
    >>> client.users.create({"email": "ada@example.com", "name": "Ada"})  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        auto_idempotency: bool = True,
    ) -> None:
        self.url, self.token = _resolve(url, token)
        self._own_http = http_client is None
        self.http = http_client or httpx.Client(timeout=timeout)
        # The base URL and credentials are set here even on a caller's client, so that a
        # client passed only for its event hooks or transport still talks to this server.
        self.http.base_url = httpx.URL(self.url)
        self.http.headers.update(base_headers(self.token, headers))
        self.retry = retry or RetryPolicy()
        core = SyncCore(SyncTransport(self.http, self.retry, auto_idempotency=auto_idempotency))
        self._core = core
        self.organizations = Organizations(core)
        self.api_keys = ApiKeys(core)
        self.audit_events = AuditEvents(core)
        self.users = Users(core)
        self.groups = Groups(core)
        self.user_attributes = UserAttributes(core)
        self.folders = Folders(core)
        self.documents = Documents(core)
        self.connections = Connections(core)
        self.model = ModelResource(core)
        self.queries = Queries(core)
        self.webhooks = Webhooks(core)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any call the resource objects do not cover, with the same retries and errors."""
        return self._core.request(method, path, **kwargs)

    def whoami(self) -> WhoAmI:
        return WhoAmI.model_validate(self._core.data("GET", "/whoami"))

    def batch(
        self, items: Iterable[T], fn: Callable[[T], R], *, concurrency: int = 10
    ) -> BatchResults[T, R]:
        """``fn(item)`` for every item, ``concurrency`` at a time; one ``Settled`` per item."""
        return run_batch(items, fn, concurrency=concurrency)

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> Gnomon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncGnomon:
    """The asyncio client; the same areas, every call awaited."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        auto_idempotency: bool = True,
    ) -> None:
        self.url, self.token = _resolve(url, token)
        self._own_http = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=timeout)
        self.http.base_url = httpx.URL(self.url)
        self.http.headers.update(base_headers(self.token, headers))
        self.retry = retry or RetryPolicy()
        core = AsyncCore(AsyncTransport(self.http, self.retry, auto_idempotency=auto_idempotency))
        self._core = core
        self.organizations = AsyncOrganizations(core)
        self.api_keys = AsyncApiKeys(core)
        self.audit_events = AsyncAuditEvents(core)
        self.users = AsyncUsers(core)
        self.groups = AsyncGroups(core)
        self.user_attributes = AsyncUserAttributes(core)
        self.folders = AsyncFolders(core)
        self.documents = AsyncDocuments(core)
        self.connections = AsyncConnections(core)
        self.model = AsyncModelResource(core)
        self.queries = AsyncQueries(core)
        self.webhooks = AsyncWebhooks(core)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._core.request(method, path, **kwargs)

    async def whoami(self) -> WhoAmI:
        return WhoAmI.model_validate(await self._core.data("GET", "/whoami"))

    async def batch(
        self, items: Iterable[T], fn: Callable[[T], Awaitable[R]], *, concurrency: int = 10
    ) -> BatchResults[T, R]:
        return await run_batch_async(items, fn, concurrency=concurrency)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncGnomon:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
