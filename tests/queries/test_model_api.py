"""Model management: the seed's PUT /model body, versions, restore, concurrency, validation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.queries.conftest import run

# The seed's updateCustomerTopics body for the 'premium' tier, as written.
PREMIUM = {
    "topics": ["usage_overview", "advanced_analytics", "predictive_insights"],
    "default_topic_access_filters": [
        {"field": "customer_id", "user_attribute": "customer_id", "default_value": 42},
        {
            "field": "subscription_tier",
            "user_attribute": "subscription_tier",
            "default_value": "premium",
        },
    ],
    "ai_chat_topics": ["usage_overview", "advanced_analytics"],
    "caching_policy": {"default_max_age": 1800},
}


def test_seed_tier_update_is_accepted_as_written(qclient: TestClient, qorg: Org) -> None:
    before = qclient.get("/api/v1/model", headers=qorg.headers)
    assert before.status_code == 200
    version = before.json()["data"]["version"]
    r = qclient.put("/api/v1/model", headers=qorg.headers, json=PREMIUM)
    assert r.status_code == 200, r.text
    model = r.json()["data"]
    assert model["version"] == version + 1
    enabled = {t["name"] for t in model["topics"] if t["enabled"]}
    assert enabled == set(PREMIUM["topics"])
    assert model["settings"]["caching_policy"] == {"default_max_age": 1800}
    assert model["settings"]["ai_chat_topics"] == PREMIUM["ai_chat_topics"]
    assert r.headers["etag"] == f'"{model["id"]}:{model["version"]}"'
    # A topic that is no longer enabled cannot be queried; an enabled one can.
    assert (
        run(
            qclient, qorg, {"topic": "revenue_analytics", "measures": ["total_revenue"]}
        ).status_code
        == 422
    )
    ok = run(qclient, qorg, {"topic": "usage_overview", "measures": ["active_users_count"]})
    assert ok.status_code == 200, ok.text
    event = qclient.get("/api/v1/audit-events?action=model.updated", headers=qorg.headers).json()[
        "data"
    ][0]
    assert event["data"]["model"]["version"] == version + 1
    assert event["data"]["diff"]["changed"] == ["model"]


def test_versions_and_restore(qclient: TestClient, qorg: Org) -> None:
    qclient.put("/api/v1/model", headers=qorg.headers, json=PREMIUM)
    versions = qclient.get("/api/v1/model/versions", headers=qorg.headers).json()
    assert [v["version"] for v in versions["data"]] == [2, 1]
    restored = qclient.post("/api/v1/model/versions/1/restore", headers=qorg.headers).json()["data"]
    assert restored["version"] == 3
    assert all(t["enabled"] for t in restored["topics"])
    assert (
        run(
            qclient, qorg, {"topic": "revenue_analytics", "measures": ["total_revenue"]}
        ).status_code
        == 200
    )
    assert (
        qclient.post("/api/v1/model/versions/99/restore", headers=qorg.headers).status_code == 404
    )


def test_if_match_detects_concurrent_edits(qclient: TestClient, qorg: Org) -> None:
    etag = qclient.get("/api/v1/model", headers=qorg.headers).headers["etag"]
    first = qclient.put(
        "/api/v1/model", headers={**qorg.headers, "If-Match": etag}, json={"ai_chat_topics": []}
    )
    assert first.status_code == 200
    stale = qclient.put(
        "/api/v1/model",
        headers={**qorg.headers, "If-Match": etag},
        json={"ai_chat_topics": ["usage_overview"]},
    )
    assert stale.status_code == 409
    assert stale.json()["details"][0]["current_etag"] == first.headers["etag"]


def test_bad_update_lists_every_problem_and_changes_nothing(qclient: TestClient, qorg: Org) -> None:
    before = qclient.get("/api/v1/model", headers=qorg.headers).json()["data"]
    r = qclient.put(
        "/api/v1/model",
        headers=qorg.headers,
        json={
            "topics": ["usage_overview", "no_such_topic"],
            "ai_chat_topics": ["ghost"],
            "bogus": 1,
        },
    )
    assert r.status_code == 422
    r = qclient.put(
        "/api/v1/model",
        headers=qorg.headers,
        json={"topics": ["usage_overview", "no_such_topic"], "ai_chat_topics": ["ghost"]},
    )
    assert r.status_code == 422
    messages = " ".join(d["message"] for d in r.json()["details"])
    assert "no_such_topic" in messages
    after = qclient.get("/api/v1/model", headers=qorg.headers).json()["data"]
    assert after["version"] == before["version"]


def test_validate_is_a_dry_run(qclient: TestClient, qorg: Org) -> None:
    good = qclient.post("/api/v1/model/validate", headers=qorg.headers, json=PREMIUM).json()["data"]
    assert good["valid"] is True
    bad = qclient.post(
        "/api/v1/model/validate", headers=qorg.headers, json={"topics": ["missing"]}
    ).json()["data"]
    assert bad["valid"] is False
    assert bad["issues"]
    assert qclient.get("/api/v1/model", headers=qorg.headers).json()["data"]["version"] == 1


def test_files_round_trip_and_second_model(qclient: TestClient, qorg: Org) -> None:
    files = qclient.get("/api/v1/model", headers=qorg.headers).json()["data"]["files"]
    created = qclient.post(
        "/api/v1/models",
        headers=qorg.headers,
        json={"name": "copy", "connection": "main_db", "files": files},
    )
    assert created.status_code == 201, created.text
    model_id = created.json()["data"]["id"]
    assert created.json()["data"]["is_default"] is False
    r = run(
        qclient,
        qorg,
        {"topic": "revenue_analytics", "measures": ["total_revenue"], "model_id": model_id},
    )
    assert r.status_code == 200
    assert r.json()["meta"]["model_id"] == model_id
    listed = qclient.get("/api/v1/models", headers=qorg.headers).json()
    assert listed["meta"]["total"] == 2
    assert qclient.delete(f"/api/v1/models/{model_id}", headers=qorg.headers).status_code == 204
    default_id = qclient.get("/api/v1/model", headers=qorg.headers).json()["data"]["id"]
    assert qclient.delete(f"/api/v1/models/{default_id}", headers=qorg.headers).status_code == 409
