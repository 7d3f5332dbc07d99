"""Export from one gnomon instance, import into another with its own store, a different
connection name and topic name (through the mappings); idempotence, dry run, strict/lenient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.content.conftest import (
    CUSTOMER,
    bootstrap_org,
    customer_dashboard,
    install_warehouse,
)

from gnomon.demo import model_files


@pytest.fixture
def bundle(client: TestClient, org: Org, customer_groups: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/documents", headers=org.headers, json=customer_dashboard(CUSTOMER))
    assert r.status_code == 201, r.text
    exported = client.get(f"/api/v1/documents/{r.json()['data']['id']}/export", headers=org.headers)
    assert exported.status_code == 200, exported.text
    return dict(exported.json())


@pytest.fixture
def production(app_factory: Any, tmp_path: Path, warehouse_file: Path) -> tuple[TestClient, Org]:
    """A second instance: its own store, a connection `production_db` and a model whose
    revenue topic is called `production_analytics`."""
    data_dir = tmp_path / "production"
    prod: TestClient = app_factory(data_dir=data_dir)
    prod_org = bootstrap_org(prod)
    install_warehouse(warehouse_file, data_dir)
    r = prod.post(
        "/api/v1/connections",
        headers=prod_org.headers,
        json={
            "name": "production_db",
            "dialect": "duckdb",
            "database": str(data_dir / "demo" / "warehouse.duckdb"),
        },
    )
    assert r.status_code == 201, r.text
    files = dict(model_files())
    files["production_analytics.topic"] = files.pop("revenue_analytics.topic")
    files["model"] = files["model"].replace("- revenue_analytics", "- production_analytics")
    r = prod.post(
        "/api/v1/models",
        headers=prod_org.headers,
        json={"name": "production", "connection": "production_db", "files": files},
    )
    assert r.status_code == 201, r.text
    return prod, prod_org


MAPPINGS = {
    "connection_mapping": {"main_db": "production_db"},
    "topic_mapping": {"revenue_analytics": "production_analytics"},
}


def test_bundle_is_self_contained(bundle: dict[str, Any]) -> None:
    assert bundle["export_version"] == 1
    definition = bundle["dashboard"]["dashboard"]
    assert [t["title"] for t in definition["tiles"]] == ["Monthly Revenue Trend", "Active Users"]
    assert definition["folder_path"] == "/Customers/Acme Corp"
    assert definition["permissions"]["customer_42_admins"] == "EDITOR"
    workbook = bundle["workbook_model"]
    assert workbook["connection"] == "main_db"
    assert set(workbook["topics"]) == {"revenue_analytics", "usage_metrics"}
    assert "orders.total_revenue" in workbook["topics"]["revenue_analytics"]["fields"]
    assert bundle["checksum"] == definition["checksum"]
    assert bundle["checksum"].startswith("sha256:")


def test_import_into_a_second_instance_with_mappings(
    bundle: dict[str, Any], production: tuple[TestClient, Org]
) -> None:
    prod, prod_org = production
    body = {**bundle["dashboard"], **MAPPINGS, "validation_mode": "strict"}
    r = prod.post("/api/v1/documents/import", headers=prod_org.headers, json=body)
    assert r.status_code == 200, r.text
    doc = r.json()["data"]["document"]
    assert r.json()["data"]["action"] == "created"
    assert doc["tiles"][0]["query"]["topic"] == "production_analytics"
    models = prod.get("/api/v1/models", headers=prod_org.headers).json()["data"]
    assert doc["model_id"] == next(m["id"] for m in models if m["name"] == "production")
    # Idempotent: the same bundle again changes nothing and never duplicates.
    again = prod.post("/api/v1/documents/import", headers=prod_org.headers, json=body)
    assert again.json()["data"]["action"] == "unchanged"
    assert again.json()["data"]["document"]["id"] == doc["id"]
    # The whole export posted as it is works too, and finds the same document.
    whole = {**bundle, **MAPPINGS}
    r = prod.post("/api/v1/documents/import", headers=prod_org.headers, json=whole)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["document"]["id"] == doc["id"]
    assert prod.get("/api/v1/documents", headers=prod_org.headers).json()["meta"]["total"] == 1


def test_strict_refuses_missing_fields_lenient_imports_them(
    bundle: dict[str, Any], production: tuple[TestClient, Org]
) -> None:
    prod, prod_org = production
    # Without the topic mapping the revenue tile names a topic production does not have.
    body = {**bundle["dashboard"], "connection_mapping": MAPPINGS["connection_mapping"]}
    strict = prod.post("/api/v1/documents/import", headers=prod_org.headers, json=body)
    assert strict.status_code == 422, strict.text
    paths = [tuple(d["path"]) for d in strict.json()["details"]]
    assert ("dashboard", "tiles", 0, "query", "topic") in paths
    assert prod.get("/api/v1/documents", headers=prod_org.headers).json()["meta"]["total"] == 0
    lenient = prod.post(
        "/api/v1/documents/import",
        headers=prod_org.headers,
        json={**body, "validation_mode": "lenient"},
    )
    assert lenient.status_code == 200, lenient.text
    assert [tuple(b["path"]) for b in lenient.json()["data"]["broken"]] == [
        ("dashboard", "tiles", 0, "query", "topic")
    ]
    # The validator now lists the broken tile.
    problems = prod.get("/api/v1/content-validation", headers=prod_org.headers).json()["data"]
    assert [(p["tile_title"], p["field"], p["code"]) for p in problems] == [
        ("Monthly Revenue Trend", "revenue_analytics", "unknown_topic")
    ]


def test_dry_run_returns_the_diff_and_writes_nothing(
    bundle: dict[str, Any], production: tuple[TestClient, Org]
) -> None:
    prod, prod_org = production
    body = {**bundle["dashboard"], **MAPPINGS}
    first = prod.post("/api/v1/documents/import", headers=prod_org.headers, json=body)
    doc_id = first.json()["data"]["document"]["id"]
    changed = {**body["dashboard"], "name": "Renamed in staging", "checksum": None}
    r = prod.post(
        "/api/v1/documents/import",
        headers=prod_org.headers,
        json={**body, "dashboard": changed, "dry_run": True},
    )
    assert r.status_code == 200, r.text
    result = r.json()["data"]
    assert result["action"] == "updated"
    assert result["dry_run"] is True
    assert result["diff"] == {
        "name": {"before": "Acme Corp - Performance Dashboard", "after": "Renamed in staging"}
    }
    stored = prod.get(f"/api/v1/documents/{doc_id}", headers=prod_org.headers).json()["data"]
    assert stored["name"] == "Acme Corp - Performance Dashboard"
    # Applied for real, it updates the same document.
    r = prod.post(
        "/api/v1/documents/import", headers=prod_org.headers, json={**body, "dashboard": changed}
    )
    assert r.json()["data"]["action"] == "updated"
    assert r.json()["data"]["document"]["id"] == doc_id
    assert r.json()["data"]["document"]["name"] == "Renamed in staging"


def test_on_conflict_fail_and_copy(client: TestClient, org: Org, bundle: dict[str, Any]) -> None:
    body = bundle["dashboard"]
    fail = client.post(
        "/api/v1/documents/import", headers=org.headers, json={**body, "on_conflict": "fail"}
    )
    assert fail.status_code == 409
    assert fail.json()["details"][0]["identifier"] == "acme-corp-performance-dashboard"
    copy = client.post(
        "/api/v1/documents/import", headers=org.headers, json={**body, "on_conflict": "copy"}
    )
    assert copy.status_code == 200, copy.text
    assert copy.json()["data"]["action"] == "copied"
    assert copy.json()["data"]["document"]["identifier"] == "acme-corp-performance-dashboard-2"


def test_tampered_bundle_fails_strict_checksum(
    client: TestClient, org: Org, bundle: dict[str, Any]
) -> None:
    tampered = {**bundle["dashboard"]["dashboard"], "name": "Edited by hand"}
    body = {"dashboard": tampered, "workbook_model": bundle["workbook_model"]}
    r = client.post("/api/v1/documents/import", headers=org.headers, json=body)
    assert r.status_code == 422
    assert r.json()["details"][0]["code"] == "checksum_mismatch"


def test_folder_bulk_export_import(
    client: TestClient, org: Org, bundle: dict[str, Any], production: tuple[TestClient, Org]
) -> None:
    prod, prod_org = production
    folder_id = (
        bundle["document"]
        and client.get("/api/v1/folders?path=/Customers", headers=org.headers).json()["data"][0][
            "id"
        ]
    )
    exported = client.get(f"/api/v1/folders/{folder_id}/export", headers=org.headers).json()
    assert exported["folder_path"] == "/Customers"
    assert [f["path"] for f in exported["folders"]] == ["/", "/Acme Corp"]
    r = prod.post(
        "/api/v1/folders/import",
        headers=prod_org.headers,
        json={"bundle": exported, "folder": "/Clients", **MAPPINGS},
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["folders_created"] == ["/Clients", "/Clients/Acme Corp"]
    docs = prod.get("/api/v1/documents?folder=/Clients&recursive=true", headers=prod_org.headers)
    assert [d["folder"]["path"] for d in docs.json()["data"]] == ["/Clients/Acme Corp"]
