"""`gnomon content deploy` moves a folder from one running instance to another, with mappings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.conftest import BOOTSTRAP_TOKEN, Cli
from tests.client.servers import RestartableServer, build_demo, running_server

from gnomon.client import Gnomon


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableServer]:
    """A second instance whose warehouse is reached through a connection named `production_db`
    and whose revenue topic is called `prod_revenue`."""
    data = tmp_path_factory.mktemp("production")
    build_demo(data)
    with running_server(data) as server, Gnomon(server.url, BOOTSTRAP_TOKEN) as gn:
        files = dict(gn.model.get().files)
        files["prod_revenue.topic"] = files.pop("revenue_analytics.topic")
        files["model"] = files["model"].replace("- revenue_analytics", "- prod_revenue")
        gn.connections.create(
            name="production_db", dialect="duckdb", database=str(data / "demo" / "warehouse.duckdb")
        )
        gn.model.create(name="production", connection="production_db", files=files)
        yield server


def _seed_folder(gn: Gnomon) -> str:
    doc = gn.documents.create(
        {
            "name": "Acme - Performance Dashboard",
            "description": "Automated dashboard for Acme",
            "folder": {"path": "/Customers/Acme", "create_if_missing": True},
            "tiles": [
                {
                    "type": "query",
                    "title": "Monthly Revenue Trend",
                    "query": {
                        "topic": "revenue_analytics",
                        "dimensions": ["date_month"],
                        "measures": ["total_revenue"],
                    },
                    "visualization": "line_chart",
                }
            ],
        }
    )
    return doc.id


def test_deploy_folder_between_instances_with_mappings(
    cli: Cli, demo_server: RestartableServer, production: RestartableServer
) -> None:
    with Gnomon(demo_server.url, BOOTSTRAP_TOKEN) as staging:
        _seed_folder(staging)
    cli("profiles", "add", "staging", "--url", demo_server.url, "--token", BOOTSTRAP_TOKEN)
    cli("profiles", "add", "production", "--url", production.url, "--token", BOOTSTRAP_TOKEN)
    args = [
        "content", "deploy", "--from", "staging", "--to", "production",
        "--folder", "/Customers",
        "--connection-map", "main_db=production_db",
        "--topic-map", "revenue_analytics=prod_revenue",
    ]  # fmt: skip
    with Gnomon(production.url, BOOTSTRAP_TOKEN) as prod:
        planned = cli(*args, "--dry-run").output
        assert "Acme - Performance Dashboard" in planned
        assert "dry run" in planned
        assert prod.documents.list().total == 0

        first = cli(*args).output
        assert "created" in first
        (doc,) = prod.documents.list().items
        assert doc.folder is not None
        assert doc.folder["path"] == "/Customers/Acme"
        assert doc.tiles[0]["query"]["topic"] == "prod_revenue"
        run = prod.documents.run(doc.id)
        assert json.dumps(run)  # the tile runs against production's connection
        # Deploying again changes nothing and duplicates nothing.
        second = cli(*args).output
        assert "unchanged" in second
        assert prod.documents.list().total == 1


def test_export_then_import_through_a_file(
    cli: Cli, demo_server: RestartableServer, production: RestartableServer, tmp_path: Path
) -> None:
    with Gnomon(demo_server.url, BOOTSTRAP_TOKEN) as staging:
        doc_id = _seed_folder(staging)
    bundle = tmp_path / "dash.json"
    cli("content", "export", "--document", doc_id, "-o", str(bundle),
        url=demo_server.url, token=BOOTSTRAP_TOKEN)  # fmt: skip
    assert json.loads(bundle.read_text())["kind"] == "document"
    args = ["content", "import", str(bundle), "--connection-map", "main_db=production_db",
            "--topic-map", "revenue_analytics=prod_revenue"]  # fmt: skip
    env = {"url": production.url, "token": BOOTSTRAP_TOKEN}
    assert "dry run" in cli(*args, "--dry-run", **env).output
    assert "created" in cli(*args, **env).output
    assert "unchanged" in cli(*args, **env).output
