"""Shared setup for identity tests: the seed's attributes and groups, personal keys."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Org

SEED_ATTRIBUTES = [
    {"name": "employee_id"},
    {"name": "department"},
    {"name": "job_title"},
    {"name": "manager_email"},
    {"name": "cost_center"},
    {"name": "security_clearance", "type": "number"},
    {"name": "start_date", "type": "date"},
    {"name": "role_effective_date", "type": "date"},
    {"name": "previous_role"},
    {"name": "region", "multiple": True},
]


def define_seed_attributes(client: TestClient, org: Org) -> None:
    for body in SEED_ATTRIBUTES:
        r = client.post("/api/v1/user-attributes", headers=org.headers, json=body)
        assert r.status_code == 201, r.text


def make_group(client: TestClient, org: Org, name: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/groups", headers=org.headers, json={"name": name, **extra})
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def make_user(client: TestClient, org: Org, email: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/users", headers=org.headers, json={"email": email, **extra})
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def personal_headers(client: TestClient, org: Org, user_id: str) -> dict[str, str]:
    r = client.post("/api/v1/api-keys", headers=org.headers, json={"name": "p", "user_id": user_id})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['data']['secret']}"}
