"""Rate limits over HTTP: headers on every response, 429 with Retry-After, recovery, isolation."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from tests.conftest import Org


def test_headers_429_and_recovery(app_factory, org: Org) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = app_factory(rate_limit="3/6s")
    seen = []
    for _ in range(3):
        r = client.get("/api/v1/whoami", headers=org.headers)
        assert r.status_code == 200
        assert r.headers["ratelimit-limit"] == "3"
        seen.append(int(r.headers["ratelimit-remaining"]))
    assert seen == [2, 1, 0]
    denied = client.get("/api/v1/whoami", headers=org.headers)
    assert denied.status_code == 429
    body = denied.json()
    assert body["error"] == "rate_limited"
    assert body["request_id"] == denied.headers["x-request-id"]
    retry_after = int(denied.headers["retry-after"])
    assert 1 <= retry_after <= 2  # one token comes back every 2 s
    assert denied.headers["ratelimit-remaining"] == "0"
    time.sleep(retry_after + 0.05)
    assert client.get("/api/v1/whoami", headers=org.headers).status_code == 200


def test_one_noisy_key_never_limits_another(app_factory, org: Org) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = app_factory(rate_limit="2/minute")
    other = client.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": "quiet", "kind": "organization"}
    )
    quiet = {"Authorization": f"Bearer {other.json()['data']['secret']}"}
    while client.get("/api/v1/whoami", headers=org.headers).status_code != 429:
        pass
    r = client.get("/api/v1/whoami", headers=quiet)
    assert r.status_code == 200
    assert r.headers["ratelimit-remaining"] == "1"


def test_health_is_not_metered(app_factory) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = app_factory(rate_limit="1/minute")
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))


def test_shared_limit_through_redis(app_factory, org: Org) -> None:  # type: ignore[no-untyped-def]
    """Two app instances (two processes' worth of state) share one bucket through Redis."""
    import uuid

    from tests.conftest import redis_url

    name = f"shared-{uuid.uuid4().hex}"
    a: TestClient = app_factory(rate_limit="2/minute", redis_url=redis_url())
    key = a.post(
        "/api/v1/api-keys", headers=org.headers, json={"name": name, "kind": "organization"}
    )
    headers = {"Authorization": f"Bearer {key.json()['data']['secret']}"}
    b: TestClient = app_factory(rate_limit="2/minute", redis_url=redis_url())
    assert a.get("/api/v1/whoami", headers=headers).status_code == 200
    assert b.get("/api/v1/whoami", headers=headers).status_code == 200
    assert a.get("/api/v1/whoami", headers=headers).status_code == 429
    assert b.get("/api/v1/whoami", headers=headers).status_code == 429
