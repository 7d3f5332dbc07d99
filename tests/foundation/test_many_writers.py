"""More concurrent writers than the server has pool threads: every write succeeds.

On the SQLite store one transaction writes at a time. Writers used to wait for it inside pool
threads; with more of them than the pool's 40 tokens, the transaction holding the writer could
not get the thread FastAPI needs to validate its response before committing, and every writer
failed after 30 s with "database is locked". They now wait on the event loop
(``gnomon.api.writers``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from tests.live import live_server

TOKEN = "many-writers-org-token-0123456789abcdef"
CLIENTS = 64  # more than the server's 40 pool threads
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"

_local = threading.local()


def _client(url: str) -> httpx.Client:
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
    return client


def test_more_writers_than_pool_threads_all_succeed(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", {"GNOMON_BOOTSTRAP_TOKEN": TOKEN}) as server:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            assert c.post("/api/v1/groups", json={"name": "crowd"}).status_code == 201
        barrier = threading.Barrier(CLIENTS)

        def write(i: int) -> tuple[int, float]:
            c = _client(server.url)
            if i < CLIENTS:
                barrier.wait(30)  # the first wave arrives at once
            started = time.monotonic()
            if i % 3 == 0:  # SCIM, a write transaction of its own
                r = c.post(
                    "/scim/v2/Users",
                    json={"schemas": [SCIM_USER], "userName": f"scim{i}@example.com"},
                )
            elif i % 3 == 1:  # REST, the request's write session
                r = c.post(
                    "/api/v1/users",
                    json={"email": f"rest{i}@example.com", "name": f"R {i}", "groups": ["crowd"]},
                )
            else:  # a failing query writes its history row and query.error event
                r = c.post("/api/v1/queries/sql", json={"connection": "nope", "sql": "select 1"})
                assert r.status_code == 404, r.text
                return 201, time.monotonic() - started
            return r.status_code, time.monotonic() - started

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(write, range(CLIENTS * 4)))

        statuses = [status for status, _ in results]
        slowest = max(seconds for _, seconds in results)
        assert statuses == [201] * len(results), statuses
        assert slowest < 20, slowest  # the writer lock's timeout is 30 s
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            users = c.get("/api/v1/users", params={"per_page": 1}).json()
            assert users["meta"]["total"] == sum(1 for i in range(CLIENTS * 4) if i % 3 != 2)
        assert "database is locked" not in server.log()
