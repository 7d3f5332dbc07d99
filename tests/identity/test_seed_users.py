"""The seed's OmniUserManager and updateUserRole bodies, verbatim, and what they leave behind."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.identity.helpers import define_seed_attributes, make_group, personal_headers

HR_USER = {
    "email": "ada.lovelace@example.com",
    "name": "Ada Lovelace",
    "user_attributes": {
        "employee_id": "E-1001",
        "department": "Sales",
        "job_title": "Data Analyst",
        "manager_email": "grace@example.com",
        "cost_center": "CC-42",
        "security_clearance": 3,
        "start_date": "2024-02-01",
    },
    "connection_roles": {"main_db": "QUERIER"},
    "groups": ["analysts", "sales"],
}

ROLE_UPDATE = {
    "user_attributes": {
        "department": "Engineering",
        "role_effective_date": "2026-12-01",
        "previous_role": "Data Analyst",
    },
    "connection_roles": {"main_db": "CONNECTION_ADMIN"},
    "groups": ["engineers"],
    "change_log": {
        "timestamp": "2026-11-29T10:00:00.000Z",
        "change_type": "role_update",
        "old_role": "Data Analyst",
        "new_role": "Data Engineer",
        "changed_by": "automated_system",
    },
}


def _setup(client: TestClient, org: Org) -> None:
    define_seed_attributes(client, org)
    for name in ("analysts", "sales", "engineers"):
        make_group(client, org, name)


def test_sync_user_creates_then_finds_then_updates(client: TestClient, org: Org) -> None:
    _setup(client, org)
    found = client.get("/api/v1/users", params={"email": HR_USER["email"]}, headers=org.headers)
    assert found.json()["data"] == []
    created = client.post("/api/v1/users", json=HR_USER, headers=org.headers)
    assert created.status_code == 201, created.text
    user = created.json()["data"]
    assert user["user_attributes"]["security_clearance"] == 3
    assert user["connection_roles"] == {"main_db": "QUERIER"}
    assert user["groups"] == ["analysts", "sales"]

    found = client.get(
        "/api/v1/users", params={"email": "ADA.lovelace@example.com"}, headers=org.headers
    )
    assert [u["id"] for u in found.json()["data"]] == [user["id"]]
    # syncUser's second pass: updateUser(existing.id, omniUser) with the same body.
    again = client.put(f"/api/v1/users/{user['id']}", json=HR_USER, headers=org.headers)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["user_attributes"] == user["user_attributes"]


def test_update_user_role_lands_in_audit_and_events(client: TestClient, org: Org) -> None:
    _setup(client, org)
    user = client.post("/api/v1/users", json=HR_USER, headers=org.headers).json()["data"]
    r = client.put(f"/api/v1/users/{user['id']}", json=ROLE_UPDATE, headers=org.headers)
    assert r.status_code == 200, r.text
    after = r.json()["data"]
    assert after["connection_roles"] == {"main_db": "CONNECTION_ADMIN"}
    assert after["groups"] == ["engineers"]
    # PUT replaces each field it names as a whole: attributes not sent are gone.
    assert after["user_attributes"] == {
        "department": "Engineering",
        "role_effective_date": "2026-12-01",
        "previous_role": "Data Analyst",
    }
    events = client.get(
        "/api/v1/audit-events", params={"target_id": user["id"]}, headers=org.headers
    ).json()["data"]
    by_action = {e["action"]: e for e in events}
    updated = by_action["user.updated"]
    assert updated["change_log"] == ROLE_UPDATE["change_log"]
    assert updated["data"]["user"]["id"] == user["id"]
    assert updated["data"]["changes"]["connection_roles"] == {
        "before": {"main_db": "QUERIER"},
        "after": {"main_db": "CONNECTION_ADMIN"},
    }
    assert by_action["role.changed"]["change_log"]["new_role"] == "Data Engineer"
    assert "user.created" in by_action


def test_unknown_references_are_listed_at_once_and_nothing_is_created(
    client: TestClient, org: Org
) -> None:
    body = {
        "email": "x@example.com",
        "user_attributes": {"nope_a": "1", "nope_b": "2"},
        "connection_roles": {"warehouse_x": "VIEWER"},
        "groups": ["ghosts", "phantoms"],
    }
    r = client.post("/api/v1/users", json=body, headers=org.headers)
    assert r.status_code == 422
    messages = " ".join(d["message"] for d in r.json()["details"])
    for name in ("nope_a", "nope_b", "warehouse_x", "ghosts", "phantoms"):
        assert name in messages
    assert (
        client.get("/api/v1/users", params={"email": "x@example.com"}, headers=org.headers).json()[
            "meta"
        ]["total"]
        == 0
    )


def test_attribute_values_are_type_checked(client: TestClient, org: Org) -> None:
    define_seed_attributes(client, org)
    body = {
        "email": "t@example.com",
        "user_attributes": {
            "security_clearance": "high",
            "start_date": "soon",
            "department": ["a", "b"],
        },
    }
    r = client.post("/api/v1/users", json=body, headers=org.headers)
    assert r.status_code == 422
    codes = sorted(d["code"] for d in r.json()["details"])
    assert codes == ["invalid_type", "invalid_type", "not_multiple"]


def test_duplicate_email_is_a_conflict(client: TestClient, org: Org) -> None:
    client.post("/api/v1/users", json={"email": "d@example.com"}, headers=org.headers)
    r = client.post("/api/v1/users", json={"email": "D@example.com"}, headers=org.headers)
    assert r.status_code == 409


def test_deactivation_stops_personal_keys_on_next_request(client: TestClient, org: Org) -> None:
    user = client.post("/api/v1/users", json={"email": "bye@example.com"}, headers=org.headers)
    uid = user.json()["data"]["id"]
    headers = personal_headers(client, org, uid)
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/users/{uid}", headers=org.headers).status_code == 204
    assert client.get("/api/v1/whoami", headers=headers).status_code == 401
    got = client.get(f"/api/v1/users/{uid}", headers=org.headers).json()["data"]
    assert got["active"] is False
    actions = [
        e["action"]
        for e in client.get(
            "/api/v1/audit-events", params={"target_id": uid}, headers=org.headers
        ).json()["data"]
    ]
    assert "user.deleted" in actions


def test_patch_merges_maps_and_lists_filter(client: TestClient, org: Org) -> None:
    _setup(client, org)
    user = client.post("/api/v1/users", json=HR_USER, headers=org.headers).json()["data"]
    r = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"user_attributes": {"department": "Ops", "cost_center": None}},
        headers=org.headers,
    )
    attrs = r.json()["data"]["user_attributes"]
    assert attrs["department"] == "Ops"
    assert "cost_center" not in attrs
    assert attrs["employee_id"] == "E-1001"
    listed = client.get(
        "/api/v1/users", params={"group": "sales", "q": "lovelace"}, headers=org.headers
    )
    assert [u["id"] for u in listed.json()["data"]] == [user["id"]]
    assert (
        client.get("/api/v1/users", params={"group": "engineers"}, headers=org.headers).json()[
            "meta"
        ]["total"]
        == 0
    )
