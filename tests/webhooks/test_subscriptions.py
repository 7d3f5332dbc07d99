"""Subscription management: validation (all problems at once), SSRF refusal at save time,
updates, deletion, the event catalog and the organization's webhook settings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.webhooks.conftest import make_webhook

from gnomon.webhooks import service

HOOK = {"name": "h", "url": "https://hooks.example.com/in", "events": ["user.*"]}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://api.localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_targets_are_refused_unless_allowed(app_factory: Any, url: str) -> None:
    from gnomon.bootstrap import bootstrap

    client: TestClient = app_factory()  # no GNOMON_WEBHOOK_ALLOW_HOSTS
    app: Any = client.app
    with app.state.store.transaction() as session:
        created = bootstrap(session, app.state.settings)
    assert created is not None
    headers = {"Authorization": f"Bearer {created.api_key.secret}"}
    r = client.post("/api/v1/webhooks", json={**HOOK, "url": url}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["code"] == "forbidden_target"
    assert "GNOMON_WEBHOOK_ALLOW_HOSTS" in r.json()["details"][0]["hint"]


def test_allowed_hosts_and_public_targets_are_accepted(client: TestClient, org: Org) -> None:
    for url in ("http://127.0.0.1:8999/in", "https://93.184.216.34/in", "https://yourapp.com/x"):
        make_webhook(client, org, **{**HOOK, "url": url})


def test_every_problem_is_reported_at_once(client: TestClient, org: Org) -> None:
    body = {
        "name": "bad",
        "url": "ftp://example.com/x",
        "events": ["user.craeted", "Not An Event"],
        "filters": {"execution_time": {"gte": [1]}, "x": {"gt": 1, "y": 2}, "z": []},
        "secret": "short",
    }
    r = client.post("/api/v1/webhooks", json=body, headers=org.headers)
    assert r.status_code == 422, r.text
    paths = [d["path"] for d in r.json()["details"]]
    assert paths == [
        ["url"],
        ["events", 0],
        ["events", 1],
        ["filters", "execution_time", "gte"],
        ["filters", "x"],
        ["filters", "z"],
        ["secret"],
    ]
    assert "user.created" in r.json()["details"][1]["hint"]


def test_generated_secret_is_shown_once(client: TestClient, org: Org) -> None:
    hook = make_webhook(client, org, **HOOK)
    assert hook["secret"].startswith("whsec_")
    assert hook["retry_policy"] == {
        "max_retries": 5,
        "backoff_strategy": "exponential",
        "initial_delay": 5.0,
    }
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=org.headers).json()["data"]
    assert "secret" not in got
    assert got["events"] == ["user.*"]


def test_update_disable_enable_and_delete(client: TestClient, org: Org) -> None:
    hook = make_webhook(client, org, **HOOK)
    url = f"/api/v1/webhooks/{hook['id']}"
    r = client.patch(
        url,
        json={"enabled": False, "events": ["query.error", "query.error"], "filters": {"a": 1}},
        headers=org.headers,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["enabled"], data["events"], data["filters"]) == (False, ["query.error"], {"a": 1})
    assert data["disabled_reason"] == "disabled by a user"
    listed = client.get("/api/v1/webhooks", params={"enabled": "false"}, headers=org.headers)
    assert [w["id"] for w in listed.json()["data"]] == [hook["id"]]
    assert client.patch(url, json={"name": None}, headers=org.headers).status_code == 422
    assert (
        client.patch(url, json={"url": "http://10.0.0.1/"}, headers=org.headers).status_code == 422
    )
    audit = client.get(
        "/api/v1/audit-events", params={"action": "webhook.updated"}, headers=org.headers
    ).json()["data"]
    assert audit[0]["changes"]["enabled"] == {"before": True, "after": False}
    assert client.delete(url, headers=org.headers).status_code == 204
    assert client.get(url, headers=org.headers).status_code == 404
    assert client.get(url + "/deliveries", headers=org.headers).status_code == 404


def test_list_is_paginated_and_sorted(client: TestClient, org: Org) -> None:
    for name in ("c", "a", "b"):
        make_webhook(client, org, **{**HOOK, "name": name})
    r = client.get(
        "/api/v1/webhooks", params={"sort": "name", "per_page": 2}, headers=org.headers
    ).json()
    assert [w["name"] for w in r["data"]] == ["a", "b"]
    assert r["meta"]["total"] == 3
    assert "next" in r["links"]


def test_event_catalog_lists_types_with_data_schemas(client: TestClient, org: Org) -> None:
    r = client.get("/api/v1/webhooks/event-types", params={"per_page": 200}, headers=org.headers)
    assert r.status_code == 200
    types = {t["name"]: t for t in r.json()["data"]}
    for name in ("query.slow_execution", "query.error", "webhook.test", "webhook.disabled"):
        assert name in types
    slow = types["query.slow_execution"]["data_schema"]
    assert {"execution_time", "sql_hash", "topic", "user"} <= set(slow["properties"])
    error_type = types["query.error"]["data_schema"]["properties"]["error_type"]
    assert error_type["enum"] == [
        "timeout",
        "permission_denied",
        "invalid_query",
        "database_error",
        "rate_limited",
    ]


def test_slow_query_threshold_setting(client: TestClient, org: Org) -> None:
    url = "/api/v1/webhooks/settings"
    assert client.get(url, headers=org.headers).json()["data"] == {"slow_query_threshold_s": 30.0}
    r = client.put(url, json={"slow_query_threshold_s": 12.5}, headers=org.headers)
    assert r.status_code == 200, r.text
    assert client.get(url, headers=org.headers).json()["data"]["slow_query_threshold_s"] == 12.5
    assert (
        client.put(url, json={"slow_query_threshold_s": 0}, headers=org.headers).status_code == 422
    )
    app: Any = client.app
    with app.state.store.transaction(write=False) as session:
        assert service.slow_query_threshold(session, org.id) == 12.5
        assert service.slow_query_threshold(session, "no-such-org") == 30.0


def test_other_orgs_webhooks_are_invisible(client: TestClient, org: Org, other_org: Org) -> None:
    hook = make_webhook(client, org, **HOOK)
    assert client.get("/api/v1/webhooks", headers=other_org.headers).json()["data"] == []
    assert (
        client.get(f"/api/v1/webhooks/{hook['id']}", headers=other_org.headers).status_code == 404
    )
