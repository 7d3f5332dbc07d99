"""The seed's `configureWebhooks`, verbatim: both subscriptions are accepted as written and a
real receiver gets exactly the events their filters select, in the shape the seed's Express
handler reads (`event_type`, `data.user`, `data.changes`), signed per Standard Webhooks."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from standardwebhooks import Webhook as Verifier
from tests.conftest import Org
from tests.webhooks.receiver import Receiver

from gnomon import events
from gnomon.principal import Principal
from gnomon.webhooks.catalog import QueryErrorData, QueryUser, SlowQueryData
from gnomon.worker import WebhookWorker

# process.env.WEBHOOK_SECRET in the seed.
WEBHOOK_SECRET = "seed-webhook-secret-from-env-0123456789"

SEED_USER_WEBHOOK: dict[str, Any] = {
    "name": "user_provisioning_webhook",
    "url": "https://yourapp.com/api/webhooks/omni/user-events",
    "events": ["user.created", "user.updated", "user.deleted"],
    "filters": {"user_attributes": {"department": ["Sales", "Marketing", "Customer Success"]}},
    "secret": WEBHOOK_SECRET,
    "retry_policy": {"max_retries": 3, "backoff_strategy": "exponential"},
}
SEED_PERFORMANCE_WEBHOOK: dict[str, Any] = {
    "name": "query_performance_webhook",
    "url": "https://yourapp.com/api/webhooks/omni/performance",
    "events": ["query.slow_execution", "query.error"],
    "filters": {"execution_time": {"gte": 30}, "error_type": ["timeout", "permission_denied"]},
}
USER_PATH = "/api/webhooks/omni/user-events"
PERF_PATH = "/api/webhooks/omni/performance"


def _create_user(client: TestClient, org: Org, email: str, attrs: dict[str, Any]) -> str:
    r = client.post(
        "/api/v1/users", json={"email": email, "user_attributes": attrs}, headers=org.headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def _emit_query_events(client: TestClient, org: Org) -> None:
    """What the Query API emits (it owns the emission; the catalog models are the contract)."""
    user = QueryUser(id="u1", email="analyst@example.com")
    slow = [
        SlowQueryData(execution_time=45.5, threshold_s=10, topic="orders", user=user, sql_hash="a"),
        SlowQueryData(execution_time=12.0, threshold_s=10, topic="orders", user=user, sql_hash="b"),
    ]
    errors = [
        QueryErrorData(
            error_type=kind, message=f"{kind}!", topic="orders", user=user, sql_hash=kind
        )
        for kind in ("timeout", "database_error", "permission_denied", "invalid_query")
    ]
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.transaction() as session:
        principal = Principal.system(org.id)
        for i, data in enumerate(slow):
            events.emit(
                session,
                principal,
                events.Event("query.slow_execution", "query", f"q{i}", data.model_dump()),
            )
        for i, data in enumerate(errors):
            events.emit(
                session, principal, events.Event("query.error", "query", f"e{i}", data.model_dump())
            )


def test_seed_configurations_deliver_exactly_what_their_filters_select(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    r1 = client.post("/api/v1/webhooks", json=SEED_USER_WEBHOOK, headers=org.headers)
    r2 = client.post("/api/v1/webhooks", json=SEED_PERFORMANCE_WEBHOOK, headers=org.headers)
    assert r1.status_code == 201, r1.text
    assert r2.status_code == 201, r2.text
    users_hook, perf_hook = r1.json()["data"], r2.json()["data"]
    assert users_hook["secret"] == WEBHOOK_SECRET
    assert users_hook["retry_policy"]["max_retries"] == 3
    generated = perf_hook["secret"]
    assert generated.startswith("whsec_")
    # Point both at the local receiver (the seed's host is not reachable from a test).
    for hook, path in ((users_hook, USER_PATH), (perf_hook, PERF_PATH)):
        r = client.patch(
            f"/api/v1/webhooks/{hook['id']}",
            json={"url": receiver.url + path},
            headers=org.headers,
        )
        assert r.status_code == 200, r.text

    r = client.post("/api/v1/user-attributes", json={"name": "department"}, headers=org.headers)
    assert r.status_code == 201, r.text
    sales = _create_user(client, org, "sam@example.com", {"department": "Sales"})
    _create_user(client, org, "eve@example.com", {"department": "Engineering"})
    marketing = _create_user(client, org, "mia@example.com", {"department": "Marketing"})
    _create_user(client, org, "nod@example.com", {})
    r = client.patch(f"/api/v1/users/{sales}", json={"name": "Sam S."}, headers=org.headers)
    assert r.status_code == 200, r.text
    assert client.delete(f"/api/v1/users/{marketing}", headers=org.headers).status_code == 204
    _emit_query_events(client, org)

    worker.run_until_idle()

    user_msgs = receiver.at(USER_PATH)
    seen = [(m.json["event_type"], m.json["data"]["user"]["email"]) for m in user_msgs]
    assert sorted(seen) == sorted(
        [
            ("user.created", "sam@example.com"),
            ("user.created", "mia@example.com"),
            ("user.updated", "sam@example.com"),
            # Deactivating is an update (active: true → false) and a deletion.
            ("user.updated", "mia@example.com"),
            ("user.deleted", "mia@example.com"),
        ]
    )
    updated = next(
        m.json
        for m in user_msgs
        if m.json["event_type"] == "user.updated"
        and m.json["data"]["user"]["email"] == "sam@example.com"
    )
    assert updated["data"]["changes"]["name"] == {"before": "", "after": "Sam S."}
    assert updated["type"] == "user.updated"
    assert set(updated) == {"id", "type", "event_type", "timestamp", "org_id", "data"}
    assert updated["org_id"] == org.id

    perf = [m.json for m in receiver.at(PERF_PATH)]
    picked = sorted(
        (p["event_type"], p["data"].get("execution_time"), p["data"].get("error_type"))
        for p in perf
    )
    assert picked == [
        ("query.error", None, "permission_denied"),
        ("query.error", None, "timeout"),
        ("query.slow_execution", 45.5, None),
    ]

    # Signatures verify with the standardwebhooks library: a user-supplied secret signs with
    # its UTF-8 bytes, a generated whsec_ secret as the spec says.
    for m in user_msgs:
        assert Verifier(WEBHOOK_SECRET.encode()).verify(m.body, m.headers) == m.json
    for m in receiver.at(PERF_PATH):
        assert Verifier(generated).verify(m.body, m.headers) == m.json
        assert m.headers["webhook-id"].startswith("msg_")


def test_seed_bodies_keep_secrets_out_of_reads(client: TestClient, org: Org) -> None:
    created = client.post("/api/v1/webhooks", json=SEED_USER_WEBHOOK, headers=org.headers)
    hook_id = created.json()["data"]["id"]
    got = client.get(f"/api/v1/webhooks/{hook_id}", headers=org.headers)
    assert got.status_code == 200
    assert "secret" not in got.json()["data"]
    listed = client.get("/api/v1/webhooks", headers=org.headers).json()
    assert WEBHOOK_SECRET not in str(listed)
    audit = client.get("/api/v1/audit-events", headers=org.headers).json()
    assert WEBHOOK_SECRET not in str(audit)
    # Encrypted at rest: the stored value is neither the secret nor contains it.
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT secret_enc FROM webhooks WHERE id = ?", (hook_id,)
        ).scalar_one()
    assert stored.startswith("v1:")
    assert WEBHOOK_SECRET not in stored
