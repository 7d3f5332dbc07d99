"""SCIM 2.0: conformance (scim2-tester against a live server) and SCIM ↔ REST consistency."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.identity.helpers import define_seed_attributes, make_group, make_user, personal_headers
from tests.live import live_server

SCIM2 = str(Path(sys.executable).with_name("scim2"))
TOKEN = "scim-conformance-org-token-0123456789abcdef"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.mark.slow
def test_scim2_tester_reports_only_success(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", {"GNOMON_BOOTSTRAP_TOKEN": TOKEN}) as server:
        run = subprocess.run(
            [
                SCIM2,
                "--url",
                f"{server.url}/scim/v2",
                "-h",
                f"Authorization: Bearer {TOKEN}",
                "test",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    lines = [line for line in run.stdout.splitlines() if line and not line.startswith(" ")]
    statuses = [line.split()[0] for line in lines[1:]]
    assert run.returncode == 0, run.stdout[-4000:]
    assert len(statuses) > 100
    assert set(statuses) == {"SUCCESS"}, run.stdout[-4000:]


def _scim(org: Org) -> dict[str, str]:
    return {**org.headers, "Content-Type": "application/scim+json"}


def _hr_user(manager_id: str) -> dict[str, Any]:
    return {
        "schemas": [USER, ENTERPRISE],
        "userName": "ada@example.com",
        "displayName": "Ada Lovelace",
        "title": "Data Analyst",
        "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
        ENTERPRISE: {
            "employeeNumber": "E-1001",
            "department": "Sales",
            "costCenter": "CC-42",
            "manager": {"value": manager_id, "$ref": f"http://x/scim/v2/Users/{manager_id}"},
        },
    }


def test_scim_user_is_the_rest_user(client: TestClient, org: Org) -> None:
    define_seed_attributes(client, org)
    manager = make_user(client, org, "grace@example.com", name="Grace")
    r = client.post("/scim/v2/Users", json=_hr_user(manager["id"]), headers=_scim(org))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/scim+json")
    scim_user = r.json()
    rest = client.get(f"/api/v1/users/{scim_user['id']}", headers=org.headers).json()["data"]
    assert rest["email"] == "ada@example.com"
    assert rest["name"] == "Ada Lovelace"
    assert rest["user_attributes"] == {
        "job_title": "Data Analyst",
        "employee_id": "E-1001",
        "department": "Sales",
        "cost_center": "CC-42",
        "manager_email": "grace@example.com",
    }
    # A REST change is what SCIM shows next, and the HR fields round-trip.
    client.patch(
        f"/api/v1/users/{rest['id']}",
        json={"name": "Ada King", "user_attributes": {"department": "Research"}},
        headers=org.headers,
    )
    again = client.get(f"/scim/v2/Users/{rest['id']}", headers=org.headers).json()
    assert again["displayName"] == "Ada King"
    assert again[ENTERPRISE]["department"] == "Research"
    assert again[ENTERPRISE]["employeeNumber"] == "E-1001"
    assert again[ENTERPRISE]["manager"]["value"] == manager["id"]
    assert again["title"] == "Data Analyst"
    actions = [
        e["action"]
        for e in client.get(
            "/api/v1/audit-events", params={"target_id": rest["id"]}, headers=org.headers
        ).json()["data"]
    ]
    assert sorted(actions) == ["user.created", "user.updated"]


def test_scim_filters_sort_and_pages(client: TestClient, org: Org) -> None:
    for i, dept in enumerate(["Sales", "Ops", "Sales"]):
        body = {
            "schemas": [USER, ENTERPRISE],
            "userName": f"u{i}@example.com",
            "emails": [{"value": f"u{i}@example.com", "type": "work" if i else "home"}],
            ENTERPRISE: {"department": dept},
        }
        assert client.post("/scim/v2/Users", json=body, headers=_scim(org)).status_code == 201

    def names(flt: str, **params: Any) -> list[str]:
        r = client.get("/scim/v2/Users", params={"filter": flt, **params}, headers=org.headers)
        assert r.status_code == 200, r.text
        return [u["userName"] for u in r.json()["Resources"]]

    assert names('userName eq "U1@example.com"') == ["u1@example.com"]
    assert names(f'{ENTERPRISE}:department eq "sales"', sortBy="userName") == [
        "u0@example.com",
        "u2@example.com",
    ]
    assert names('emails[type eq "work"] and not (userName ew "2@example.com")') == [
        "u1@example.com"
    ]
    assert names(
        'userName sw "u" or userName pr',
        sortBy="userName",
        sortOrder="descending",
        startIndex=2,
        count=1,
    ) == ["u1@example.com"]
    bad = client.get("/scim/v2/Users", params={"filter": "userName eq"}, headers=org.headers)
    assert bad.status_code == 400
    assert bad.json()["scimType"] == "invalidFilter"


def test_scim_patch_groups_members_and_etags(client: TestClient, org: Org) -> None:
    alice = make_user(client, org, "alice@example.com")
    bob = make_user(client, org, "bob@example.com")
    group = make_group(client, org, "analysts", members=[alice["id"], bob["id"]])
    url = f"/scim/v2/Groups/{group['id']}"
    etag = client.get(url, headers=org.headers).headers["etag"]
    body = {
        "schemas": [PATCH],
        "Operations": [{"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}],
    }
    stale = client.patch(url, json=body, headers={**_scim(org), "If-Match": 'W/"999"'})
    assert stale.status_code == 412
    r = client.patch(url, json=body, headers={**_scim(org), "If-Match": etag})
    assert r.status_code == 200, r.text
    assert [m["value"] for m in r.json()["members"]] == [bob["id"]]
    rest = client.get(f"/api/v1/groups/{group['id']}", headers=org.headers).json()["data"]
    assert [m["id"] for m in rest["members"]] == [bob["id"]]


def test_scim_delete_hides_user_and_deactivates_it(client: TestClient, org: Org) -> None:
    user = make_user(client, org, "gone@example.com")
    key = personal_headers(client, org, user["id"])
    assert client.delete(f"/scim/v2/Users/{user['id']}", headers=org.headers).status_code == 204
    missing = client.get(f"/scim/v2/Users/{user['id']}", headers=org.headers)
    assert missing.status_code == 404
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (
        client.get(f"/api/v1/users/{user['id']}", headers=org.headers).json()["data"]["active"]
        is False
    )
    assert client.get("/api/v1/whoami", headers=key).status_code == 401
    # The IdP provisioning the user again brings the same user back.
    body = {"schemas": [USER], "userName": "gone@example.com", "active": True}
    again = client.post("/scim/v2/Users", json=body, headers=_scim(org))
    assert again.status_code == 201, again.text
    assert again.json()["id"] == user["id"]


def test_scim_needs_an_organization_key(client: TestClient, org: Org) -> None:
    admin = make_user(client, org, "root@example.com", org_role="ORG_ADMIN")
    r = client.get("/scim/v2/Users", headers=personal_headers(client, org, admin["id"]))
    assert r.status_code == 403
    assert r.json()["status"] == "403"
    assert client.get("/scim/v2/Users").status_code == 401


def test_other_orgs_scim_resources_are_404(client: TestClient, org: Org, other_org: Org) -> None:
    user = make_user(client, org, "mine@example.com")
    group = make_group(client, org, "mine")
    assert client.get(f"/scim/v2/Users/{user['id']}", headers=other_org.headers).status_code == 404
    assert (
        client.get(f"/scim/v2/Groups/{group['id']}", headers=other_org.headers).status_code == 404
    )
    listed = client.get("/scim/v2/Users", headers=other_org.headers).json()
    assert listed["totalResults"] == 0
