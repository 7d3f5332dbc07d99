"""The webhook delivery loop: claim due deliveries, send them concurrently, record outcomes.

Any number of workers (processes or threads, on one or many hosts) can run against one store:
a claim is a lease (``locked_by`` + ``locked_until``) taken in one short transaction, so two
workers never hold the same delivery, and a worker killed mid-batch only delays its deliveries
until the lease expires, after which another worker (or the restarted one) sends them again.
That is the at-least-once guarantee: a receiver may see a message twice, with the same
``webhook-id``, but never zero times.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from gnomon import __version__
from gnomon.config import Settings
from gnomon.crypto import SecretBox
from gnomon.secrets import load_secret_box
from gnomon.store.db import Store
from gnomon.util import utcnow
from gnomon.webhooks import delivery
from gnomon.webhooks import outbox as _outbox  # noqa: F401  (fans out webhook.disabled)
from gnomon.webhooks import repository_deliveries as outbox_repo
from gnomon.webhooks.safety import HostPolicy, Resolver

log = logging.getLogger("gnomon.worker")

# Row locking that lets concurrent claimers skip each other's rows; SQLite has none and
# serialises claimers with its single write lock instead (see claim_due).
SKIP_LOCKED: dict[str, bool] = {"postgresql": True, "sqlite": False}
# Concurrent claim loops per worker; each sends through the shared pool of
# GNOMON_WEBHOOK_CONCURRENCY threads. While nothing is queued only the first polls, with a read
# (gnomon serve runs the worker beside the API: idle lanes each taking the write lock twice a
# second held the GIL and the CPU in the middle of warehouse queries, measured at 2-4 % of a
# 120 ms DuckDB query); a full batch wakes the others.
LANES = 4


class WebhookWorker:
    """Delivers due webhook messages from one store."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        box: SecretBox | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.box = box or load_secret_box(settings)
        self.resolver = Resolver(HostPolicy.parse(settings.webhook_allow_hosts))
        self.concurrency = settings.webhook_concurrency
        self.batch_size = max(1, settings.webhook_concurrency // 2)
        # Long enough for every delivery of a batch to time out even when the lanes' batches
        # queue for the shared pool (LANES * batch <= 2 * concurrency), plus DNS and bookkeeping.
        self.lease = timedelta(seconds=3 * settings.webhook_timeout_s + 5)
        self.rng = rng or random.Random()
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.webhook_timeout_s),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=self.concurrency * 2,
                max_keepalive_connections=self.concurrency,
            ),
            headers={"user-agent": f"gnomon-webhooks/{__version__}"},
            trust_env=False,
        )
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook-send")
        self._stop = threading.Event()
        # Set while claims come back full (more is queued): every lane claims, not only the first.
        self._busy = threading.Event()

    def _send(self, row: dict[str, Any]) -> delivery.AttemptResult:
        started = utcnow()
        try:
            secrets_in_use = delivery.signing_secrets(row, self.box, started)
        except Exception as exc:  # a secret that cannot be decrypted: record, do not crash
            return delivery.AttemptResult(started, "failure", 0.0, error=f"signing: {exc}")
        return delivery.attempt(self.client, self.resolver, row, secrets_in_use, started)

    def run_once(self) -> int:
        """Claim one batch, deliver it, record the outcomes; returns how many were attempted."""
        now = utcnow()
        token = uuid.uuid4().hex
        skip_locked = SKIP_LOCKED.get(self.store.dialect, False)
        with self.store.transaction(write=True) as session:
            rows = outbox_repo.claim_due(
                session,
                now=now,
                limit=self.batch_size,
                token=token,
                lease_until=now + self.lease,
                skip_locked=skip_locked,
            )
        if not rows:
            return 0
        results = list(self.pool.map(self._send, rows))
        with self.store.transaction(write=True) as session:
            delivery.record_batch(
                session,
                list(zip(rows, results, strict=True)),
                token,
                now=utcnow(),
                disable_after=self.settings.webhook_disable_after_failures,
                rng=self.rng,
            )
        return len(rows)

    def run_until_idle(self, *, max_batches: int = 10_000) -> int:
        """Deliver until nothing is due (for tests and `gnomon worker --once`)."""
        total = 0
        for _ in range(max_batches):
            n = self.run_once()
            if n == 0:
                break
            total += n
        return total

    def run_forever(self) -> None:
        """Run ``LANES`` claim→send→record loops side by side until stopped, so that the
        store round trips of one batch overlap the HTTP requests of the others."""
        log.info("webhook worker started")
        lanes = [
            threading.Thread(
                target=self._lane, args=(i == 0,), name=f"webhook-lane-{i}", daemon=True
            )
            for i in range(LANES)
        ]
        for lane in lanes:
            lane.start()
        for lane in lanes:
            lane.join()
        log.info("webhook worker stopped")

    def _lane(self, first: bool) -> None:
        poll = self.settings.webhook_poll_interval_s
        while not self._stop.is_set():
            if not first and not self._busy.is_set():
                self._busy.wait(poll)  # idle: the first lane polls for everyone
                continue
            try:
                n = self.run_once() if self._busy.is_set() or self._due() else 0
            except Exception:
                # The store may be briefly unavailable; back off and try again.
                log.exception("webhook worker iteration failed")
                n = 0
                self._stop.wait(max(poll, 1.0))
            if n >= self.batch_size:
                self._busy.set()
            elif n == 0:
                self._busy.clear()
                self._stop.wait(poll)

    def _due(self) -> bool:
        with self.store.transaction(write=False) as session:
            return outbox_repo.any_due(session, now=utcnow())

    def stop(self) -> None:
        self._stop.set()
        self._busy.set()  # wakes the idle lanes, which then see the stop

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()


@dataclass
class BackgroundWorker:
    """A worker running on a daemon thread inside another process (``gnomon serve``)."""

    worker: WebhookWorker
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop()
        self.thread.join(timeout)
        self.worker.close()


def start_in_process(settings: Settings, store: Store) -> BackgroundWorker:
    worker = WebhookWorker(store, settings)
    thread = threading.Thread(target=worker.run_forever, name="webhook-worker", daemon=True)
    thread.start()
    return BackgroundWorker(worker, thread)
