"""Connections: CRUD, file sandbox, secrets at rest, test, delete protection."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import Org, postgres_url

from gnomon.store.tables_semantic import connections


def test_duckdb_file_outside_allowed_dirs_is_refused(qclient: TestClient, qorg: Org) -> None:
    r = qclient.post(
        "/api/v1/connections",
        headers=qorg.headers,
        json={"name": "evil", "dialect": "duckdb", "database": "/etc/passwd"},
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["code"] == "path_not_allowed"


def test_postgres_connection_password_encrypted_and_never_returned(
    qclient: TestClient, qorg: Org
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url())
    r = qclient.post(
        "/api/v1/connections",
        headers=qorg.headers,
        json={
            "name": "pg",
            "dialect": "postgres",
            "host": url.host,
            "port": url.port,
            "database": url.database,
            "username": url.username,
            "password": "s3cret-pass",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()["data"]
    assert body["has_password"] is True
    assert "password" not in body
    assert "s3cret-pass" not in r.text
    with qclient.app.state.store.engine.connect() as conn:  # type: ignore[attr-defined]
        stored = conn.execute(
            select(connections.c.password_enc).where(connections.c.id == body["id"])
        ).scalar_one()
    assert stored.startswith("v1:")
    assert "s3cret-pass" not in stored
    # trust auth ignores the password: the test proves the decrypted spec connects.
    tested = qclient.post(f"/api/v1/connections/{body['id']}/test", headers=qorg.headers).json()[
        "data"
    ]
    assert tested["ok"] is True, tested
    sql = qclient.post(
        "/api/v1/queries/sql",
        headers=qorg.headers,
        json={"connection": "pg", "sql": "select 41 + 1 as answer"},
    )
    assert sql.json()["data"] == [{"answer": 42}]


def test_missing_fields_all_listed(qclient: TestClient, qorg: Org) -> None:
    r = qclient.post(
        "/api/v1/connections", headers=qorg.headers, json={"name": "x", "dialect": "postgres"}
    )
    assert r.status_code == 422
    assert {tuple(d["path"]) for d in r.json()["details"]} == {("host",), ("database",)}


def test_failed_test_reports_the_reason(qclient: TestClient, qorg: Org, tmp_path: Path) -> None:
    r = qclient.post(
        "/api/v1/connections",
        headers=qorg.headers,
        json={
            "name": "down",
            "dialect": "postgres",
            "host": "127.0.0.1",
            "port": 1,
            "database": "x",
        },
    )
    result = qclient.post(
        f"/api/v1/connections/{r.json()['data']['id']}/test", headers=qorg.headers
    ).json()["data"]
    assert result["ok"] is False
    assert result["message"]


def test_connection_in_use_cannot_be_deleted(qclient: TestClient, qorg: Org) -> None:
    conn = qclient.get("/api/v1/connections", headers=qorg.headers).json()["data"][0]
    r = qclient.delete(f"/api/v1/connections/{conn['id']}", headers=qorg.headers)
    assert r.status_code == 409
    assert r.json()["details"][0]["models"] == ["demo"]


def test_duplicate_name_is_409(qclient: TestClient, qorg: Org) -> None:
    r = qclient.post(
        "/api/v1/connections",
        headers=qorg.headers,
        json={"name": "main_db", "dialect": "duckdb", "database": ":memory:"},
    )
    assert r.status_code == 409


def test_an_edited_connection_applies_to_the_next_query(qclient: TestClient, qorg: Org) -> None:
    """Prepared queries keep their connection's settings (password decrypted once), until the
    connection changes."""
    body = {
        "topic": "revenue_analytics",
        "dimensions": ["customer_id"],
        "measures": ["total_revenue"],
        "cache": "bypass",
    }
    for _ in range(2):  # prepared, then remembered
        r = qclient.post("/api/v1/queries/run", headers=qorg.headers, json=body)
        assert r.status_code == 200, r.text
        assert len(r.json()["data"]) > 3
        assert r.json()["meta"]["truncated"] is False
    conn = qclient.get("/api/v1/connections", headers=qorg.headers).json()["data"][0]
    r = qclient.patch(
        f"/api/v1/connections/{conn['id']}", headers=qorg.headers, json={"max_rows": 3}
    )
    assert r.status_code == 200, r.text
    r = qclient.post("/api/v1/queries/run", headers=qorg.headers, json=body)
    assert r.status_code == 200, r.text
    assert len(r.json()["data"]) == 3
    assert r.json()["meta"]["truncated"] is True
