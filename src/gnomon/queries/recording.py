"""Writing query history without putting a write transaction on every query's path.

A cache hit should cost microseconds, but a history row is a write, and on SQLite every write
serialises behind one lock. Successful runs are therefore queued and written in batches by one
background thread; runs that emit events (errors, slow queries) are written at once, in the
same transaction as their events. Readers of history flush the queue first, so a client never
misses its own query.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from gnomon import events
from gnomon.principal import Principal
from gnomon.queries import repository
from gnomon.store.db import Store

log = logging.getLogger("gnomon.queries")

BATCH = 500
INTERVAL_S = 0.2


class HistoryWriter:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()  # one flush at a time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="gnomon-history", daemon=True)
        self._thread.start()

    def enqueue(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def flush(self) -> int:
        with self._lock:
            pending: list[dict[str, Any]] = []
            while True:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not pending:
                return 0
            try:
                with self._store.transaction() as session:
                    for start in range(0, len(pending), BATCH):
                        repository.record_many(session, pending[start : start + BATCH])
            except Exception:  # the store is down: keep the rows for the next flush
                log.exception("query history flush failed; will retry")
                for entry in pending:
                    self._queue.put(entry)
                return 0
            return len(pending)

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            if not self._queue.empty():
                self.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()

    def recorder(
        self, principal: Principal
    ) -> Callable[[dict[str, Any], list[events.Event]], None]:
        def record(entry: dict[str, Any], emitted: list[events.Event]) -> None:
            if not emitted:
                self.enqueue(entry)
                return
            with self._store.transaction() as session:
                repository.record(session, entry)
                for event in emitted:
                    events.emit(session, principal, event)

        return record
