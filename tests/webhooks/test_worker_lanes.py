"""The worker's claim lanes (gnomon.worker.runner): idle, only one polls, with a read and no
write lock; a full batch wakes every lane; work that arrives while idle is still delivered."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.webhooks.receiver import running_receiver

from gnomon import events
from gnomon.bootstrap import bootstrap
from gnomon.config import Settings
from gnomon.principal import Principal
from gnomon.secrets import load_secret_box
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.webhooks import repository_deliveries, service
from gnomon.webhooks.safety import HostPolicy
from gnomon.webhooks.schemas import WebhookCreate
from gnomon.worker import WebhookWorker


def test_idle_lanes_read_and_a_full_batch_wakes_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        env="test",
        data_dir=tmp_path / "data",
        webhook_allow_hosts="127.0.0.1",
        webhook_concurrency=4,  # batches of 2
        webhook_poll_interval_s=0.05,
    )
    settings.data_dir.mkdir(parents=True)
    store = Store.from_url(settings.resolved_database_url)
    migrate.upgrade(store.engine)
    claims: list[str] = []
    checks: list[str] = []
    claim_due, any_due = repository_deliveries.claim_due, repository_deliveries.any_due

    def counting_claim(*args: Any, **kwargs: Any) -> Any:
        claims.append(threading.current_thread().name)
        return claim_due(*args, **kwargs)

    def counting_check(*args: Any, **kwargs: Any) -> Any:
        checks.append(threading.current_thread().name)
        return any_due(*args, **kwargs)

    monkeypatch.setattr(repository_deliveries, "claim_due", counting_claim)
    monkeypatch.setattr(repository_deliveries, "any_due", counting_check)
    with running_receiver() as receiver:
        with store.transaction() as session:
            created = bootstrap(session, settings)
            assert created is not None
            org = Principal.system(created.organization.id)
            ctx = service.WebhookContext(load_secret_box(settings), HostPolicy.parse("127.0.0.1"))
            body = WebhookCreate(name="w", url=receiver.url + "/c", events=["query.error"])
            service.create(session, org, ctx, body)
        worker = WebhookWorker(store, settings)
        thread = threading.Thread(target=worker.run_forever)
        thread.start()
        try:
            time.sleep(0.5)
            # Idle: about ten checks by the first lane alone, and not one claim.
            assert claims == []
            assert set(checks) == {"webhook-lane-0"}
            assert 3 <= len(checks) <= 20
            with store.transaction() as session:
                for i in range(40):
                    data = {"error_type": "timeout", "message": "m", "n": i}
                    events.emit(session, org, events.Event("query.error", "query", f"r{i}", data))
            assert receiver.wait_for(40, timeout=30)
        finally:
            worker.stop()
            thread.join(10)
            worker.close()
            store.dispose()
    assert not thread.is_alive()
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 40
    # Forty deliveries in batches of two: the lanes the first one woke claimed too.
    assert len(set(claims)) > 1
