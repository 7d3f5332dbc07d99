"""Row-level access filters end to end: users created with the seed's body, querying through
their personal keys, after the seed's PUT /model adds default_topic_access_filters."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.queries.conftest import run

from gnomon.demo import WarehouseInfo

FILTERS = {
    "default_topic_access_filters": [
        {"field": "customer_id", "user_attribute": "customer_id"},
        {"field": "subscription_tier", "user_attribute": "subscription_tier"},
    ]
}
REVENUE = {
    "topic": "revenue_analytics",
    "measures": ["total_revenue"],
    "dimensions": ["customer_id"],
}


def _user(
    client: TestClient, org: Org, email: str, attributes: dict, role: str = "RESTRICTED_QUERIER"
) -> dict:  # type: ignore[type-arg]
    body = {
        "email": email,
        "name": "Analyst",
        "user_attributes": attributes,
        "connection_roles": {"main_db": role},
        "groups": [],
    }
    r = client.post("/api/v1/users", headers=org.headers, json=body)
    assert r.status_code == 201, r.text
    user_id = r.json()["data"]["id"]
    key = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "k", "user_id": user_id}
    )
    assert key.status_code == 201, key.text
    return {"id": user_id, "headers": {"Authorization": f"Bearer {key.json()['data']['secret']}"}}


def _tier_of(info: WarehouseInfo, customer_id: int) -> str:
    con = duckdb.connect(str(info.path), read_only=True)
    try:
        row = con.execute(
            "select subscription_tier from main.customers where id = ?", [customer_id]
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def test_user_sees_only_their_customer(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    assert qclient.put("/api/v1/model", headers=qorg.headers, json=FILTERS).status_code == 200
    tier = _tier_of(demo_warehouse, 7)
    user = _user(qclient, qorg, "seven@example.com", {"customer_id": 7, "subscription_tier": tier})
    r = qclient.post("/api/v1/queries/run", headers=user["headers"], json=REVENUE)
    assert r.status_code == 200, r.text
    assert [row["customer_id"] for row in r.json()["data"]] == [7]
    # The organization key still sees everyone.
    everyone = run(qclient, qorg, REVENUE).json()["data"]
    assert len(everyone) > 1
    # ... and can run as the user, getting the user's rows.
    as_user = run(qclient, qorg, {**REVENUE, "user_id": user["id"]}).json()["data"]
    assert [row["customer_id"] for row in as_user] == [7]


def test_user_without_values_sees_nothing(qclient: TestClient, qorg: Org) -> None:
    assert qclient.put("/api/v1/model", headers=qorg.headers, json=FILTERS).status_code == 200
    user = _user(qclient, qorg, "nobody@example.com", {})
    r = qclient.post("/api/v1/queries/run", headers=user["headers"], json=REVENUE)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == []


def test_default_value_applies_when_user_has_none(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    tier = _tier_of(demo_warehouse, 3)
    body = {
        "default_topic_access_filters": [
            {"field": "customer_id", "user_attribute": "customer_id", "default_value": 3},
            {
                "field": "subscription_tier",
                "user_attribute": "subscription_tier",
                "default_value": tier,
            },
        ]
    }
    assert qclient.put("/api/v1/model", headers=qorg.headers, json=body).status_code == 200
    user = _user(qclient, qorg, "defaults@example.com", {})
    rows = qclient.post("/api/v1/queries/run", headers=user["headers"], json=REVENUE).json()["data"]
    assert [row["customer_id"] for row in rows] == [3]


def test_filtered_users_cannot_run_raw_sql_and_roles_gate_queries(
    qclient: TestClient, qorg: Org
) -> None:
    assert qclient.put("/api/v1/model", headers=qorg.headers, json=FILTERS).status_code == 200
    querier = _user(qclient, qorg, "q@example.com", {"customer_id": 1}, role="QUERIER")
    r = qclient.post(
        "/api/v1/queries/sql",
        headers=querier["headers"],
        json={"connection": "main_db", "sql": "select 1"},
    )
    assert r.status_code == 403
    viewer = _user(qclient, qorg, "v@example.com", {"customer_id": 1}, role="VIEWER")
    r = qclient.post("/api/v1/queries/run", headers=viewer["headers"], json=REVENUE)
    assert r.status_code == 403
    stranger = _user(qclient, qorg, "s@example.com", {"customer_id": 1}, role="NO_ACCESS")
    assert (
        qclient.post("/api/v1/queries/run", headers=stranger["headers"], json=REVENUE).status_code
        == 404
    )


def test_access_context_is_part_of_the_cache_key(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    assert (
        qclient.put(
            "/api/v1/model",
            headers=qorg.headers,
            json={
                "default_topic_access_filters": [
                    {"field": "customer_id", "user_attribute": "customer_id"}
                ]
            },
        ).status_code
        == 200
    )
    a = _user(qclient, qorg, "a@example.com", {"customer_id": 1})
    b = _user(qclient, qorg, "b@example.com", {"customer_id": 2})
    body = {"topic": "revenue_analytics", "measures": ["total_revenue"]}
    ra = qclient.post("/api/v1/queries/run", headers=a["headers"], json=body).json()
    rb = qclient.post("/api/v1/queries/run", headers=b["headers"], json=body).json()
    assert rb["meta"]["cache_hit"] is False
    assert ra["data"] != rb["data"]


def test_changes_to_a_user_apply_to_their_next_query(
    qclient: TestClient, qorg: Org, demo_warehouse: WarehouseInfo
) -> None:
    """A user's access context and connection role are remembered between queries (see
    gnomon.store.memo) until the store changes: each change applies to the very next query."""
    filters = {
        "default_topic_access_filters": [{"field": "customer_id", "user_attribute": "customer_id"}]
    }
    assert qclient.put("/api/v1/model", headers=qorg.headers, json=filters).status_code == 200
    user = _user(qclient, qorg, "mover@example.com", {"customer_id": 7})

    def customers() -> object:
        r = qclient.post("/api/v1/queries/run", headers=user["headers"], json=REVENUE)
        assert r.status_code == 200, r.text
        return [row["customer_id"] for row in r.json()["data"]]

    assert customers() == [7]
    assert customers() == [7]
    patch = {"user_attributes": {"customer_id": 8}}
    r = qclient.patch(f"/api/v1/users/{user['id']}", headers=qorg.headers, json=patch)
    assert r.status_code == 200, r.text
    assert customers() == [8]
    patch = {"connection_roles": {"main_db": "VIEWER"}}
    r = qclient.patch(f"/api/v1/users/{user['id']}", headers=qorg.headers, json=patch)
    assert r.status_code == 200, r.text
    r = qclient.post("/api/v1/queries/run", headers=user["headers"], json=REVENUE)
    assert r.status_code == 403, r.text
