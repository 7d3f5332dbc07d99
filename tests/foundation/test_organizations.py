"""The platform API: organizations and their first admin key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import ADMIN_TOKEN, Org

PLATFORM = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_create_returns_working_admin_key_once(client: TestClient, org: Org) -> None:
    r = client.post("/api/v1/organizations", headers=PLATFORM, json={"name": "Acme Corp"})
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["organization"]["slug"] == "acme-corp"
    secret = data["api_key"]["secret"]
    me = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}).json()["data"]
    assert me["org_id"] == data["organization"]["id"]
    assert me["is_org_admin"] is True
    fetched = client.get(f"/api/v1/organizations/{me['org_id']}", headers=PLATFORM).json()["data"]
    assert "api_key" not in fetched


def test_slug_conflict_is_409(client: TestClient, org: Org) -> None:
    assert (
        client.post(
            "/api/v1/organizations", headers=PLATFORM, json={"name": "A", "slug": "acme"}
        ).status_code
        == 201
    )
    r = client.post("/api/v1/organizations", headers=PLATFORM, json={"name": "B", "slug": "acme"})
    assert r.status_code == 409
    assert r.json()["error"] == "conflict"
    auto = client.post("/api/v1/organizations", headers=PLATFORM, json={"name": "Acme"}).json()[
        "data"
    ]
    assert auto["organization"]["slug"].startswith("acme-")


def test_list_and_delete(client: TestClient, org: Org, other_org: Org) -> None:
    listed = client.get("/api/v1/organizations", headers=PLATFORM).json()
    assert {o["id"] for o in listed["data"]} == {org.id, other_org.id}
    assert (
        client.delete(f"/api/v1/organizations/{other_org.id}", headers=PLATFORM).status_code == 204
    )
    assert client.get("/api/v1/whoami", headers=other_org.headers).status_code == 401
    assert client.get(f"/api/v1/organizations/{other_org.id}", headers=PLATFORM).status_code == 404
    assert client.get("/api/v1/organizations", headers=PLATFORM).json()["meta"]["total"] == 1
    assert client.get("/api/v1/whoami", headers=org.headers).status_code == 200


def test_each_org_sees_only_its_audit_log(client: TestClient, org: Org, other_org: Org) -> None:
    mine = client.get("/api/v1/audit-events", headers=org.headers).json()["data"]
    theirs = client.get("/api/v1/audit-events", headers=other_org.headers).json()["data"]
    assert {e["id"] for e in mine}.isdisjoint({e["id"] for e in theirs})
    assert all(
        e["target"]["id"] == other_org.id for e in theirs if e["target"]["type"] == "organization"
    )
