"""SCIM Bulk (RFC 7644 §3.7): ordered operations, bulkId references, failure isolation."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Org

from gnomon.scim.bulk import BULK_REQUEST, BULK_RESPONSE, MAX_OPERATIONS

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _headers(org: Org) -> dict[str, str]:
    return {**org.headers, "Content-Type": "application/scim+json"}


def _user(name: str) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": name,
        "displayName": name.split("@")[0].title(),
        "emails": [{"value": name, "type": "work", "primary": True}],
    }


def _bulk(client: TestClient, org: Org, operations: list[Any], **extra: Any) -> Any:
    body = {"schemas": [BULK_REQUEST], "Operations": operations, **extra}
    return client.post("/scim/v2/Bulk", headers=_headers(org), json=body)


def _audit_count(client: TestClient, org: Org, action: str) -> int:
    r = client.get("/api/v1/audit-events", headers=org.headers, params={"action": action})
    assert r.status_code == 200, r.text
    return int(r.json()["meta"]["total"])


def test_bulk_creates_users_and_a_group_referencing_them(client: TestClient, org: Org) -> None:
    r = _bulk(
        client,
        org,
        [
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": _user("ann@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "u2", "data": _user("bob@example.com")},
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "g",
                "data": {
                    "schemas": [GROUP],
                    "displayName": "Bulk team",
                    "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}],
                },
            },
            {
                "method": "PATCH",
                "path": "/Users/bulkId:u2",
                "data": {
                    "schemas": [PATCH],
                    "Operations": [{"op": "replace", "path": "displayName", "value": "Robert"}],
                },
            },
        ],
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/scim+json")
    doc = r.json()
    assert doc["schemas"] == [BULK_RESPONSE]
    ops = doc["Operations"]
    assert [o["status"] for o in ops] == ["201", "201", "201", "200"]
    assert [o.get("bulkId") for o in ops] == ["u1", "u2", "g", None]
    ann_id = ops[0]["location"].rsplit("/", 1)[1]
    assert ops[0]["version"].startswith('W/"')
    # The same users through the REST API, with the group and the patched name.
    users = client.get("/api/v1/users", headers=org.headers, params={"group": "Bulk team"})
    emails = sorted(u["email"] for u in users.json()["data"])
    assert emails == ["ann@example.com", "bob@example.com"]
    bob = client.get("/api/v1/users", headers=org.headers, params={"email": "bob@example.com"})
    assert bob.json()["data"][0]["name"] == "Robert"
    assert client.get(f"/scim/v2/Users/{ann_id}", headers=org.headers).status_code == 200


def test_a_failed_operation_is_rolled_back_alone(client: TestClient, org: Org) -> None:
    created_before = _audit_count(client, org, "user.created")
    r = _bulk(
        client,
        org,
        [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": _user("cy@example.com")},
            # Same userName again: a uniqueness conflict, nothing of it may remain.
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": _user("cy@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER]}},
            {"method": "DELETE", "path": "/Users/no-such-user"},
            {"method": "PUT", "path": "/Users/bulkId:nope", "data": _user("x@example.com")},
            {"method": "POST", "path": "/Users", "bulkId": "d", "data": _user("di@example.com")},
        ],
    )
    assert r.status_code == 200, r.text
    ops = r.json()["Operations"]
    assert [o["status"] for o in ops] == ["201", "409", "400", "404", "400", "201"]
    assert ops[1]["response"]["scimType"] == "uniqueness"
    assert ops[4]["response"]["scimType"] == "invalidValue"
    assert "nope" in ops[4]["response"]["detail"]
    assert all(
        o["response"]["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        for o in ops
        if o["status"] >= "400"
    )
    # Exactly the two good creates happened, each with one audit record.
    assert _audit_count(client, org, "user.created") == created_before + 2
    found = client.get("/api/v1/users", headers=org.headers, params={"email": "cy@example.com"})
    assert len(found.json()["data"]) == 1


def test_fail_on_errors_stops_after_that_many_failures(client: TestClient, org: Org) -> None:
    bad = {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"schemas": [USER]}}
    r = _bulk(
        client,
        org,
        [
            bad,
            {"method": "POST", "path": "/Users", "bulkId": "e", "data": _user("ed@example.com")},
            bad,
            {"method": "POST", "path": "/Users", "bulkId": "f", "data": _user("fay@example.com")},
        ],
        failOnErrors=2,
    )
    assert r.status_code == 200, r.text
    assert [o["status"] for o in r.json()["Operations"]] == ["400", "201", "400"]
    missing = client.get("/api/v1/users", headers=org.headers, params={"email": "fay@example.com"})
    assert missing.json()["data"] == []


def test_bad_bulk_requests_are_refused_whole(client: TestClient, org: Org) -> None:
    no_schema = client.post(
        "/scim/v2/Bulk", headers=_headers(org), json={"Operations": [{"method": "POST"}]}
    )
    assert no_schema.status_code == 400
    assert no_schema.json()["scimType"] == "invalidSyntax"
    assert _bulk(client, org, []).status_code == 400
    post = {"method": "POST", "path": "/Users", "bulkId": "z", "data": _user("z@example.com")}
    too_many = _bulk(client, org, [post] * (MAX_OPERATIONS + 1))
    assert too_many.status_code == 413
    assert _bulk(client, org, [post], failOnErrors=0).status_code == 400
    odd = _bulk(
        client,
        org,
        [
            {"method": "GET", "path": "/Users"},
            {"method": "POST", "path": "/Users", "data": _user("nobulkid@example.com")},
            {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}},
            {"method": "PATCH", "path": "/Users", "data": {}},
        ],
    )
    assert [o["status"] for o in odd.json()["Operations"]] == ["400", "400", "400", "400"]
    assert (
        client.get(
            "/api/v1/users", headers=org.headers, params={"email": "nobulkid@example.com"}
        ).json()["data"]
        == []
    )


def test_bulk_is_advertised_and_needs_an_organization_key(client: TestClient, org: Org) -> None:
    spc = client.get("/scim/v2/ServiceProviderConfig", headers=org.headers).json()
    assert spc["bulk"]["supported"] is True
    assert spc["bulk"]["maxOperations"] == MAX_OPERATIONS
    assert spc["bulk"]["maxPayloadSize"] > 0
    r = client.post(
        "/api/v1/users",
        headers=org.headers,
        json={"email": "pk@example.com", "name": "PK", "org_role": "ORG_ADMIN"},
    )
    assert r.status_code == 201, r.text
    key = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": "pk", "kind": "personal", "user_id": r.json()["data"]["id"]},
    ).json()["data"]["secret"]
    refused = client.post(
        "/scim/v2/Bulk",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/scim+json"},
        json={"schemas": [BULK_REQUEST], "Operations": []},
    )
    assert refused.status_code == 403
