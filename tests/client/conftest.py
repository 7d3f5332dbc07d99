"""A live server shared by the SDK tests; each test gets its own organization on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.client.servers import (
    ADMIN_TOKEN,
    BOOTSTRAP_TOKEN,
    RestartableServer,
    build_demo,
    running_server,
)

from gnomon.client import Gnomon


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableServer]:
    data = tmp_path_factory.mktemp("sdk-live")
    build_demo(data)
    with running_server(data) as server:
        yield server


@pytest.fixture
def platform(live: RestartableServer) -> Iterator[Gnomon]:
    with Gnomon(live.url, ADMIN_TOKEN) as gn:
        yield gn


@pytest.fixture
def gn(live: RestartableServer, platform: Gnomon) -> Iterator[Gnomon]:
    """An admin client of a fresh organization: tests on the shared server never collide."""
    created = platform.organizations.create(name=f"sdk-{uuid.uuid4().hex[:10]}")
    with Gnomon(live.url, created.api_key.secret) as client:
        yield client


@pytest.fixture
def demo(live: RestartableServer) -> Iterator[Gnomon]:
    """The bootstrapped demo organization (model on `main_db`, small warehouse); read-only use."""
    with Gnomon(live.url, BOOTSTRAP_TOKEN) as client:
        yield client
