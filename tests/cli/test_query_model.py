"""`gnomon query` and `gnomon model …` against the demo organization of a live server."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.conftest import BOOTSTRAP_TOKEN, Cli
from tests.client.servers import RestartableServer

ARGS = ["revenue_analytics", "-d", "date_month", "-m", "total_revenue", "-s", "date_month"]


def test_query_table_csv_json(cli: Cli, demo_server: RestartableServer) -> None:
    env = {"url": demo_server.url, "token": BOOTSTRAP_TOKEN}
    rows = json.loads(cli("query", *ARGS, "--limit", "4", "-f", "json", **env).output)
    assert len(rows) == 4
    assert list(rows[0]) == ["date_month", "total_revenue"]
    parsed = list(
        csv.DictReader(io.StringIO(cli("query", *ARGS, "--limit", "4", "-f", "csv", **env).output))
    )
    assert [r["date_month"] for r in parsed] == [r["date_month"] for r in rows]
    table = cli("query", *ARGS, "--limit", "4", **env).output
    assert rows[0]["date_month"] in table
    sql = cli("query", *ARGS, "--sql", **env).output
    assert "select" in sql.lower()


def test_query_body_file_and_filters(
    cli: Cli, demo_server: RestartableServer, tmp_path: Path
) -> None:
    env = {"url": demo_server.url, "token": BOOTSTRAP_TOKEN}
    body = tmp_path / "q.json"
    body.write_text(
        json.dumps(
            {
                "topic": "revenue_analytics",
                "dimensions": ["date_month"],
                "measures": ["total_revenue"],
            }
        )
    )
    out = tmp_path / "out.csv"
    cli(
        "query",
        "--body",
        str(body),
        "-F",
        "date_month=2024-03-01",
        "-f",
        "csv",
        "-o",
        str(out),
        **env,
    )
    rows = list(csv.DictReader(out.open()))
    assert [r["date_month"] for r in rows] == ["2024-03-01"]


def test_query_error_is_one_line_not_a_traceback(cli: Cli, demo_server: RestartableServer) -> None:
    env = {"url": demo_server.url, "token": BOOTSTRAP_TOKEN}
    result = cli("query", "revenue_analytics", "-m", "nope", ok=False, **env)
    assert result.exit_code == 1
    assert "error:" in result.output
    assert "Traceback" not in result.output


def test_model_pull_diff_push_versions_restore(
    cli: Cli, demo_server: RestartableServer, tmp_path: Path
) -> None:
    env = {"url": demo_server.url, "token": BOOTSTRAP_TOKEN}
    work = tmp_path / "model"
    cli("model", "pull", str(work), **env)
    assert (work / "revenue_analytics.topic").exists()
    original = (work / "model").read_text()
    assert cli("model", "diff", str(work), **env).output.strip() == "no changes"
    cli("model", "validate", str(work), **env)

    (work / "model").write_text("# reviewed in Git\n" + original)
    diff = cli("model", "diff", str(work), ok=False, **env)
    assert diff.exit_code == 1
    assert "+# reviewed in Git" in diff.output
    cli("model", "push", str(work), "--dry-run", **env)
    assert cli("model", "diff", str(work), ok=False, **env).exit_code == 1  # dry run kept it
    pushed = cli("model", "push", str(work), **env).output
    assert "is now version" in pushed
    assert cli("model", "diff", str(work), **env).output.strip() == "no changes"

    versions = json.loads(cli("model", "versions", "-f", "json", **env).output)
    numbers = sorted(v["version"] for v in versions)
    cli("model", "restore", str(numbers[-2]), **env)
    cli("model", "pull", str(tmp_path / "restored"), **env)
    assert (tmp_path / "restored" / "model").read_text() == original


def test_model_validate_reports_every_issue(
    cli: Cli, demo_server: RestartableServer, tmp_path: Path
) -> None:
    env = {"url": demo_server.url, "token": BOOTSTRAP_TOKEN}
    work = tmp_path / "m"
    cli("model", "pull", str(work), **env)
    (work / "orders.view").write_text(
        (work / "orders.view").read_text() + "\nmeasures: {bad: {aggregate_type: nope}}\n"
    )
    result = cli("model", "validate", str(work), ok=False, **env)
    assert result.exit_code == 1
    assert "invalid" in result.output


def test_model_schema_is_printed_offline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess

    from tests.live import GNOMON

    out = subprocess.run([GNOMON, "model", "schema"], capture_output=True, text=True, check=True)
    schema = json.loads(out.stdout)
    assert "views" in json.dumps(schema)
    target = tmp_path / "model.schema.json"
    subprocess.run([GNOMON, "model", "schema", "-o", str(target)], check=True, capture_output=True)
    assert json.loads(target.read_text()) == schema
