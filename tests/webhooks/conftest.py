"""Webhook fixtures: an app that may target loopback, a real receiver, a worker on the app's
store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Org
from tests.webhooks.receiver import Receiver, running_receiver

from gnomon.worker import WebhookWorker


@pytest.fixture
def client(app_factory: Any) -> TestClient:
    """The app, allowed to deliver to the loopback receiver (GNOMON_WEBHOOK_ALLOW_HOSTS)."""
    c: TestClient = app_factory(webhook_allow_hosts="127.0.0.1", webhook_timeout_s=2.0)
    return c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


@pytest.fixture
def worker(client: TestClient) -> Iterator[WebhookWorker]:
    app: Any = client.app
    w = WebhookWorker(app.state.store, app.state.settings, rng=random.Random(7))
    yield w
    w.close()


def make_webhook(client: TestClient, org: Org, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json=body, headers=org.headers)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def deliveries(client: TestClient, org: Org, webhook_id: str, **params: Any) -> list[Any]:
    r = client.get(
        f"/api/v1/webhooks/{webhook_id}/deliveries",
        params={"per_page": 200, **params},
        headers=org.headers,
    )
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["data"]
    return items


def emit(
    client: TestClient,
    org: Org,
    event_type: str,
    target_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """Emit one event as the system would, in its own committed transaction."""
    from gnomon import events
    from gnomon.principal import Principal

    app: Any = client.app
    with app.state.store.transaction() as session:
        return events.emit(
            session,
            Principal.system(org.id),
            events.Event(event_type, "query" if target_id else None, target_id, data or {}),
        )


def make_due(client: TestClient) -> None:
    """Bring every scheduled retry forward to now (instead of sleeping through the backoff)."""
    import sqlalchemy as sa

    from gnomon.store.tables_webhooks import webhook_deliveries
    from gnomon.util import utcnow

    app: Any = client.app
    with app.state.store.transaction() as session:
        session.execute(
            sa.update(webhook_deliveries)
            .where(webhook_deliveries.c.status == "pending")
            .values(next_attempt_at=utcnow())
        )
