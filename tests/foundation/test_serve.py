"""`gnomon serve` as a newcomer runs it: a real process on loopback, first key printed once."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.live import live_server


def test_first_start_prints_a_working_key_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_server(data) as server:
        key = server.first_key()
        assert key is not None
        assert key.startswith("gnm_")
        r = httpx.get(
            f"{server.url}/api/v1/audit-events", headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 200
        assert "organization.created" in {e["action"] for e in r.json()["data"]}
    # Second start on the same store: no new organization, no key printed.
    with live_server(data) as server:
        assert server.first_key() is None
        r = httpx.get(f"{server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200


def test_bootstrap_token_is_used_as_the_first_key(tmp_path: Path) -> None:
    token = "scripted-setup-token-0123456789abcdef"
    with live_server(tmp_path / "d", {"GNOMON_BOOTSTRAP_TOKEN": token}) as server:
        assert server.first_key() == token
        r = httpx.get(f"{server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.json()["data"]["is_org_admin"] is True


def test_db_upgrade_command(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.live import GNOMON

    out = subprocess.run(
        [GNOMON, "db", "upgrade"],
        env={**os.environ, "GNOMON_DATA_DIR": str(tmp_path / "x")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "store at revision" in out.stdout
