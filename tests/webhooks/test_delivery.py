"""Delivery against a real loopback receiver: retries and backoff, Retry-After, 410, automatic
disabling, timeouts, redirects, response caps, secret rotation, redelivery, test events,
per-resource ordering, and the transactional outbox."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError
from tests.conftest import Org
from tests.webhooks.conftest import deliveries, emit, make_due, make_webhook
from tests.webhooks.receiver import Receiver, Reply

from gnomon import events
from gnomon.principal import Principal
from gnomon.worker import WebhookWorker

SLOW = {"execution_time": 40.0, "sql_hash": "abc"}


def _hook(client: TestClient, org: Org, receiver: Receiver, path: str, **extra: Any) -> Any:
    body = {"name": path, "url": receiver.url + path, "events": ["query.*"], **extra}
    return make_webhook(client, org, **body)


def _worker(client: TestClient, **overrides: Any) -> WebhookWorker:
    app: Any = client.app
    return WebhookWorker(
        app.state.store, app.state.settings.model_copy(update=overrides), rng=random.Random(1)
    )


def _seconds_ahead(delivery: dict[str, Any]) -> float:
    last = datetime.fromisoformat(delivery["attempt_log"][-1]["started_at"])
    return (datetime.fromisoformat(delivery["next_attempt_at"]) - last).total_seconds()


def test_retries_back_off_exponentially_then_succeed(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    policy = {"max_retries": 3, "backoff_strategy": "exponential", "initial_delay": 100}
    hook = _hook(client, org, receiver, "/r", retry_policy=policy)
    receiver.script("/r", Reply(500, body=b"boom"), Reply(503))
    emit(client, org, "query.slow_execution", "q1", SLOW)

    assert worker.run_once() == 1
    [d] = deliveries(client, org, hook["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("pending", 1, 500)
    assert d["last_response_excerpt"] == "boom"
    assert 80 <= _seconds_ahead(d) <= 120 + 1  # 100 s ± 20 % jitter
    assert worker.run_once() == 0  # not due yet

    make_due(client)
    worker.run_once()
    [d] = deliveries(client, org, hook["id"])
    assert 160 <= _seconds_ahead(d) <= 240 + 1  # 200 s ± 20 %

    make_due(client)
    worker.run_once()
    [d] = deliveries(client, org, hook["id"])
    assert d["status"] == "succeeded"
    assert d["next_attempt_at"] is None
    assert [a["status_code"] for a in d["attempt_log"]] == [500, 503, 200]
    assert [a["outcome"] for a in d["attempt_log"]] == ["failure", "failure", "success"]
    assert all(a["latency_ms"] >= 0 for a in d["attempt_log"])
    # Every attempt carried the same webhook-id.
    assert len({r.headers["webhook-id"] for r in receiver.at("/r")}) == 1
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=org.headers).json()["data"]
    assert got["consecutive_failures"] == 0


@pytest.mark.parametrize(
    ("strategy", "expected"), [("linear", [10, 20, 30]), ("fixed", [10, 10, 10])]
)
def test_linear_and_fixed_backoff(
    client: TestClient,
    org: Org,
    receiver: Receiver,
    worker: WebhookWorker,
    strategy: str,
    expected: list[int],
) -> None:
    policy = {"max_retries": 5, "backoff_strategy": strategy, "initial_delay": 10}
    hook = _hook(client, org, receiver, "/b", retry_policy=policy)
    receiver.script("/b", *[Reply(500)] * 3)
    emit(client, org, "query.slow_execution", "q1", SLOW)
    for want in expected:
        make_due(client)
        worker.run_once()
        [d] = deliveries(client, org, hook["id"])
        assert want * 0.8 <= _seconds_ahead(d) <= want * 1.2 + 1


def test_gives_up_after_max_retries(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/g", retry_policy={"max_retries": 1, "initial_delay": 0})
    receiver.script("/g", Reply(500), Reply(500), Reply(200))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    [d] = deliveries(client, org, hook["id"])
    assert (d["status"], d["attempts"], d["next_attempt_at"]) == ("failed", 2, None)
    assert len(receiver.at("/g")) == 2


def test_retry_after_is_honoured(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    policy = {"max_retries": 3, "backoff_strategy": "fixed", "initial_delay": 1}
    hook = _hook(client, org, receiver, "/ra", retry_policy=policy)
    receiver.script("/ra", Reply(429, headers={"Retry-After": "3600"}))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_once()
    [d] = deliveries(client, org, hook["id"])
    assert d["status"] == "pending"
    assert 3599 <= _seconds_ahead(d) <= 3601


def test_410_gone_disables_the_webhook_and_says_so(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    gone = _hook(client, org, receiver, "/gone")
    watcher = make_webhook(
        client, org, name="ops", url=receiver.url + "/ops", events=["webhook.disabled"]
    )
    receiver.script("/gone", Reply(410))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()

    [d] = deliveries(client, org, gone["id"])
    assert (d["status"], d["attempts"], d["attempt_log"][0]["outcome"]) == ("failed", 1, "gone")
    got = client.get(f"/api/v1/webhooks/{gone['id']}", headers=org.headers).json()["data"]
    assert got["enabled"] is False
    assert "410" in got["disabled_reason"]
    [notice] = receiver.at("/ops")
    assert notice.json["event_type"] == "webhook.disabled"
    assert notice.json["data"]["webhook"]["id"] == gone["id"]
    assert notice.json["data"]["last_status_code"] == 410
    assert watcher["enabled"] is True
    # A disabled webhook gets nothing new queued.
    emit(client, org, "query.slow_execution", "q2", SLOW)
    assert len(deliveries(client, org, gone["id"])) == 1


def test_consecutive_failures_disable_the_webhook(
    client: TestClient, org: Org, receiver: Receiver
) -> None:
    worker = _worker(client, webhook_disable_after_failures=3)
    hook = _hook(client, org, receiver, "/bad", retry_policy={"max_retries": 0})
    receiver.script("/bad", *[Reply(500)] * 10)
    for i in range(5):
        emit(client, org, "query.slow_execution", f"q{i}", SLOW)
    worker.run_until_idle()
    got = client.get(f"/api/v1/webhooks/{hook['id']}", headers=org.headers).json()["data"]
    assert got["enabled"] is False
    assert got["disabled_reason"] == "3 consecutive failed attempts"
    audit = client.get(
        "/api/v1/audit-events", params={"action": "webhook.disabled"}, headers=org.headers
    ).json()["data"]
    assert [a["target"]["id"] for a in audit] == [hook["id"]]
    # Re-enabling resets the count and resumes the queued deliveries.
    r = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=org.headers)
    assert r.json()["data"]["consecutive_failures"] == 0
    assert r.json()["data"]["disabled_reason"] is None
    worker.close()


def test_slow_receivers_time_out(client: TestClient, org: Org, receiver: Receiver) -> None:
    worker = _worker(client, webhook_timeout_s=0.2)
    hook = _hook(client, org, receiver, "/slow", retry_policy={"initial_delay": 60})
    receiver.script("/slow", Reply(delay_s=1.0))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_once()
    [d] = deliveries(client, org, hook["id"])
    assert (d["status"], d["last_error"], d["last_status_code"]) == ("pending", "timed out", None)
    worker.close()


def test_redirects_are_not_followed(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/moved", retry_policy={"max_retries": 0})
    receiver.script("/moved", Reply(307, headers={"Location": receiver.url + "/elsewhere"}))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    [d] = deliveries(client, org, hook["id"])
    assert (d["status"], d["last_status_code"]) == ("failed", 307)
    assert d["last_error"] == "redirects are not followed"
    assert receiver.at("/elsewhere") == []


def test_response_bodies_are_capped(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/big")
    receiver.script("/big", Reply(200, body=b"x" * 2_000_000))
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    [d] = deliveries(client, org, hook["id"])
    assert d["status"] == "succeeded"
    assert d["last_response_excerpt"] == "x" * 1000


def test_rotation_signs_with_both_secrets_during_the_overlap(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/rot")
    old = hook["secret"]
    r = client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=org.headers,
    )
    assert r.status_code == 200, r.text
    new = r.json()["data"]["secret"]
    assert new != old
    assert r.json()["data"]["previous_secret_expires_at"] is not None
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    [msg] = receiver.at("/rot")
    assert len(msg.headers["webhook-signature"].split(" ")) == 2
    Verifier(old).verify(msg.body, msg.headers)
    Verifier(new).verify(msg.body, msg.headers)

    # Without an overlap the old secret stops working at once.
    r = client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret",
        json={"overlap_seconds": 0, "secret": "a-user-chosen-secret-of-some-length"},
        headers=org.headers,
    )
    assert r.json()["data"]["previous_secret_expires_at"] is None
    emit(client, org, "query.slow_execution", "q2", SLOW)
    worker.run_until_idle()
    latest = receiver.at("/rot")[-1]
    Verifier(b"a-user-chosen-secret-of-some-length").verify(latest.body, latest.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(new).verify(latest.body, latest.headers)


def test_redeliver_sends_the_same_message_again(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/again")
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    [first] = deliveries(client, org, hook["id"])
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver"
    r = client.post(url, headers=org.headers)
    assert r.status_code == 202, r.text
    queued = r.json()["data"]
    assert (queued["status"], queued["message_id"]) == ("pending", first["message_id"])
    assert (
        client.post(
            f"/api/v1/webhooks/{hook['id']}/deliveries/{queued['id']}/redeliver",
            headers=org.headers,
        ).status_code
        == 409
    )
    worker.run_until_idle()
    a, b = receiver.at("/again")
    assert a.headers["webhook-id"] == b.headers["webhook-id"]
    assert a.body == b.body


def test_test_endpoint_reaches_only_that_webhook(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    target = _hook(client, org, receiver, "/t")
    make_webhook(client, org, name="all", url=receiver.url + "/all", events=["*"])
    r = client.post(f"/api/v1/webhooks/{target['id']}/test", headers=org.headers)
    assert r.status_code == 202, r.text
    assert r.json()["data"]["event_type"] == "webhook.test"
    worker.run_until_idle()
    [msg] = receiver.at("/t")
    assert msg.json["event_type"] == "webhook.test"
    assert msg.json["data"]["webhook"]["id"] == target["id"]
    Verifier(target["secret"]).verify(msg.body, msg.headers)
    assert all(m.json["event_type"] != "webhook.test" for m in receiver.at("/all"))
    client.patch(f"/api/v1/webhooks/{target['id']}", json={"enabled": False}, headers=org.headers)
    r = client.post(f"/api/v1/webhooks/{target['id']}/test", headers=org.headers)
    assert r.status_code == 409


def test_events_of_one_resource_arrive_in_order(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/o", retry_policy={"initial_delay": 30})
    receiver.script("/o", Reply(500))  # the first attempt (A, event 0) fails
    sent = [emit(client, org, "query.slow_execution", "A", {**SLOW, "n": i}) for i in range(3)]
    worker.run_until_idle()
    # A's later events wait behind A's failed one...
    assert [m.json["id"] for m in receiver.at("/o")] == [sent[0]]
    # ...while another resource's events are not held up.
    other = emit(client, org, "query.slow_execution", "B", SLOW)
    worker.run_until_idle()
    assert [m.json["id"] for m in receiver.at("/o")] == [sent[0], other]
    make_due(client)
    worker.run_until_idle()
    ok = [m.json["id"] for m in receiver.at("/o")][1:]
    assert [i for i in ok if i != other] == sent
    statuses = {d["event_id"]: d["status"] for d in deliveries(client, org, hook["id"])}
    assert set(statuses.values()) == {"succeeded"}


def test_delivery_time_check_refuses_private_targets(
    client: TestClient, org: Org, receiver: Receiver
) -> None:
    hook = _hook(client, org, receiver, "/private", retry_policy={"max_retries": 0})
    strict = _worker(client, webhook_allow_hosts="")
    emit(client, org, "query.slow_execution", "q1", SLOW)
    strict.run_until_idle()
    [d] = deliveries(client, org, hook["id"])
    assert d["attempt_log"][0]["outcome"] == "refused"
    assert "non-public" in d["last_error"]
    assert receiver.at("/private") == []
    strict.close()


def test_outbox_rolls_back_with_the_change(
    client: TestClient, org: Org, receiver: Receiver
) -> None:
    hook = _hook(client, org, receiver, "/tx")
    app: Any = client.app

    def change_that_fails() -> None:
        with app.state.store.transaction() as session:
            events.emit(
                session, Principal.system(org.id), events.Event("query.slow_execution", data=SLOW)
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert deliveries(client, org, hook["id"]) == []


def test_delivery_log_filters(
    client: TestClient, org: Org, receiver: Receiver, worker: WebhookWorker
) -> None:
    hook = _hook(client, org, receiver, "/log", retry_policy={"max_retries": 0})
    receiver.script("/log", Reply(500))
    emit(client, org, "query.error", "e1", {"error_type": "timeout", "message": "slow"})
    worker.run_until_idle()  # one at a time, so that the scripted 500 hits the error event
    emit(client, org, "query.slow_execution", "q1", SLOW)
    worker.run_until_idle()
    failed = deliveries(client, org, hook["id"], status="failed")
    assert [d["event_type"] for d in failed] == ["query.error"]
    slow = deliveries(client, org, hook["id"], event_type="query.slow_execution")
    assert [d["status"] for d in slow] == ["succeeded"]
