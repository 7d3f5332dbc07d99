"""POST /api/v1/users/batch: many users in one request, each created or refused on its own."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.identity.helpers import define_seed_attributes, make_group

from gnomon.identity.schemas import MAX_BATCH


def _seed_user(email: str, **overrides: Any) -> dict[str, Any]:
    """The seed's OmniUserManager create body."""
    return {
        "email": email,
        "name": email.split("@")[0].title(),
        "user_attributes": {"employee_id": "E-1", "department": "Sales"},
        "connection_roles": {"main_db": "QUERIER"},
        "groups": ["analysts"],
        **overrides,
    }


def _created_count(client: TestClient, org: Org) -> int:
    r = client.get("/api/v1/audit-events", headers=org.headers, params={"action": "user.created"})
    return int(r.json()["meta"]["total"])


def test_each_item_is_created_or_refused_on_its_own(client: TestClient, org: Org) -> None:
    define_seed_attributes(client, org)
    make_group(client, org, "analysts")
    before = _created_count(client, org)
    r = client.post(
        "/api/v1/users/batch",
        headers=org.headers,
        json={
            "users": [
                _seed_user("ann@example.com"),
                _seed_user("ANN@example.com"),  # the same email: taken by the item before
                _seed_user("bob@example.com", groups=["analysts", "no-such-group"]),
                _seed_user("cy@example.com", connection_roles={"nope_db": "VIEWER"}),
                _seed_user("di@example.com"),
            ]
        },
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["meta"] == {"total": 5, "created": 2, "failed": 3}
    assert [i["status"] for i in doc["data"]] == [201, 409, 422, 422, 201]
    assert [i["index"] for i in doc["data"]] == [0, 1, 2, 3, 4]
    ann = doc["data"][0]["data"]
    assert ann["email"] == "ann@example.com"
    assert ann["groups"] == ["analysts"]
    assert ann["connection_roles"] == {"main_db": "QUERIER"}
    missing = doc["data"][2]["error"]
    assert missing["error"] == "invalid"
    assert "no-such-group" in str(missing["details"])
    assert doc["data"][1]["error"]["error"] == "conflict"
    assert doc["data"][1]["data"] is None
    # Only the two good items exist, each with its user.created record; nothing of the others.
    assert _created_count(client, org) == before + 2
    for email, found in (("bob@example.com", 0), ("cy@example.com", 0), ("di@example.com", 1)):
        r = client.get("/api/v1/users", headers=org.headers, params={"email": email})
        assert len(r.json()["data"]) == found, email


def test_a_malformed_batch_is_refused_whole_with_every_problem(
    client: TestClient, org: Org
) -> None:
    before = _created_count(client, org)
    r = client.post(
        "/api/v1/users/batch",
        headers=org.headers,
        json={"users": [{"email": "ok@example.com"}, {"email": 7}, {"name": "no email"}]},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid"
    paths = [d["path"] for d in body["details"]]
    assert ["users", 1, "email"] in paths
    assert ["users", 2, "email"] in paths
    assert _created_count(client, org) == before  # not even the valid first item
    assert (
        client.post("/api/v1/users/batch", headers=org.headers, json={"users": []}).status_code
        == 422
    )
    too_many = {"users": [{"email": f"u{i}@example.com"} for i in range(MAX_BATCH + 1)]}
    assert client.post("/api/v1/users/batch", headers=org.headers, json=too_many).status_code == 422
    assert _created_count(client, org) == before
