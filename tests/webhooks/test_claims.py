"""Several workers on one store (SQLite single-writer claims, PostgreSQL SKIP LOCKED): every
delivery is sent exactly once when nobody crashes, and each resource's events stay in order."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from pathlib import Path

from tests.webhooks.receiver import running_receiver

from gnomon import events
from gnomon.bootstrap import bootstrap
from gnomon.config import Settings
from gnomon.principal import Principal
from gnomon.secrets import load_secret_box
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.webhooks import service
from gnomon.webhooks.safety import HostPolicy
from gnomon.webhooks.schemas import WebhookCreate
from gnomon.worker import WebhookWorker

EVENTS = 300
RESOURCES = 10


def test_concurrent_workers_share_the_work(store_url: str, tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=store_url,
        webhook_allow_hosts="127.0.0.1",
        webhook_concurrency=4,
    )
    store = Store.from_url(store_url)
    migrate.upgrade(store.engine)
    with running_receiver() as receiver:
        with store.transaction() as session:
            created = bootstrap(session, settings)
            assert created is not None
            org_id = created.organization.id
            ctx = service.WebhookContext(load_secret_box(settings), HostPolicy.parse("127.0.0.1"))
            service.create(
                session,
                Principal.system(org_id),
                ctx,
                WebhookCreate(name="w", url=receiver.url + "/c", events=["query.error"]),
            )
            for i in range(EVENTS):
                events.emit(
                    session,
                    Principal.system(org_id),
                    events.Event(
                        "query.error",
                        "query",
                        f"r{i % RESOURCES}",
                        {"error_type": "timeout", "message": "m", "n": i},
                    ),
                )
        workers = [WebhookWorker(store, settings, rng=random.Random(i)) for i in range(3)]
        threads = [threading.Thread(target=w.run_until_idle) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        # A worker may go idle while another still holds the last claims; drain the rest.
        workers[0].run_until_idle()
        for w in workers:
            w.close()

    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == EVENTS
    assert set(Counter(ids).values()) == {1}
    per_resource: dict[str, list[int]] = defaultdict(list)
    for r in receiver.requests:
        n = r.json["data"]["n"]
        per_resource[str(n % RESOURCES)].append(n)
    for numbers in per_resource.values():
        assert numbers == sorted(numbers)
    store.dispose()
