"""A demo warehouse built once per session, and an org whose main_db points at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org

from gnomon.demo import WarehouseInfo, build_warehouse


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> WarehouseInfo:
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    return build_warehouse(path, scale=0.2)


@pytest.fixture
def qclient(app_factory, demo_warehouse: WarehouseInfo) -> TestClient:  # type: ignore[no-untyped-def]
    client: TestClient = app_factory(duckdb_paths=str(demo_warehouse.path.parent))
    return client


@pytest.fixture
def qorg(qclient: TestClient, demo_warehouse: WarehouseInfo) -> Iterator[Org]:
    """The bootstrapped org with main_db re-pointed (through the API) at the session warehouse."""
    from gnomon.bootstrap import bootstrap

    app = qclient.app
    with app.state.store.transaction() as session:  # type: ignore[attr-defined]
        created = bootstrap(session, app.state.settings)  # type: ignore[attr-defined]
    assert created is not None
    org = Org(id=created.organization.id, token=created.api_key.secret)
    conn = qclient.get("/api/v1/connections", headers=org.headers).json()["data"][0]
    assert conn["name"] == "main_db"
    r = qclient.patch(
        f"/api/v1/connections/{conn['id']}",
        headers=org.headers,
        json={"database": str(demo_warehouse.path)},
    )
    assert r.status_code == 200, r.text
    return org


def run(client: TestClient, org: Org, body: dict, **headers: str):  # type: ignore[no-untyped-def,type-arg]
    return client.post("/api/v1/queries/run", headers={**org.headers, **headers}, json=body)


def warehouse_path(info: WarehouseInfo) -> Path:
    return info.path
