"""Pure ASGI middleware: request ids, access logs and metrics, body limits, rate limits.

Pure ASGI (not ``BaseHTTPMiddleware``) so streamed responses stay streamed and the per-request
overhead stays in microseconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.api.ratelimit import RateLimiter
from gnomon.logging import request_id_var
from gnomon.metrics import Metrics

log = logging.getLogger("gnomon.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMETERED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def credential_fingerprint(scope: Scope) -> str | None:
    """A stable, non-reversible id of the caller's bearer credential."""
    auth = header(scope, b"authorization")
    if not auth:
        return None
    return hashlib.sha256(auth.strip().encode()).hexdigest()[:32]


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    request_id: str | None,
    headers: Mapping[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> None:
    body = json.dumps(
        {"error": code, "message": message, "details": details or [], "request_id": request_id}
    ).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    for k, v in (headers or {}).items():
        raw_headers.append((k.lower().encode(), v.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body`` (read already, by a middleware) as the whole
    request, then carries on with the connection's own messages (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestContextMiddleware:
    """Assigns the request id (honouring a sane incoming ``X-Request-Id``), sets it for logs,
    adds it to every response, and records the access log line and HTTP metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = header(scope, b"x-request-id")
        rid = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder = [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                if not any(k == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            # The route's name (its operation id) is a stable, low-cardinality label.
            route = scope.get("route")
            route_name = getattr(route, "name", None) or "unmatched"
            self.metrics.observe_request(scope["method"], route_name, status_holder[0], elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status_holder[0],
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_holder[0],
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """413 for bodies over the limit, whether declared by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id")
        declared = header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_error(send, 400, "bad_request", "invalid Content-Length", rid)
                return
            if int(declared) > self.max_bytes:
                await send_error(send, 413, "payload_too_large", self._message(), rid)
                return
        if declared is not None or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked upload): read it here, bounded, so the limit is enforced
        # before the application sees a byte, then hand the buffered body on.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await send_error(send, 413, "payload_too_large", self._message(), rid)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, replay_body(b"".join(chunks), receive), send)

    def _message(self) -> str:
        return f"request body is larger than the limit of {self.max_bytes} bytes"


class RateLimitMiddleware:
    """Token bucket per API key (per client address for anonymous calls).

    Keyed by a fingerprint of the credential so that limiting happens before any database work,
    and so one noisy key never drains another's bucket.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNMETERED_PATHS:
            await self.app(scope, receive, send)
            return
        fingerprint = credential_fingerprint(scope)
        if fingerprint is None:
            client = scope.get("client") or ("unknown", 0)
            fingerprint = f"ip:{client[0]}"
        decision = self.limiter.hit(fingerprint)
        extra = decision.headers()
        if not decision.allowed:
            rid = scope.get("state", {}).get("request_id")
            await send_error(
                send,
                429,
                "rate_limited",
                f"rate limit of {decision.limit} requests exceeded; retry in "
                f"{decision.retry_after_s} s",
                rid,
                extra,
            )
            return
        encoded = [(k.lower().encode(), v.encode()) for k, v in extra.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await self.app(scope, receive, send_with_headers)
