"""Provisioning throughput: N users over SCIM and over /api/v1/users against a live server.

Starts a real ``gnomon serve`` (embedded SQLite store) on loopback, then creates users the way
an IdP and the seed's HR sync do: SCIM clients look the user up first (``userName eq``) and
then POST; the REST sync looks up ``?email=`` and then POSTs. Requests run from a small thread
pool (keep-alive connections), as a provisioning job would. Two more runs create the same number
of users 100 per request: through SCIM Bulk and through ``POST /api/v1/users/batch``. Prints users/s for each path and their ratios
(not a test).

Run: .venv/bin/python bench/bench_provisioning.py [N]      (default N = 10000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import live_server

TOKEN = "bench-provisioning-org-token-0123456789abcdef"
WORKERS = 8
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

_local = threading.local()


def _client(base: str) -> httpx.Client:
    client: httpx.Client | None = getattr(_local, "client", None)
    if client is None:
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
        _local.client = client
    return client


def scim_user(base: str, i: int) -> None:
    c = _client(base)
    name = f"scim{i}@example.com"
    found = c.get("/scim/v2/Users", params={"filter": f'userName eq "{name}"'})
    assert found.status_code == 200, found.text
    assert found.json()["totalResults"] == 0
    body = {
        "schemas": [USER, ENTERPRISE],
        "userName": name,
        "displayName": f"SCIM User {i}",
        "emails": [{"value": name, "type": "work", "primary": True}],
        "title": "Data Analyst",
        ENTERPRISE: {"employeeNumber": f"E{i}", "department": "Sales", "costCenter": "CC-1"},
    }
    r = c.post("/scim/v2/Users", json=body, headers={"Content-Type": "application/scim+json"})
    assert r.status_code == 201, r.text


BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_SIZE = 100
# An IdP sends its bulk requests one after the other (they serialise on the store's single
# writer anyway; BULK_WORKERS=2 or more measures overlapping ones).
BULK_WORKERS = int(os.environ.get("BULK_WORKERS", "1"))


def scim_bulk(base: str, chunk: int) -> None:
    """One SCIM Bulk request creating BULK_SIZE users (as an IdP that batches does)."""
    c = _client(base)
    first = chunk * BULK_SIZE
    operations = []
    for i in range(first, first + BULK_SIZE):
        name = f"bulk{i}@example.com"
        data = {
            "schemas": [USER, ENTERPRISE],
            "userName": name,
            "displayName": f"Bulk User {i}",
            "emails": [{"value": name, "type": "work", "primary": True}],
            "title": "Data Analyst",
            ENTERPRISE: {"employeeNumber": f"B{i}", "department": "Sales", "costCenter": "CC-1"},
        }
        operations.append({"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": data})
    r = c.post(
        "/scim/v2/Bulk",
        json={"schemas": [BULK], "Operations": operations},
        headers={"Content-Type": "application/scim+json"},
    )
    assert r.status_code == 200, r.text
    statuses = {op["status"] for op in r.json()["Operations"]}
    assert statuses == {"201"}, r.text[:2000]


def rest_batch(base: str, chunk: int) -> None:
    """One POST /api/v1/users/batch creating BULK_SIZE users with the seed's body."""
    c = _client(base)
    first = chunk * BULK_SIZE
    users = [
        {
            "email": f"batch{i}@example.com",
            "name": f"Batch User {i}",
            "user_attributes": {
                "employee_id": f"B{i}",
                "department": "Sales",
                "job_title": "Analyst",
            },
            "connection_roles": {"main_db": "QUERIER"},
            "groups": ["analysts"],
        }
        for i in range(first, first + BULK_SIZE)
    ]
    r = c.post("/api/v1/users/batch", json={"users": users})
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["created"] == BULK_SIZE, r.text[:2000]


def rest_user(base: str, i: int) -> None:
    c = _client(base)
    email = f"rest{i}@example.com"
    found = c.get("/api/v1/users", params={"email": email})
    assert found.status_code == 200, found.text
    assert found.json()["data"] == []
    body = {
        "email": email,
        "name": f"REST User {i}",
        "user_attributes": {"employee_id": f"E{i}", "department": "Sales", "job_title": "Analyst"},
        "connection_roles": {"main_db": "QUERIER"},
        "groups": ["analysts"],
    }
    r = c.post("/api/v1/users", json=body)
    assert r.status_code == 201, r.text


def _run(
    label: str,
    base: str,
    n: int,
    fn: Callable[[str, int], None],
    per_call: int = 1,
    workers: int = WORKERS,
) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: fn(base, i), range(n // per_call)))
    rate = n // per_call * per_call / (time.perf_counter() - start)
    print(f"{label:<28} {n:>6} users  {rate:8.1f} users/s")
    return rate


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GNOMON_BOOTSTRAP_TOKEN": TOKEN, "GNOMON_RATE_LIMIT": ""}
        with live_server(Path(tmp) / "data", env) as server:
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as c:
                for name in ("employee_id", "department", "job_title"):
                    c.post("/api/v1/user-attributes", json={"name": name})
                c.post("/api/v1/groups", json={"name": "analysts"})
            scim = _run("SCIM POST /scim/v2/Users", server.url, n, scim_user)
            rest = _run("REST POST /api/v1/users", server.url, n, rest_user)
            bulk = _run(
                f"SCIM Bulk ({BULK_SIZE} per request)",
                server.url,
                n,
                scim_bulk,
                BULK_SIZE,
                workers=BULK_WORKERS,
            )
            batch = _run(
                f"REST batch ({BULK_SIZE} per request)",
                server.url,
                n,
                rest_batch,
                BULK_SIZE,
                workers=BULK_WORKERS,
            )
    print(
        f"SCIM / REST ratio: {scim / rest:.2f}; SCIM Bulk / SCIM: {bulk / scim:.2f}; "
        f"REST batch / REST: {batch / rest:.2f}"
    )


if __name__ == "__main__":
    main()
