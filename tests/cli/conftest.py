"""CLI tests: the `gnomon` typer app run in-process against live servers on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from tests.client.servers import (
    ADMIN_TOKEN,
    BOOTSTRAP_TOKEN,
    RestartableServer,
    build_demo,
    running_server,
)
from typer.testing import CliRunner

from gnomon.cli.main import app
from gnomon.client import Gnomon

Cli = Callable[..., Result]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableServer]:
    data = tmp_path_factory.mktemp("cli-demo")
    build_demo(data)
    with running_server(data) as server:
        yield server


@pytest.fixture
def org_token(demo_server: RestartableServer) -> str:
    """Admin key of a fresh organization on the shared server."""
    with Gnomon(demo_server.url, ADMIN_TOKEN) as platform:
        created = platform.organizations.create(name=f"cli-{uuid.uuid4().hex[:10]}")
    return created.api_key.secret


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def cli(config_dir: Path) -> Cli:
    """Run `gnomon ARGS…`; `url`/`token` become GNOMON_URL/GNOMON_TOKEN when given."""

    def run(
        *args: str, url: str | None = None, token: str | None = None, ok: bool = True
    ) -> Result:
        env = {"GNOMON_CONFIG_DIR": str(config_dir), "GNOMON_URL": url, "GNOMON_TOKEN": token}
        env.update({"COLUMNS": "200", "GNOMON_PROFILE": None})
        result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


__all__ = ["BOOTSTRAP_TOKEN", "Cli"]
