"""Shared fixtures: settings in a temp dir, stores on SQLite and PostgreSQL, the ASGI app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gnomon.api.app import create_app
from gnomon.bootstrap import bootstrap
from gnomon.config import Settings
from gnomon.store import migrate
from gnomon.store.db import Store

BOOTSTRAP_TOKEN = "gnomon-test-bootstrap-token-0123456789abcdef"
ADMIN_TOKEN = "gnomon-test-platform-admin-token-0123456789"


def postgres_url() -> str:
    return os.environ.get(
        "GNOMON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )


def mysql_url() -> str:
    return os.environ.get("GNOMON_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def redis_url() -> str:
    return os.environ.get("GNOMON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    base = postgres_url()
    schema = f"gnomon_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrises a test over both supported metadata stores."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        bootstrap_token=BOOTSTRAP_TOKEN,
        admin_token=ADMIN_TOKEN,
        rate_limit=None,
        log_json=False,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    s = Store.from_url(settings.resolved_database_url)
    migrate.upgrade(s.engine)
    yield s
    s.dispose()


@dataclass
class Org:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def app_factory(settings: Settings) -> Iterator[object]:
    """Build apps with setting overrides; every store opened is disposed afterwards."""
    stores: list[Store] = []

    def make(**overrides: object) -> TestClient:
        s = settings.model_copy(update=overrides)
        application = create_app(s)
        stores.append(application.state.store)
        return TestClient(application, raise_server_exceptions=False)

    yield make
    for s in stores:
        s.dispose()


@pytest.fixture
def client(app_factory) -> TestClient:  # type: ignore[no-untyped-def]
    c: TestClient = app_factory()
    return c


@pytest.fixture
def org(client: TestClient) -> Org:
    """The bootstrapped organization, with its admin key."""
    application = client.app
    with application.state.store.transaction() as session:  # type: ignore[attr-defined]
        created = bootstrap(session, application.state.settings)  # type: ignore[attr-defined]
    assert created is not None
    return Org(id=created.organization.id, token=created.api_key.secret)


@pytest.fixture
def other_org(client: TestClient, org: Org) -> Org:
    """A second organization made through the platform API."""
    r = client.post(
        "/api/v1/organizations",
        json={"name": "Other Co"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert r.status_code == 201, r.text
    body = r.json()["data"]
    return Org(id=body["organization"]["id"], token=body["api_key"]["secret"])
