"""Idempotency-Key: replay the first response, never do the work twice."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Org


def _count_keys(client: TestClient, org: Org) -> int:
    return int(client.get("/api/v1/api-keys", headers=org.headers).json()["meta"]["total"])


def test_same_key_same_body_replays_first_response(client: TestClient, org: Org) -> None:
    headers = {**org.headers, "Idempotency-Key": "create-ci-key-1"}
    before = _count_keys(client, org)
    first = client.post(
        "/api/v1/api-keys", headers=headers, json={"name": "ci", "kind": "organization"}
    )
    second = client.post(
        "/api/v1/api-keys", headers=headers, json={"name": "ci", "kind": "organization"}
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()  # same secret: the first response, replayed
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _count_keys(client, org) == before + 1


def test_same_key_different_body_is_422(client: TestClient, org: Org) -> None:
    headers = {**org.headers, "Idempotency-Key": "k-2"}
    assert (
        client.post(
            "/api/v1/api-keys", headers=headers, json={"name": "a", "kind": "organization"}
        ).status_code
        == 201
    )
    before = _count_keys(client, org)
    r = client.post("/api/v1/api-keys", headers=headers, json={"name": "b", "kind": "organization"})
    assert r.status_code == 422
    assert r.json()["error"] == "idempotency_key_reused"
    assert _count_keys(client, org) == before


def test_keys_are_scoped_to_the_caller(client: TestClient, org: Org, other_org: Org) -> None:
    body = {"name": "same", "kind": "organization"}
    a = client.post(
        "/api/v1/api-keys", headers={**org.headers, "Idempotency-Key": "shared"}, json=body
    )
    b = client.post(
        "/api/v1/api-keys", headers={**other_org.headers, "Idempotency-Key": "shared"}, json=body
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["data"]["id"] != b.json()["data"]["id"]


def test_failed_request_is_replayed_as_failure(client: TestClient, org: Org) -> None:
    headers = {**org.headers, "Idempotency-Key": "bad-1"}
    first = client.post("/api/v1/api-keys", headers=headers, json={"name": "x", "kind": "personal"})
    assert first.status_code == 422  # an org key has no user to own a personal key
    again = client.post("/api/v1/api-keys", headers=headers, json={"name": "x", "kind": "personal"})
    assert again.status_code == 422
    assert again.json()["request_id"] == first.json()["request_id"]
