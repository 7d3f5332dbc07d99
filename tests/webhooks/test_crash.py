"""kill -9 a `gnomon worker` in the middle of 1,000 deliveries, restart it: every event
arrives (duplicates allowed, recognisable by `webhook-id`), none is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
from tests.webhooks.receiver import Reply, running_receiver

from gnomon import events
from gnomon.bootstrap import bootstrap
from gnomon.config import Settings
from gnomon.principal import Principal
from gnomon.secrets import load_secret_box
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.store.tables_webhooks import webhook_deliveries
from gnomon.webhooks import service
from gnomon.webhooks.catalog import SlowQueryData
from gnomon.webhooks.safety import HostPolicy
from gnomon.webhooks.schemas import RetryPolicy, WebhookCreate

GNOMON = str(Path(sys.executable).with_name("gnomon"))
EVENTS = 1000


def _start_worker(data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GNOMON_LOG_JSON": "false",
        "GNOMON_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "GNOMON_WEBHOOK_TIMEOUT_S": "1",
        "GNOMON_WEBHOOK_CONCURRENCY": "8",
        "GNOMON_WEBHOOK_POLL_INTERVAL_S": "0.05",
    }
    env.pop("GNOMON_DATABASE_URL", None)
    env.pop("GNOMON_SECRET_KEY", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [GNOMON, "worker", "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def test_kill_9_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = Settings(env="test", data_dir=data_dir, webhook_allow_hosts="127.0.0.1")
    store = Store.from_url(settings.resolved_database_url)
    migrate.upgrade(store.engine)
    log = tmp_path / "worker.log"
    with running_receiver() as receiver:
        # Slow enough that the first worker is surely killed half-way.
        receiver.script("/hook", *[Reply(delay_s=0.02)] * (EVENTS * 2))
        with store.transaction() as session:
            created = bootstrap(session, settings)
            assert created is not None
            org_id = created.organization.id
            ctx = service.WebhookContext(load_secret_box(settings), HostPolicy.parse("127.0.0.1"))
            service.create(
                session,
                Principal.system(org_id),
                ctx,
                WebhookCreate(
                    name="crash",
                    url=receiver.url + "/hook",
                    events=["query.slow_execution"],
                    retry_policy=RetryPolicy(initial_delay=0.1),
                ),
            )
        emitted = []
        with store.transaction() as session:
            for i in range(EVENTS):
                data = SlowQueryData(execution_time=30 + i, sql_hash=f"h{i}").model_dump()
                emitted.append(
                    events.emit(
                        session,
                        Principal.system(org_id),
                        events.Event("query.slow_execution", "query", f"q{i}", data),
                    )
                )

        first = _start_worker(data_dir, log)
        try:
            assert receiver.wait_for(150, timeout=60), log.read_text()
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        arrived_before_restart = {r.json["id"] for r in receiver.requests}
        assert len(arrived_before_restart) < EVENTS, "the worker finished before it was killed"

        second = _start_worker(data_dir, log)
        try:
            # Deliveries the killed worker had claimed wait for their lease to expire (8 s).
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if {r.json["id"] for r in receiver.requests} >= set(emitted):
                    break
                time.sleep(0.2)
            got = {r.json["id"] for r in receiver.requests}
            assert got >= set(emitted), (len(set(emitted) - got), log.read_text()[-2000:])
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        assert second.returncode == 0, log.read_text()[-3000:]

    # Every event arrived; duplicates (if any) carry the same webhook-id and the same body.
    by_message: dict[str, set[bytes]] = defaultdict(set)
    for r in receiver.requests:
        by_message[r.headers["webhook-id"]].add(r.body)
    assert all(len(bodies) == 1 for bodies in by_message.values())
    assert {r.json["id"] for r in receiver.requests} == set(emitted)
    assert len(by_message) == EVENTS
    with store.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.select(webhook_deliveries.c.status, sa.func.count()).group_by(
                    webhook_deliveries.c.status
                )
            ).all()
        )
    # Deliveries the killed worker sent but could not record stay claimed until their lease
    # runs out and are then sent (and recorded) again; none is pending or failed.
    assert set(statuses) <= {"succeeded", "delivering"}
    assert sum(statuses.values()) == EVENTS
    store.dispose()
