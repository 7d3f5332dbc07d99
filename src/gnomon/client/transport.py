"""Sending one API call: auth headers, retries with backoff and jitter, errors.

What is retried, and why it is safe:

- ``429``: the rate limiter answers before the request runs, so any method may be sent again,
  after the server's ``Retry-After`` (the seed's ``handleRateLimit``).
- A connection that could not be opened (``ConnectError``, connect timeout): nothing reached the
  server, so any method may be sent again.
- ``502/503/504`` and connections that broke after the request was sent: the server may have
  acted, so only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) and POSTs carrying an
  ``Idempotency-Key`` are sent again. The SDK adds a fresh key to every POST and keeps it for all
  attempts of that call, so the server performs a retried POST once and replays its answer.
  PATCH is never retried after it may have been received.

Waits grow exponentially (``backoff_base * 2**attempt``, capped at ``backoff_max``) with full
jitter, so that many clients failing together do not come back together; a ``Retry-After``
longer than the computed wait wins.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from gnomon.client.errors import (
    APIConnectionError,
    APIError,
    error_from_response,
    parse_retry_after,
)

__all__ = ["AsyncTransport", "RetryPolicy", "SyncTransport"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = "gnomon-python-sdk/0.1"
# Errors raised before a byte of the request left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. ``max_retries=0`` turns retrying off."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    # A server asking for a longer pause than this is not waited for: the error is raised.
    max_retry_after: float = 300.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({502, 503, 504}))

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(0, ceiling)


@dataclass(frozen=True)
class _Plan:
    """One call, prepared: the same headers (and Idempotency-Key) for every attempt."""

    method: str
    url: str
    params: Mapping[str, Any] | None
    json: Any
    headers: dict[str, str]
    safe_to_resend: bool


def _prepare(
    method: str,
    url: str,
    *,
    json: Any,
    headers: Mapping[str, str] | None,
    auto_idempotency: bool,
    params: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> _Plan:
    method = method.upper()
    out = dict(headers or {})
    if method == "POST":
        key = idempotency_key or (uuid.uuid4().hex if auto_idempotency else None)
        if key:
            out["Idempotency-Key"] = key
    safe = method in IDEMPOTENT_METHODS or "Idempotency-Key" in out
    clean = {k: v for k, v in (params or {}).items() if v is not None}
    return _Plan(method, url, clean or None, json, out, safe)


def _wait_after_status(
    policy: RetryPolicy, plan: _Plan, response: httpx.Response, attempt: int
) -> float | None:
    """Seconds to wait before retrying this response, or None when it must not be retried."""
    if attempt >= policy.max_retries:
        return None
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 429 or (status in policy.retry_statuses and plan.safe_to_resend):
        wait = max(retry_after or 0.0, policy.backoff(attempt))
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None
        return wait
    return None


def _wait_after_exception(
    policy: RetryPolicy, plan: _Plan, exc: httpx.TransportError, attempt: int
) -> float | None:
    if attempt >= policy.max_retries:
        return None
    if isinstance(exc, _NOT_SENT) or plan.safe_to_resend:
        return policy.backoff(attempt)
    return None


def _connection_error(plan: _Plan, exc: httpx.TransportError) -> APIConnectionError:
    return APIConnectionError(
        f"{plan.method} {plan.url} failed: {type(exc).__name__}: {exc}",
        method=plan.method,
        url=plan.url,
    )


def base_headers(token: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    return headers


class SyncTransport:
    """Sends calls through an ``httpx.Client`` (thread-safe, so ``batch`` can share it)."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy,
        *,
        auto_idempotency: bool = True,
        sleep: Any = time.sleep,
    ) -> None:
        self.http = http
        self.policy = policy
        self.auto_idempotency = auto_idempotency
        self._sleep = sleep

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send with retries; return the 2xx/3xx response or raise an ``APIError``."""
        plan = _prepare(
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            idempotency_key=idempotency_key,
            auto_idempotency=self.auto_idempotency,
        )
        return self._send(plan, stream=False)

    @contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but a successful response's body is left unread, to be read as
        it arrives inside the block (retries happen before any of it is handed out)."""
        plan = _prepare(
            method, url, json=json, headers=headers, auto_idempotency=self.auto_idempotency
        )
        response = self._send(plan, stream=True)
        try:
            yield response
        finally:
            response.close()

    def _send(self, plan: _Plan, *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            try:
                request = self.http.build_request(
                    plan.method, plan.url, params=plan.params, json=plan.json, headers=plan.headers
                )
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                wait = _wait_after_exception(self.policy, plan, exc, attempt)
                if wait is None:
                    raise _connection_error(plan, exc) from exc
                self._sleep(wait)
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            if stream:  # the error body is small: read it for the error, then let it go
                response.read()
                response.close()
            wait = _wait_after_status(self.policy, plan, response, attempt)
            if wait is None:
                raise error_from_response(response)
            self._sleep(wait)
            attempt += 1


class AsyncTransport:
    """The same rules over an ``httpx.AsyncClient``."""

    def __init__(
        self, http: httpx.AsyncClient, policy: RetryPolicy, *, auto_idempotency: bool = True
    ) -> None:
        self.http = http
        self.policy = policy
        self.auto_idempotency = auto_idempotency

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        plan = _prepare(
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            idempotency_key=idempotency_key,
            auto_idempotency=self.auto_idempotency,
        )
        return await self._send(plan, stream=False)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """See :meth:`SyncTransport.stream`."""
        plan = _prepare(
            method, url, json=json, headers=headers, auto_idempotency=self.auto_idempotency
        )
        response = await self._send(plan, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _send(self, plan: _Plan, *, stream: bool) -> httpx.Response:
        attempt = 0
        while True:
            try:
                request = self.http.build_request(
                    plan.method, plan.url, params=plan.params, json=plan.json, headers=plan.headers
                )
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                wait = _wait_after_exception(self.policy, plan, exc, attempt)
                if wait is None:
                    raise _connection_error(plan, exc) from exc
                await asyncio.sleep(wait)
                attempt += 1
                continue
            if response.status_code < 400:
                return response
            if stream:
                await response.aread()
                await response.aclose()
            wait = _wait_after_status(self.policy, plan, response, attempt)
            if wait is None:
                raise error_from_response(response)
            await asyncio.sleep(wait)
            attempt += 1


def is_retryable_error(exc: BaseException) -> bool:
    """For callers that add their own outer retry loop (e.g. around a whole sync job)."""
    if isinstance(exc, APIConnectionError):
        return True
    return isinstance(exc, APIError) and exc.status_code in (429, 502, 503, 504)
