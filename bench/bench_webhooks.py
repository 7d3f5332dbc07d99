"""Webhook delivery throughput and latency (not a test; prints numbers).

* throughput: 10,000 events queued in the outbox, then drained by one worker (default
  settings: 16 concurrent sends) to a local receiver — deliveries/s, with the ratio against a
  baseline measured in the same process: the same 10,000 signed bodies POSTed straight to the
  same receiver by 16 threads with no store at all;
* latency: 10,000 events emitted at a steady rate (default 1,000/s, in transactions of 50)
  while the worker runs — p50/p99 event→delivery latency (receiver arrival minus the event's
  outbox timestamp).

Run: .venv/bin/python bench/bench_webhooks.py [--events N] [--rate R] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.webhooks.receiver import running_receiver

from gnomon import events
from gnomon.bootstrap import bootstrap
from gnomon.config import Settings
from gnomon.principal import Principal
from gnomon.secrets import load_secret_box
from gnomon.store import migrate
from gnomon.store.db import Store
from gnomon.webhooks import service, signing
from gnomon.webhooks.safety import HostPolicy
from gnomon.webhooks.schemas import WebhookCreate
from gnomon.worker import WebhookWorker

BATCH = 50


def _setup(store: Store, settings: Settings, url: str) -> str:
    with store.transaction() as session:
        created = bootstrap(session, settings)
        assert created is not None
        org_id = created.organization.id
        ctx = service.WebhookContext(load_secret_box(settings), HostPolicy.parse("127.0.0.1"))
        service.create(
            session,
            Principal.system(org_id),
            ctx,
            WebhookCreate(name="bench", url=url, events=["query.*"]),
        )
    return org_id


def _emit(store: Store, org_id: str, start: int, count: int) -> None:
    with store.transaction() as session:
        for i in range(start, start + count):
            events.emit(
                session,
                Principal.system(org_id),
                events.Event(
                    "query.slow_execution",
                    "query",
                    f"q{i % 500}",
                    {"execution_time": 31.5, "sql_hash": f"{i:064x}", "topic": "orders", "n": i},
                ),
            )


def _serve(conn: Any) -> None:
    """The receiver, in its own process so that it does not share the GIL with the worker.
    Commands: ("wait", path, n) → the (payload timestamp, arrival time) of the first n."""
    with running_receiver() as receiver:
        conn.send(receiver.url)
        while True:
            command = conn.recv()
            if command is None:
                return
            _, path, n = command
            if not receiver.wait_for(n, path=path, timeout=600):
                conn.send(None)
                continue
            out = []
            for r in receiver.at(path)[:n]:
                stamp = json.loads(r.body).get("timestamp")
                out.append((stamp, r.at))
            conn.send(out)


class RemoteReceiver:
    def __init__(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
        self.process.start()
        self.url: str = self.conn.recv()

    def wait(self, path: str, n: int) -> list[tuple[str | None, float]]:
        self.conn.send(("wait", path, n))
        got = self.conn.recv()
        if got is None:
            raise SystemExit(f"fewer than {n} deliveries arrived at {path}")
        return list(got)

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(10)


def baseline(receiver: RemoteReceiver, n: int, concurrency: int) -> float:
    """Deliveries/s of signed POSTs straight to the receiver, no outbox."""
    secret = signing.generate_secret()
    client = httpx.Client(limits=httpx.Limits(max_connections=concurrency * 2))
    body = json.dumps({"type": "query.slow_execution", "data": {"n": 0}})

    def send(i: int) -> None:
        headers = signing.headers([secret], f"msg_{i}", int(time.time()), body)
        client.post(receiver.url + "/baseline", content=body, headers=headers)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(n)))
    receiver.wait("/baseline", n)
    elapsed = time.perf_counter() - started
    client.close()
    return n / elapsed


def _isolated(url: str | None) -> tuple[str | None, Any]:
    """A fresh PostgreSQL schema for the run (dropped afterwards), never the public one."""
    if url is None:
        return None, lambda: None
    import uuid
    from urllib.parse import quote

    import sqlalchemy as sa

    schema = f"gnomon_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1_000.0, help="events/s in the latency run")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    n = args.events

    database_url, drop_schema = _isolated(args.postgres)
    receiver = RemoteReceiver()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            data_dir=Path(tmp),
            database_url=database_url,
            webhook_allow_hosts="127.0.0.1",
            webhook_poll_interval_s=0.05,
        )
        store = Store.from_url(settings.resolved_database_url)
        migrate.upgrade(store.engine)
        org_id = _setup(store, settings, receiver.url + "/hook")
        print(
            f"store: {store.dialect}; {n} events; worker concurrency {settings.webhook_concurrency}"
        )

        base = baseline(receiver, n, settings.webhook_concurrency)

        # Throughput: queue everything, then drain.
        for start in range(0, n, 500):
            _emit(store, org_id, start, min(500, n - start))
        worker = WebhookWorker(store, settings, rng=random.Random(0))
        started = time.perf_counter()
        thread = threading.Thread(target=worker.run_forever, daemon=True)
        thread.start()
        receiver.wait("/hook", n)
        drained = n / (time.perf_counter() - started)
        print(
            f"throughput: {drained:,.0f} deliveries/s  (baseline {base:,.0f}/s, ratio {drained / base:.2f})"
        )

        # Latency: steady emission while the worker keeps running in the background.
        already = n
        began = time.perf_counter()
        for k, start in enumerate(range(n, 2 * n, BATCH)):
            _emit(store, org_id, start, min(BATCH, 2 * n - start))
            pause = began + (k + 1) * BATCH / args.rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        emitted_rate = n / (time.perf_counter() - began)
        arrivals = receiver.wait("/hook", already + n)[already:]
        worker.stop()
        thread.join()
        worker.close()
        latencies = []
        for stamp, arrived in arrivals:
            assert stamp is not None
            queued = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            latencies.append(arrived - queued)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"latency at {args.rate:,.0f} events/s requested, {emitted_rate:,.0f}/s achieved: "
            f"p50 {p50 * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
        store.dispose()
    receiver.close()
    drop_schema()


if __name__ == "__main__":
    main()
