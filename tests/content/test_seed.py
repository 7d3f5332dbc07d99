"""The seed's three content functions, run as written (their groups created first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.content.conftest import (
    CUSTOMER,
    bootstrap_org,
    customer_dashboard,
    department_structure,
    make_groups,
)


def test_create_customer_dashboard_as_written(
    client: TestClient, org: Org, customer_groups: dict[str, str]
) -> None:
    r = client.post("/api/v1/documents", headers=org.headers, json=customer_dashboard(CUSTOMER))
    assert r.status_code == 201, r.text
    doc = r.json()["data"]
    assert doc["name"] == "Acme Corp - Performance Dashboard"
    assert doc["identifier"] == "acme-corp-performance-dashboard"
    assert doc["folder"]["path"] == "/Customers/Acme Corp"
    assert doc["default_filters"] == {"customer_id": 42, "subscription_tier": "enterprise"}
    assert doc["permissions"] == {
        "customer_42_users": "VIEWER",
        "customer_42_admins": "EDITOR",
        "customer_success_team": "VIEWER",
    }
    assert [t["visualization"] for t in doc["tiles"]] == ["line_chart", "metric"]
    assert all(t["id"] for t in doc["tiles"])
    # The ancestor folder was created too, and the document is found by its identifier.
    paths = [f["path"] for f in client.get("/api/v1/folders", headers=org.headers).json()["data"]]
    assert paths == ["/Customers", "/Customers/Acme Corp"]
    again = client.get(f"/api/v1/documents/{doc['identifier']}", headers=org.headers)
    assert again.json()["data"]["id"] == doc["id"]


def test_unknown_groups_are_all_listed(client: TestClient, org: Org) -> None:
    make_groups(client, org, "customer_success_team")
    r = client.post("/api/v1/documents", headers=org.headers, json=customer_dashboard(CUSTOMER))
    assert r.status_code == 422, r.text
    paths = {tuple(d["path"]) for d in r.json()["details"]}
    assert paths == {("permissions", "customer_42_users"), ("permissions", "customer_42_admins")}
    assert client.get("/api/v1/documents", headers=org.headers).json()["meta"]["total"] == 0


def test_every_tile_problem_comes_back_at_once(
    client: TestClient, org: Org, customer_groups: dict[str, str]
) -> None:
    body = customer_dashboard(CUSTOMER)
    body["tiles"][0]["query"]["measures"] = ["no_such_measure"]
    body["tiles"][1]["query"]["topic"] = "no_such_topic"
    body["tiles"].append({"type": "metric", "title": "No query"})
    r = client.post("/api/v1/documents", headers=org.headers, json=body)
    assert r.status_code == 422, r.text
    paths = {tuple(d["path"]) for d in r.json()["details"]}
    assert ("tiles", 0, "query", "measures", 0) in paths
    assert ("tiles", 1, "query", "topic") in paths
    assert ("tiles", 2, "query") in paths


def test_create_department_structure_as_written(client: TestClient, org: Org) -> None:
    make_groups(
        client, org, "sales_team", "executives", "data_team", "sales_director", "sales_analysts"
    )
    ids = []
    for folder in department_structure("Sales"):
        r = client.post("/api/v1/folders", headers=org.headers, json=folder)
        assert r.status_code == 201, r.text
        ids.append(r.json()["data"]["id"])
    top = client.get(f"/api/v1/folders/{ids[0]}/permissions", headers=org.headers).json()["data"]
    # CONNECTION_ADMIN on content means MANAGER.
    assert top["permissions"] == {
        "sales_team": "EDITOR",
        "executives": "VIEWER",
        "data_team": "MANAGER",
    }
    tree = client.get("/api/v1/folders?view=tree", headers=org.headers).json()["data"]
    assert [f["path"] for f in tree] == ["/Departments"]
    sales = tree[0]["children"][0]
    assert sales["path"] == "/Departments/Sales"
    assert sorted(c["name"] for c in sales["children"]) == [
        "Analysis Sandbox",
        "Executive Reports",
        "Operational Metrics",
    ]
    # Running it again: every folder exists; the 409 names the existing one.
    r = client.post("/api/v1/folders", headers=org.headers, json=department_structure("Sales")[0])
    assert r.status_code == 409
    assert r.json()["details"][0]["id"] == ids[0]


def _deploy_dashboard(
    staging: TestClient,
    staging_headers: dict[str, str],
    dashboard_id: str,
    production: TestClient,
    production_headers: dict[str, str],
) -> Any:
    """The seed's ``deployDashboard``, step by step as the JavaScript does it."""
    export_response = staging.get(
        f"/api/v1/documents/{dashboard_id}/export", headers=staging_headers
    )
    dashboard_export = export_response.json()
    production_config = {
        **dashboard_export["dashboard"],
        "connection_mapping": {"staging_db": "production_db"},
        "topic_mapping": {"staging_analytics": "production_analytics"},
    }
    body: dict[str, Any] = {"validation_mode": "strict"}
    # JSON.stringify drops undefined keys; the seed's body carries these two when present.
    for key in ("dashboard", "workbook_model"):
        if key in production_config:
            body[key] = production_config[key]
    import_response = production.post(
        "/api/v1/documents/import", headers=production_headers, json=body
    )
    return import_response


def test_deploy_dashboard_as_written(
    client: TestClient, org: Org, customer_groups: dict[str, str], app_factory: Any, tmp_path: Path
) -> None:
    created = client.post(
        "/api/v1/documents", headers=org.headers, json=customer_dashboard(CUSTOMER)
    )
    staging_id = created.json()["data"]["id"]
    production = app_factory(data_dir=tmp_path / "production")
    prod_org = bootstrap_org(production)
    r = _deploy_dashboard(client, org.headers, staging_id, production, prod_org.headers)
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert result["action"] == "created"
    doc = result["document"]
    assert doc["name"] == "Acme Corp - Performance Dashboard"
    assert doc["folder"]["path"] == "/Customers/Acme Corp"
    assert [t["title"] for t in doc["tiles"]] == ["Monthly Revenue Trend", "Active Users"]
    # Production has none of the customer's groups: the grants are skipped and reported.
    assert doc["permissions"] == {}
    assert {w["code"] for w in result["warnings"]} == {"unknown_grantee"}
    # Deploying again updates the same document instead of making a second one.
    again = _deploy_dashboard(client, org.headers, staging_id, production, prod_org.headers)
    assert again.json()["data"]["action"] == "unchanged"
    assert again.json()["data"]["document"]["id"] == doc["id"]
    listed = production.get("/api/v1/documents", headers=prod_org.headers).json()
    assert listed["meta"]["total"] == 1
