"""Profiles, `gnomon keys`, `gnomon audit export` against a live server."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

from tests.cli.conftest import Cli
from tests.client.servers import RestartableServer


def test_profiles_pick_the_instance_and_keep_tokens_private(
    cli: Cli, demo_server: RestartableServer, org_token: str, config_dir: Path
) -> None:
    cli("profiles", "add", "staging", "--url", demo_server.url, "--token", org_token)
    cli("profiles", "add", "broken", "--url", demo_server.url, "--token", "wrong-token")
    listed = cli("profiles", "list").output
    assert "* staging" in listed  # the first profile becomes the default
    assert org_token not in listed
    path = config_dir / "profiles.toml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    me = json.loads(cli("profiles", "whoami").output)
    assert me["is_org_admin"] is True
    failed = cli("profiles", "whoami", "--profile", "broken", ok=False)
    assert failed.exit_code == 1
    assert "401" in failed.output
    cli("profiles", "use", "broken")
    assert cli("profiles", "whoami", ok=False).exit_code == 1
    # The environment wins over the default profile (how CI jobs run the CLI).
    assert cli("profiles", "whoami", url=demo_server.url, token=org_token).exit_code == 0
    cli("profiles", "remove", "broken")
    assert "broken" not in cli("profiles", "list").output


def test_unknown_profile_names_the_known_ones(cli: Cli) -> None:
    cli("profiles", "add", "prod", "--url", "http://127.0.0.1:9")
    result = cli("keys", "list", "--profile", "nope", ok=False)
    assert result.exit_code == 2
    assert "prod" in result.output


def test_keys_create_list_revoke(cli: Cli, demo_server: RestartableServer, org_token: str) -> None:
    env = {"url": demo_server.url, "token": org_token}
    secret = cli("keys", "create", "ci-bot", "--kind", "organization", "--quiet", **env).output
    secret = secret.strip()
    assert secret.startswith("gnm_")
    rows = json.loads(cli("keys", "list", "--format", "json", **env).output)
    bot = next(r for r in rows if r["name"] == "ci-bot")
    assert bot["status"] == "active"
    # The new key works, then stops working once revoked.
    assert cli("profiles", "whoami", url=demo_server.url, token=secret).exit_code == 0
    cli("keys", "revoke", bot["id"], **env)
    assert cli("profiles", "whoami", url=demo_server.url, token=secret, ok=False).exit_code == 1
    rows = json.loads(cli("keys", "list", "--format", "json", **env).output)
    # Revoked keys are no longer listed as usable keys.
    assert all(r["status"] != "active" for r in rows if r["id"] == bot["id"])
    assert "API keys" in cli("keys", "list", **env).output  # the rich table


def test_audit_export_csv_and_json(
    cli: Cli, demo_server: RestartableServer, org_token: str, tmp_path: Path
) -> None:
    env = {"url": demo_server.url, "token": org_token}
    cli("keys", "create", "audited", "--kind", "organization", **env)
    out = tmp_path / "audit.csv"
    cli("audit", "export", "--since", "2000-01-01", "--format", "csv", "-o", str(out), **env)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    actions = {r["action"] for r in rows}
    assert {"organization.created", "api_key.created"} <= actions
    only_keys = json.loads(
        cli("audit", "export", "--action", "api_key.*", "--format", "json", **env).output
    )
    assert only_keys
    assert {e["action"] for e in only_keys} == {"api_key.created"}
    future = cli("audit", "export", "--since", "2999-01-01", **env).output
    assert len(future.strip().splitlines()) == 1  # the CSV header only
    assert json.loads(cli("audit", "verify", **env).output)["ok"] is True
