"""Documents and folders over the API: run, trash and restore, move, duplicate, folder
rename/move/delete, and the content validator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.content.conftest import CUSTOMER, customer_dashboard, install_warehouse

from gnomon.demo import model_files


@pytest.fixture
def doc(client: TestClient, org: Org, customer_groups: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/v1/documents", headers=org.headers, json=customer_dashboard(CUSTOMER))
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_run_applies_default_filters_and_overrides(
    client: TestClient, org: Org, doc: dict[str, Any], warehouse_file: Path, tmp_path: Path
) -> None:
    install_warehouse(warehouse_file, tmp_path / "data")
    r = client.post(f"/api/v1/documents/{doc['id']}/run", headers=org.headers, json={})
    assert r.status_code == 200, r.text
    tiles = r.json()["data"]["tiles"]
    assert [t["status"] for t in tiles] == ["ok", "ok"], tiles
    assert tiles[0]["filters"] == {"customer_id": 42, "subscription_tier": "enterprise"}
    assert "total_revenue" in tiles[0]["meta"]["sql"] or tiles[0]["meta"]["fields"]
    assert {f["name"] for f in tiles[0]["meta"]["fields"]} == {"date_month", "total_revenue"}
    # An override replaces the default for every tile whose topic has the field.
    r = client.post(
        f"/api/v1/documents/{doc['id']}/run",
        headers=org.headers,
        json={"filters": {"customer_id": 7}, "tiles": [doc["tiles"][1]["id"]]},
    )
    tiles = r.json()["data"]["tiles"]
    assert [t["status"] for t in tiles] == ["skipped", "ok"]
    assert tiles[1]["filters"]["customer_id"] == 7
    # Runs go to the query history like any query.
    history = client.get("/api/v1/queries/history", headers=org.headers)
    assert history.status_code == 200, history.text
    assert history.json()["meta"]["total"] >= 3


def test_trash_and_restore(client: TestClient, org: Org, doc: dict[str, Any]) -> None:
    url = f"/api/v1/documents/{doc['id']}"
    assert client.delete(url, headers=org.headers).status_code == 204
    assert client.get("/api/v1/documents", headers=org.headers).json()["meta"]["total"] == 0
    trash = client.get("/api/v1/documents?deleted=true", headers=org.headers).json()
    assert [d["id"] for d in trash["data"]] == [doc["id"]]
    assert client.patch(url, headers=org.headers, json={"name": "x"}).status_code == 404
    r = client.post(f"{url}/restore", headers=org.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["deleted_at"] is None
    assert r.json()["data"]["folder"]["path"] == "/Customers/Acme Corp"


def test_force_delete_trashes_content_and_restore_recreates_the_folder(
    client: TestClient, org: Org, doc: dict[str, Any]
) -> None:
    folder_id = doc["folder"]["id"]
    top = client.get("/api/v1/folders?path=/Customers", headers=org.headers).json()["data"][0]
    r = client.delete(f"/api/v1/folders/{top['id']}", headers=org.headers)
    assert r.status_code == 409
    assert r.json()["details"][0]["folders"] == 1
    r = client.delete(f"/api/v1/folders/{top['id']}?force=true", headers=org.headers)
    assert r.status_code == 204
    assert client.get(f"/api/v1/folders/{folder_id}", headers=org.headers).status_code == 404
    restored = client.post(f"/api/v1/documents/{doc['id']}/restore", headers=org.headers)
    assert restored.json()["data"]["folder"]["path"] == "/Customers/Acme Corp"


def test_rename_and_move_folders_rewrite_paths(
    client: TestClient, org: Org, doc: dict[str, Any]
) -> None:
    top = client.get("/api/v1/folders?path=/Customers", headers=org.headers).json()["data"][0]
    r = client.patch(f"/api/v1/folders/{top['id']}", headers=org.headers, json={"name": "Clients"})
    assert r.json()["data"]["path"] == "/Clients"
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=org.headers).json()["data"]
    assert got["folder"]["path"] == "/Clients/Acme Corp"
    archive = client.post("/api/v1/folders", headers=org.headers, json={"path": "/Archive"})
    r = client.post(
        f"/api/v1/folders/{top['id']}/move", headers=org.headers, json={"parent_path": "/Archive"}
    )
    assert r.json()["data"]["path"] == "/Archive/Clients"
    # Never into itself.
    r = client.post(
        f"/api/v1/folders/{archive.json()['data']['id']}/move",
        headers=org.headers,
        json={"parent_path": "/Archive/Clients/Acme Corp"},
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["code"] == "cycle"


def test_move_duplicate_and_stable_tile_ids(
    client: TestClient, org: Org, doc: dict[str, Any]
) -> None:
    url = f"/api/v1/documents/{doc['id']}"
    r = client.post(
        f"{url}/move",
        headers=org.headers,
        json={"folder": {"path": "/Shared", "create_if_missing": True}},
    )
    assert r.json()["data"]["folder"]["path"] == "/Shared"
    copy = client.post(f"{url}/duplicate", headers=org.headers, json={})
    assert copy.status_code == 201, copy.text
    assert copy.json()["data"]["name"] == "Acme Corp - Performance Dashboard (copy)"
    assert copy.json()["data"]["identifier"] != doc["identifier"]
    # Resending the tiles without ids keeps the ids they had.
    tiles = [{k: v for k, v in t.items() if k != "id"} for t in doc["tiles"]]
    r = client.patch(url, headers=org.headers, json={"tiles": tiles, "labels": ["customer"]})
    assert r.status_code == 200, r.text
    assert [t["id"] for t in r.json()["data"]["tiles"]] == [t["id"] for t in doc["tiles"]]
    assert r.json()["data"]["version"] == 3
    labelled = client.get("/api/v1/documents?label=customer", headers=org.headers).json()
    assert [d["id"] for d in labelled["data"]] == [doc["id"]]


def test_events_are_emitted_for_the_document_lifecycle(
    client: TestClient, org: Org, doc: dict[str, Any]
) -> None:
    url = f"/api/v1/documents/{doc['id']}"
    client.patch(url, headers=org.headers, json={"name": "Renamed"})
    client.post(f"{url}/move", headers=org.headers, json={"folder": None})
    client.delete(url, headers=org.headers)
    client.post(f"{url}/restore", headers=org.headers)
    events = client.get(f"/api/v1/audit-events?target_id={doc['id']}", headers=org.headers)
    actions = sorted(e["action"] for e in events.json()["data"])
    assert actions == [
        "document.created",
        "document.deleted",
        "document.moved",
        "document.restored",
        "document.updated",
    ]


def test_validator_reports_what_a_model_change_breaks(
    client: TestClient, org: Org, doc: dict[str, Any]
) -> None:
    assert client.get("/api/v1/content-validation", headers=org.headers).json()["data"] == []
    files = dict(model_files())
    files["daily_usage.view"] = files["daily_usage.view"].replace(
        "active_users_count:", "active_user_total:"
    )
    files["usage_overview.topic"] = files["usage_overview.topic"].replace(
        "daily_usage.active_users_count", "daily_usage.active_user_total"
    )
    proposed = client.post("/api/v1/model/validate", headers=org.headers, json={"files": files})
    assert proposed.status_code == 200, proposed.text
    broken = proposed.json()["data"]["broken_content"]
    assert [(b["tile_title"], b["field"], b["code"]) for b in broken] == [
        ("Active Users", "active_users_count", "unknown_field")
    ]
    # Nothing was changed: the current model still answers every tile.
    assert client.get("/api/v1/content-validation", headers=org.headers).json()["data"] == []
