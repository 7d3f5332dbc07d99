"""Roles, effective connection roles, whoami, the access context and the role x endpoint matrix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.identity.helpers import define_seed_attributes, make_group, make_user, personal_headers

from gnomon.identity.service_access import access_context_for, access_context_for_user
from gnomon.policy import effective_connection_role
from gnomon.principal import Principal


def _session(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.store.transaction()  # type: ignore[attr-defined]


def test_effective_role_is_highest_of_user_and_groups(client: TestClient, org: Org) -> None:
    make_group(client, org, "modelers", connection_roles={"main_db": "MODELER"})
    user = make_user(
        client, org, "m@example.com", connection_roles={"main_db": "VIEWER"}, groups=["modelers"]
    )
    me = client.get("/api/v1/whoami", headers=personal_headers(client, org, user["id"])).json()
    access = me["data"]["connections"]["main_db"]
    assert access["role"] == "MODELER"
    assert "model:edit" in access["permissions"]
    assert "connection:manage" not in access["permissions"]
    principal = Principal(
        org_id=org.id, kind="personal", is_org_admin=False, label="m", user_id=user["id"]
    )
    with _session(client) as s:
        assert effective_connection_role(s, principal, "main_db") == "MODELER"
        assert effective_connection_role(s, principal, "other_db") == "NO_ACCESS"
        org_key = Principal(org_id=org.id, kind="organization", is_org_admin=True, label="k")
        assert effective_connection_role(s, org_key, "anything") == "CONNECTION_ADMIN"


def test_access_context_multi_group_rule(client: TestClient, org: Org) -> None:
    define_seed_attributes(client, org)
    client.patch(
        "/api/v1/user-attributes/" + _attr_id(client, org, "cost_center"),
        json={"default_value": "CC-DEFAULT"},
        headers=org.headers,
    )
    make_group(client, org, "emea", user_attributes={"region": ["EU"], "department": "Sales"})
    make_group(client, org, "apac", user_attributes={"region": ["APAC", "EU"]})
    user = make_user(
        client,
        org,
        "r@example.com",
        name="Reg Ion",
        groups=["emea", "apac"],
        user_attributes={"department": "Finance"},
    )
    with _session(client) as s:
        ctx = access_context_for_user(s, org.id, user["id"])
        principal = Principal(
            org_id=org.id, kind="personal", is_org_admin=False, label="r", user_id=user["id"]
        )
        assert access_context_for(s, principal) == (ctx, False)
        org_key = Principal(org_id=org.id, kind="organization", is_org_admin=True, label="k")
        assert access_context_for(s, org_key) == ({}, True)
    assert ctx["department"] == ("Finance",)  # the user's own value wins
    assert ctx["region"] == ("APAC", "EU")  # groups combined, by group name, deduplicated
    assert ctx["cost_center"] == ("CC-DEFAULT",)
    assert "employee_id" not in ctx
    assert ctx["gnomon_user_email"] == ("r@example.com",)
    assert ctx["gnomon_user_groups"] == ("apac", "emea")
    assert ctx["gnomon_is_org_admin"] == ("false",)


def _attr_id(client: TestClient, org: Org, name: str) -> str:
    items = client.get("/api/v1/user-attributes", params={"per_page": 200}, headers=org.headers)
    return next(a["id"] for a in items.json()["data"] if a["name"] == name)


# (method, path template, body) → expected status for (org key, ORG_ADMIN user, MEMBER user).
MATRIX = [
    ("GET", "/api/v1/users", None, (200, 200, 403)),
    ("POST", "/api/v1/users", {"email": "new{n}@example.com"}, (201, 201, 403)),
    ("POST", "/api/v1/users/batch", {"users": [{"email": "batch@example.com"}]}, (200, 200, 403)),
    ("GET", "/api/v1/users/{other}", None, (200, 200, 403)),
    ("GET", "/api/v1/users/{self}", None, (200, 200, 200)),
    ("PATCH", "/api/v1/users/{other}", {"name": "x"}, (200, 200, 403)),
    ("PUT", "/api/v1/users/{other}", {"name": "y"}, (200, 200, 403)),
    ("GET", "/api/v1/groups", None, (200, 200, 200)),
    ("POST", "/api/v1/groups", {"name": "g{n}"}, (201, 201, 403)),
    ("GET", "/api/v1/groups/{group}", None, (200, 200, 200)),
    ("PATCH", "/api/v1/groups/{group}", {"description": "d"}, (200, 200, 403)),
    ("GET", "/api/v1/user-attributes", None, (200, 200, 200)),
    ("POST", "/api/v1/user-attributes", {"name": "a{n}"}, (201, 201, 403)),
    ("GET", "/api/v1/user-attributes/{attr}", None, (200, 200, 200)),
    ("PATCH", "/api/v1/user-attributes/{attr}", {"label": "L"}, (200, 200, 403)),
    ("GET", "/api/v1/whoami", None, (200, 200, 200)),
    ("DELETE", "/api/v1/users/{victim}", None, (204, 204, 403)),
    ("DELETE", "/api/v1/groups/{group}", None, (204, 204, 403)),
    ("DELETE", "/api/v1/user-attributes/{attr}", None, (204, 204, 403)),
    ("GET", "/scim/v2/Users", None, (200, 403, 403)),
]


@pytest.mark.parametrize("caller", [0, 1, 2], ids=["org_key", "org_admin", "member"])
def test_role_endpoint_matrix(client: TestClient, org: Org, caller: int) -> None:
    admin = make_user(client, org, "admin@example.com", org_role="ORG_ADMIN")
    member = make_user(client, org, "member@example.com")
    other = make_user(client, org, "other@example.com")
    headers = [
        org.headers,
        personal_headers(client, org, admin["id"]),
        personal_headers(client, org, member["id"]),
    ][caller]
    me = [None, admin, member][caller]
    failures = []
    for n, (method, template, body, expected) in enumerate(MATRIX):
        ids = {
            "other": other["id"],
            "self": me["id"] if me else other["id"],
            "victim": make_user(client, org, f"victim{n}@example.com")["id"],
            "group": make_group(client, org, f"grp{n}")["id"],
            "attr": client.post(
                "/api/v1/user-attributes", json={"name": f"attr{n}"}, headers=org.headers
            ).json()["data"]["id"],
        }
        path = template.format(**ids)
        json_body = None
        if body is not None:
            json_body = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
        r = client.request(method, path, headers=headers, json=json_body)
        if r.status_code != expected[caller]:
            failures.append(f"{method} {template}: {r.status_code} != {expected[caller]}")
    assert not failures, "\n".join(failures)
