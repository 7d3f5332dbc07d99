"""Retries against real servers: a rate-limited key, a server killed and restarted, replays."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from tests.client.servers import BOOTSTRAP_TOKEN, RestartableServer, running_server

from gnomon.client import Gnomon, RateLimitError, RetryPolicy

FAST = RetryPolicy(max_retries=8, backoff_base=0.05, backoff_max=1.0)
# A restart takes seconds (longer on a loaded machine): a generous budget, still bounded.
RESTART = RetryPolicy(max_retries=40, backoff_base=0.1, backoff_max=2.0)


def _counting_http(statuses: Counter[int]) -> httpx.Client:
    def on_response(response: httpx.Response) -> None:
        statuses[response.status_code] += 1

    return httpx.Client(timeout=30, event_hooks={"response": [on_response]})


def test_rate_limited_key_waits_retry_after_and_succeeds(tmp_path: Path) -> None:
    statuses: Counter[int] = Counter()
    with (
        running_server(tmp_path / "rl", {"GNOMON_RATE_LIMIT": "2/2s"}) as server,
        _counting_http(statuses) as http,
        Gnomon(server.url, BOOTSTRAP_TOKEN, http_client=http, retry=FAST) as gn,
    ):
        names = [f"rl-{i}" for i in range(5)]
        created = [gn.api_keys.create(name=n, kind="organization") for n in names]
        # Every call succeeded although the bucket holds 2 requests per 2 s ...
        assert [k.name for k in created] == names
        assert statuses[429] >= 1
        # ... and no retried POST ran twice (each went out with one Idempotency-Key).
        listed = Counter(k.name for k in gn.api_keys.iter())
        assert all(listed[n] == 1 for n in names)


def test_rate_limit_error_carries_retry_after_when_retries_are_off(tmp_path: Path) -> None:
    with (
        running_server(tmp_path / "rl0", {"GNOMON_RATE_LIMIT": "1/10s"}) as server,
        Gnomon(server.url, BOOTSTRAP_TOKEN, retry=RetryPolicy(max_retries=0)) as gn,
    ):
        gn.whoami()
        with pytest.raises(RateLimitError) as info:
            gn.whoami()
    assert info.value.retry_after is not None
    assert info.value.retry_after >= 1
    assert info.value.request_id


def _kill_on_first(server: RestartableServer, method: str, path: str) -> httpx.Client:
    """An httpx client whose first matching request finds the server killed (-9) and being
    restarted on the same port and data directory."""
    fired = threading.Event()

    def on_request(request: httpx.Request) -> None:
        if fired.is_set() or request.method != method or request.url.path != path:
            return
        fired.set()
        server.kill9()
        server.start(wait=False)

    return httpx.Client(timeout=30, event_hooks={"request": [on_request]})


def test_get_survives_a_server_killed_mid_request(tmp_path: Path) -> None:
    with running_server(tmp_path / "kill-get") as server:
        http = _kill_on_first(server, "GET", "/api/v1/audit-events")
        with http, Gnomon(server.url, BOOTSTRAP_TOKEN, http_client=http, retry=RESTART) as gn:
            gn.whoami()  # a pooled keep-alive connection now points at the doomed process
            page = gn.audit_events.list()
        assert server.starts == 2
        assert page.items[-1].action == "organization.created"


def test_post_survives_a_server_killed_mid_request_and_runs_once(tmp_path: Path) -> None:
    with running_server(tmp_path / "kill-post") as server:
        http = _kill_on_first(server, "POST", "/api/v1/api-keys")
        with http, Gnomon(server.url, BOOTSTRAP_TOKEN, http_client=http, retry=RESTART) as gn:
            gn.whoami()
            key = gn.api_keys.create(name="made-across-a-crash", kind="organization")
            names = [k.name for k in gn.api_keys.iter()]
        assert server.starts == 2
        assert key.secret
        assert names.count("made-across-a-crash") == 1


def test_explicit_idempotency_key_replays_the_first_response(gn: Gnomon) -> None:
    first = gn.api_keys.create(name="once", kind="organization", idempotency_key="create-once-1")
    again = gn.api_keys.create(name="once", kind="organization", idempotency_key="create-once-1")
    assert again.id == first.id
    assert [k.name for k in gn.api_keys.iter()].count("once") == 1


def test_retries_give_up_with_a_connection_error(tmp_path: Path) -> None:
    from tests.live import free_port

    from gnomon.client import APIConnectionError

    url = f"http://127.0.0.1:{free_port()}"
    policy = RetryPolicy(max_retries=2, backoff_base=0.01)
    with Gnomon(url, "x", retry=policy) as gn, pytest.raises(APIConnectionError) as info:
        gn.whoami()
    assert info.value.method == "GET"
    assert "ConnectError" in info.value.message
