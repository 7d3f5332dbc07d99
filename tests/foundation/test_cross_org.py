"""Cross-organization matrix: another org's resource is a 404 on every endpoint that takes an id.

New endpoints join automatically: every route under /api/v1 with a path parameter must have a
factory below (which makes a resource in org A) and, for methods with a body, a valid sample body.
A route without one fails this test, so nobody can add an id-taking endpoint without proving
tenant isolation for it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Org

Factory = Callable[[TestClient, Org], str]


def _api_key(client: TestClient, org: Org) -> str:
    r = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "victim", "kind": "organization"}
    )
    return str(r.json()["data"]["id"])


def _webhook(client: TestClient, org: Org) -> str:
    r = client.post(
        "/api/v1/webhooks",
        headers=org.headers,
        json={"name": "victim", "url": "https://hooks.example.com/in", "events": ["*"]},
    )
    return str(r.json()["data"]["id"])


def _audit_event(client: TestClient, org: Org) -> str:
    return str(client.get("/api/v1/audit-events", headers=org.headers).json()["data"][0]["id"])


def _user(client: TestClient, org: Org) -> str:
    r = client.post(
        "/api/v1/users", headers=org.headers, json={"email": f"v{uuid.uuid4().hex[:8]}@x.test"}
    )
    return str(r.json()["data"]["id"])


def _group(client: TestClient, org: Org) -> str:
    r = client.post("/api/v1/groups", headers=org.headers, json={"name": uuid.uuid4().hex})
    return str(r.json()["data"]["id"])


def _user_attribute(client: TestClient, org: Org) -> str:
    name = "a" + uuid.uuid4().hex[:10]
    r = client.post("/api/v1/user-attributes", headers=org.headers, json={"name": name})
    return str(r.json()["data"]["id"])


# Collection segment after /api/v1/ → factory of one resource in the victim org.
def _connection(client: TestClient, org: Org) -> str:
    data = client.get("/api/v1/connections", headers=org.headers).json()["data"]
    return str(data[0]["id"])  # the bootstrapped main_db


def _model(client: TestClient, org: Org) -> str:
    return str(client.get("/api/v1/model", headers=org.headers).json()["data"]["id"])


def _folder(client: TestClient, org: Org) -> str:
    r = client.post("/api/v1/folders", headers=org.headers, json={"path": f"/v{uuid.uuid4().hex}"})
    return str(r.json()["data"]["id"])


def _document(client: TestClient, org: Org) -> str:
    r = client.post("/api/v1/documents", headers=org.headers, json={"name": "victim"})
    return str(r.json()["data"]["id"])


FACTORIES: dict[str, Factory] = {
    "folders": _folder,
    "documents": _document,
    "connections": _connection,
    "models": _model,
    "api-keys": _api_key,
    "audit-events": _audit_event,
    "users": _user,
    "groups": _group,
    "user-attributes": _user_attribute,
    "webhooks": _webhook,
}

# (method, path template) → a body that passes validation, so the 404 check is what answers.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/v1/connections/{connection_id}"): {"max_rows": 10},
    ("PUT", "/api/v1/models/{model_id}"): {"ai_chat_topics": []},
    ("POST", "/api/v1/models/{model_id}/validate"): {},
    ("PATCH", "/api/v1/api-keys/{key_id}"): {"name": "renamed"},
    ("PUT", "/api/v1/users/{user_id}"): {"name": "renamed"},
    ("PATCH", "/api/v1/users/{user_id}"): {"name": "renamed"},
    ("PATCH", "/api/v1/groups/{group_id}"): {"description": "renamed"},
    ("PATCH", "/api/v1/user-attributes/{attribute_id}"): {"label": "renamed"},
    ("PATCH", "/api/v1/folders/{folder_id}"): {"description": "renamed"},
    ("POST", "/api/v1/folders/{folder_id}/move"): {},
    ("PUT", "/api/v1/folders/{folder_id}/permissions"): {"permissions": {}},
    ("PUT", "/api/v1/documents/{document_id}"): {"name": "renamed"},
    ("PATCH", "/api/v1/documents/{document_id}"): {"name": "renamed"},
    ("POST", "/api/v1/documents/{document_id}/duplicate"): {},
    ("POST", "/api/v1/documents/{document_id}/move"): {},
    ("PUT", "/api/v1/documents/{document_id}/permissions"): {"permissions": {}},
    ("POST", "/api/v1/documents/{document_id}/run"): {},
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): {"name": "renamed"},
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): {},
}

# Platform routes address organizations themselves; they are not tenant-scoped.
PLATFORM_ROUTES = {"/api/v1/organizations/{org_id}"}
# Routes whose parameter addresses the caller's own default model (a version number), so there
# is no other organization's resource to reach through them.
OWN_SCOPE_ROUTES = {"/api/v1/model/versions/{version}/restore"}
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _operations(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    """Every documented operation, from the OpenAPI document (it lists the full paths)."""
    spec = client.get("/api/v1/openapi.json").json()
    return {
        (method.upper(), path): op
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }


def _id_routes(client: TestClient) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path in _operations(client)
        if "{" in path
        and path.startswith("/api/v1/")
        and path not in PLATFORM_ROUTES
        and path not in OWN_SCOPE_ROUTES
    )


def test_every_id_route_has_a_factory(client: TestClient) -> None:
    ops = _operations(client)
    missing = []
    for method, path in _id_routes(client):
        collection = path.split("/")[3]
        if collection not in FACTORIES:
            missing.append(f"{method} {path}: add a factory for {collection!r}")
        needs_body = "requestBody" in ops[(method, path)]
        if method in BODY_METHODS and needs_body and (method, path) not in SAMPLE_BODIES:
            missing.append(f"{method} {path}: add a sample body")
    assert not missing, "\n".join(missing)


def test_other_orgs_resources_are_404_everywhere(
    client: TestClient, org: Org, other_org: Org
) -> None:
    routes = _id_routes(client)
    assert routes, "no id routes found"
    failures = []
    for method, path in routes:
        victim_id = FACTORIES[path.split("/")[3]](client, org)
        url = re.sub(r"\{[^}]+\}", victim_id, path, count=1)
        url = re.sub(r"\{version\}", "1", url)  # numeric sub-resources of the victim
        url = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", url)
        kwargs: dict[str, Any] = {"headers": other_org.headers}
        if (method, path) in SAMPLE_BODIES:
            kwargs["json"] = SAMPLE_BODIES[(method, path)]
        r = client.request(method, url, **kwargs)
        if r.status_code != 404:
            failures.append(f"{method} {path} → {r.status_code} {r.text[:200]}")
        # The owner still sees it: the 404 above was isolation, not a broken route.
        if method == "GET":
            assert client.get(url, headers=org.headers).status_code == 200, url
    assert not failures, "\n".join(failures)
