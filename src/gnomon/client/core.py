"""The request layer both clients share: base URL, API prefix, envelope unwrapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, TypeVar

import httpx

from gnomon.client.pagination import Page, parse_page
from gnomon.client.transport import AsyncTransport, SyncTransport

T = TypeVar("T")

API_PREFIX = "/api/v1"

__all__ = ["API_PREFIX", "AsyncCore", "SyncCore", "api_path"]


def api_path(path: str) -> str:
    """``"/users"`` → ``"/api/v1/users"``; a path already under the prefix (a ``links.next``)
    or another root (``/healthz``, ``/scim/v2``) is kept as it is."""
    if path.startswith((API_PREFIX, "/healthz", "/readyz", "/scim/")):
        return path
    return API_PREFIX + (path if path.startswith("/") else "/" + path)


def _data(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    body = response.json()
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    return body


class SyncCore:
    def __init__(self, transport: SyncTransport) -> None:
        self.transport = transport

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        return self.transport.request(
            method,
            api_path(path),
            params=params,
            json=json,
            headers=headers,
            idempotency_key=idempotency_key,
        )

    def stream(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> AbstractContextManager[httpx.Response]:
        """The response with its body unread (see ``SyncTransport.stream``)."""
        return self.transport.stream(method, api_path(path), json=json, headers=headers)

    def data(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The ``data`` member of the envelope (None for 204)."""
        return _data(
            self.request(method, path, params=params, json=json, idempotency_key=idempotency_key)
        )

    def page(
        self, path: str, params: Mapping[str, Any] | None, parse: Callable[[Any], T]
    ) -> Page[T]:
        return parse_page(self.request("GET", path, params=params).json(), parse)

    def iterate(
        self, path: str, params: Mapping[str, Any] | None, parse: Callable[[Any], T]
    ) -> Iterator[T]:
        current = self.page(path, params, parse)
        while True:
            yield from current.items
            if current.next_url is None:
                return
            current = self.page(current.next_url, None, parse)


class AsyncCore:
    def __init__(self, transport: AsyncTransport) -> None:
        self.transport = transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        return await self.transport.request(
            method,
            api_path(path),
            params=params,
            json=json,
            headers=headers,
            idempotency_key=idempotency_key,
        )

    def stream(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> AbstractAsyncContextManager[httpx.Response]:
        return self.transport.stream(method, api_path(path), json=json, headers=headers)

    async def data(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        response = await self.request(
            method, path, params=params, json=json, idempotency_key=idempotency_key
        )
        return _data(response)

    async def page(
        self, path: str, params: Mapping[str, Any] | None, parse: Callable[[Any], T]
    ) -> Page[T]:
        response = await self.request("GET", path, params=params)
        return parse_page(response.json(), parse)

    async def iterate(
        self, path: str, params: Mapping[str, Any] | None, parse: Callable[[Any], T]
    ) -> AsyncIterator[T]:
        current = await self.page(path, params, parse)
        while True:
            for item in current.items:
                yield item
            if current.next_url is None:
                return
            current = await self.page(current.next_url, None, parse)
