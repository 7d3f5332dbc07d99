"""Writing query history without putting a write transaction on every query's path.

A cache hit should cost microseconds, but a history row is a write, and on SQLite every write
serialises behind one lock. Successful runs are therefore queued and written in batches by one
background thread; runs that emit events (errors, slow queries) are written in the same
transaction as their events, before the response (by the request, once its query has run).
Readers of history flush the queue first, so a client never misses its own query.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from gnomon import events
from gnomon.principal import Principal
from gnomon.queries import repository
from gnomon.store.db import Store

log = logging.getLogger("gnomon.queries")

BATCH = 500
# Once a second at most: each flush is a write transaction, which on SQLite waits for the one
# writer. (It does not clear the event loop's read memo: see Store.quiet_transaction.)
INTERVAL_S = 1.0


class HistoryWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
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
                with self.store.quiet_transaction() as session:
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

    def deferred(self, principal: Principal) -> DeferredRecords:
        """A recorder for one request; see :class:`DeferredRecords`."""
        return DeferredRecords(self, principal)


class DeferredRecords:
    """Records one request's runs: rows without events are queued for the background writer;
    rows with events (errors, slow queries) are kept, and :meth:`write` stores them with their
    events in one transaction, before the response.

    :meth:`write` is separate because the runs happen in a pool thread and the write must not:
    on SQLite it may wait for the store's single writer, and pool threads waiting for it can
    starve the writer of the thread it needs to finish (``gnomon.api.writers`` runs it).
    """

    def __init__(self, history: HistoryWriter, principal: Principal) -> None:
        self._history = history
        self._principal = principal
        self.pending: list[tuple[dict[str, Any], list[events.Event]]] = []

    def record(self, entry: dict[str, Any], emitted: list[events.Event]) -> None:
        if emitted:
            self.pending.append((entry, emitted))
        else:
            self._history.enqueue(entry)

    def write(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        with self._history.store.transaction() as session:
            for entry, emitted in pending:
                repository.record(session, entry)
                for event in emitted:
                    events.emit(session, self._principal, event)
