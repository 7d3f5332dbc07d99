"""Operability: health, readiness, metrics, OpenAPI, offline API docs, settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org

from gnomon.api.app import create_app
from gnomon.config import Settings
from gnomon.errors import ConfigurationError
from gnomon.store.db import Store

ROOT = Path(__file__).resolve().parents[2]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").json() == {"status": "ready"}


def test_not_ready_when_store_unreachable(settings: Settings) -> None:
    store = Store.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app(settings, store=store)
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


def test_metrics_count_requests(client: TestClient, org: Org) -> None:
    client.get("/api/v1/whoami", headers=org.headers)
    text = client.get("/metrics").text
    assert re.search(r'gnomon_http_requests_total\{.*route="whoami".*\} 1\.0', text)


def test_openapi_is_31_with_unique_operation_ids(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    ops = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ops) == len(set(ops))
    assert "api_keys_create" in ops
    assert all(op.get("tags") for path in spec["paths"].values() for op in path.values())


def test_docs_are_served_from_the_package(client: TestClient) -> None:
    html = client.get("/api/v1/docs").text
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    js = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert len(js.content) > 100_000
    assert client.get("/api/v1/docs/assets/../../etc/passwd").status_code == 404


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    missing = [
        f"GNOMON_{name.upper()}"
        for name in Settings.model_fields
        if f"`GNOMON_{name.upper()}`" not in doc
    ]
    assert not missing, f"undocumented settings: {missing}"


def test_production_refuses_unsafe_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as err:
        Settings(
            env="production", data_dir=tmp_path, secret_key=None, admin_token="short"
        ).check_safe()
    assert "GNOMON_SECRET_KEY" in err.value.message
    assert "GNOMON_ADMIN_TOKEN" in err.value.message
    Settings(env="production", data_dir=tmp_path, secret_key="k" * 40).check_safe()


def test_bad_rate_limit_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="N/period"):
        Settings(rate_limit="lots")
