"""Content fixtures: the seed's bodies, groups and users with personal keys."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org

from gnomon.bootstrap import bootstrap
from gnomon.demo import build_warehouse


@dataclass
class Member:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_groups(client: TestClient, org: Org, *names: str) -> dict[str, str]:
    out = {}
    for name in names:
        r = client.post("/api/v1/groups", headers=org.headers, json={"name": name})
        assert r.status_code == 201, r.text
        out[name] = r.json()["data"]["id"]
    return out


def make_member(client: TestClient, org: Org, email: str, groups: list[str]) -> Member:
    r = client.post(
        "/api/v1/users", headers=org.headers, json={"email": email, "name": email, "groups": groups}
    )
    assert r.status_code == 201, r.text
    uid = r.json()["data"]["id"]
    k = client.post(
        "/api/v1/api-keys",
        headers=org.headers,
        json={"name": f"key {email}", "kind": "personal", "user_id": uid},
    )
    assert k.status_code == 201, k.text
    return Member(id=uid, email=email, token=k.json()["data"]["secret"])


def customer_dashboard(customer: dict[str, Any]) -> dict[str, Any]:
    """The seed's ``createCustomerDashboard`` body, verbatim."""
    return {
        "name": f"{customer['name']} - Performance Dashboard",
        "description": f"Automated dashboard for {customer['name']}",
        "folder": {"path": f"/Customers/{customer['name']}", "create_if_missing": True},
        "default_filters": {
            "customer_id": customer["id"],
            "subscription_tier": customer["subscriptionTier"],
        },
        "permissions": {
            f"customer_{customer['id']}_users": "VIEWER",
            f"customer_{customer['id']}_admins": "EDITOR",
            "customer_success_team": "VIEWER",
        },
        "tiles": [
            {
                "type": "query",
                "title": "Monthly Revenue Trend",
                "query": {
                    "topic": "revenue_analytics",
                    "dimensions": ["date_month"],
                    "measures": ["total_revenue"],
                    "filters": {"customer_id": customer["id"]},
                },
                "visualization": "line_chart",
            },
            {
                "type": "metric",
                "title": "Active Users",
                "query": {
                    "topic": "usage_metrics",
                    "measures": ["active_users_count"],
                    "filters": {"customer_id": customer["id"]},
                },
            },
        ],
    }


def department_structure(name: str) -> list[dict[str, Any]]:
    """The seed's ``createDepartmentStructure`` folder bodies, verbatim."""
    low = name.lower()
    return [
        {
            "path": f"/Departments/{name}",
            "description": f"{name} departmental analytics",
            "permissions": {
                f"{low}_team": "EDITOR",
                "executives": "VIEWER",
                "data_team": "CONNECTION_ADMIN",
            },
        },
        {
            "path": f"/Departments/{name}/Executive Reports",
            "description": "Executive-level reporting",
            "permissions": {f"{low}_director": "EDITOR", "executives": "VIEWER"},
        },
        {
            "path": f"/Departments/{name}/Operational Metrics",
            "description": "Day-to-day operational dashboards",
            "permissions": {f"{low}_team": "EDITOR"},
        },
        {
            "path": f"/Departments/{name}/Analysis Sandbox",
            "description": "Experimental analysis workspace",
            "permissions": {f"{low}_analysts": "EDITOR"},
        },
    ]


CUSTOMER = {"id": 42, "name": "Acme Corp", "subscriptionTier": "enterprise"}


@pytest.fixture
def customer_groups(client: TestClient, org: Org) -> dict[str, str]:
    return make_groups(
        client, org, "customer_42_users", "customer_42_admins", "customer_success_team"
    )


@pytest.fixture(scope="session")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse, built once per session (small scale: the tests check plumbing)."""
    path: Path = tmp_path_factory.mktemp("content-demo") / "warehouse.duckdb"
    build_warehouse(path, today=date(2026, 11, 29), seed=7, scale=0.05)
    return path


def install_warehouse(source: Path, data_dir: Path) -> None:
    """Where the demo org's ``main_db`` connection looks for it."""
    target = data_dir / "demo" / "warehouse.duckdb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def bootstrap_org(client: TestClient) -> Org:
    application = client.app
    with application.state.store.transaction() as session:  # type: ignore[attr-defined]
        created = bootstrap(session, application.state.settings)  # type: ignore[attr-defined]
    assert created is not None
    return Org(id=created.organization.id, token=created.api_key.secret)
