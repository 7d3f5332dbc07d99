"""``Idempotency-Key`` on POST: a retried request returns the first response.

Same key + same request → the stored response is replayed (with ``Idempotent-Replayed: true``)
and nothing runs twice. Same key + a different request → 422. A request still running under
the key → 409. Keys are scoped to the caller's credential, kept for
``GNOMON_IDEMPOTENCY_TTL_S``. 5xx responses are not stored, so a retry after a server error runs
again. Responses larger than :data:`MAX_STORED_BYTES` (big exports) are not replayable.
"""

from __future__ import annotations

import hashlib

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gnomon.api import writers
from gnomon.api.middleware import credential_fingerprint, header, replay_body, send_error
from gnomon.idempotency import repository as repo
from gnomon.store.db import Store

MAX_KEY_LENGTH = 255
MAX_STORED_BYTES = 5 * 1024 * 1024
_REPLAYED_HEADERS = ("content-type", "location", "etag")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, store: Store, ttl_s: int) -> None:
        self.app = app
        self.store = store
        self.ttl_s = ttl_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = header(scope, b"idempotency-key")
        fingerprint = credential_fingerprint(scope) if key is not None else None
        if key is None or fingerprint is None:
            await self.app(scope, receive, send)
            return
        rid = scope.get("state", {}).get("request_id")
        if not key or len(key) > MAX_KEY_LENGTH:
            await send_error(
                send,
                422,
                "invalid",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                rid,
                details=[{"path": ["header", "Idempotency-Key"], "code": "invalid"}],
            )
            return

        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"] + (
            "?" + scope["query_string"].decode() if scope["query_string"] else ""
        )
        digest = hashlib.sha256(
            b"\0".join([scope["method"].encode(), path.encode(), body])
        ).hexdigest()

        def _claim() -> repo.Stored | None:
            with self.store.transaction() as session:
                return repo.claim(session, fingerprint, key, "POST", path, digest, self.ttl_s)

        existing = await writers.run_writing(self.store, _claim)
        if existing is not None:
            await self._answer_existing(existing, digest, rid, send)
            return

        replay_receive = replay_body(body, receive)
        status = 500
        resp_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        size = 0

        async def capture_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    name = bytes(k).decode("latin-1").lower()
                    if name in _REPLAYED_HEADERS:
                        resp_headers[name] = bytes(v).decode("latin-1")
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_STORED_BYTES:
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            storable = status < 500 and size <= MAX_STORED_BYTES

            def _finish() -> None:
                with self.store.transaction() as session:
                    if storable:
                        repo.complete(
                            session,
                            fingerprint,
                            key,
                            status,
                            resp_headers.get("content-type"),
                            b"".join(chunks),
                            resp_headers,
                        )
                    else:
                        repo.release(session, fingerprint, key)

            # Shielded: a client that went away must not leave its key claimed.
            with anyio.CancelScope(shield=True):
                await writers.run_writing(self.store, _finish)

    async def _answer_existing(
        self, existing: repo.Stored, digest: str, rid: str | None, send: Send
    ) -> None:
        if existing.request_hash != digest:
            await send_error(
                send,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
                rid,
                details=[{"path": ["header", "Idempotency-Key"], "code": "reused"}],
            )
            return
        if existing.state != "done" or existing.status is None:
            await send_error(
                send,
                409,
                "conflict",
                "a request with this Idempotency-Key is still being processed",
                rid,
            )
            return
        payload = existing.body or b""
        headers = [(k.encode(), v.encode()) for k, v in existing.headers.items()]
        headers += [
            (b"content-length", str(len(payload)).encode()),
            (b"idempotent-replayed", b"true"),
        ]
        await send({"type": "http.response.start", "status": existing.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
