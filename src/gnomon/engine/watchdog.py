"""Query deadlines: cancel a running statement on the server when its time budget runs out.

One daemon thread serves every deadline of the process (a heap of due times), so that arming a
deadline costs a heap push instead of a thread start. When a deadline fires the cancel callback
runs on its own short-lived thread: some cancels open a network connection (MySQL ``KILL
QUERY``), and one slow cancel must not delay the others.

A :class:`Budget` measures only the time spent inside the database calls it guards. For a
streamed result the consumer's time between batches (a slow HTTP client) is not charged, so a
large export is not killed because its reader is slow, while the database work still is.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gnomon.errors import QueryTimeout

Cancel = Callable[[], None]


class _Scheduler:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Cancel]] = []
        self._live: set[int] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        # The due time the thread sleeps until (inf: until notified).
        self._waiting_until = math.inf

    def schedule(self, due: float, callback: Cancel) -> int:
        with self._cond:
            # Deadlines of queries that ended are dropped here, by the next query, so that the
            # thread need not wake up for them.
            while self._heap and self._heap[0][1] not in self._live:
                heapq.heappop(self._heap)
            handle = next(self._seq)
            heapq.heappush(self._heap, (due, handle, callback))
            self._live.add(handle)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="gnomon-query-deadlines", daemon=True
                )
                self._thread.start()
            # Only a deadline earlier than the one the thread sleeps until must wake it: waking
            # it for every query put a second thread on the CPU just as the query started.
            if due < self._waiting_until:
                self._cond.notify()
            return handle

    def cancel(self, handle: int) -> bool:
        """Forget a deadline; False when it already fired."""
        with self._cond:
            if handle in self._live:
                self._live.discard(handle)
                return True
            return False

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._waiting_until = math.inf
                    self._cond.wait()
                due, handle, callback = self._heap[0]
                now = time.monotonic()
                if handle not in self._live:
                    heapq.heappop(self._heap)
                    continue
                if due > now:
                    self._waiting_until = due
                    self._cond.wait(due - now)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(handle)
            threading.Thread(target=_quietly, args=(callback,), daemon=True).start()


def _quietly(callback: Cancel) -> None:
    # A failed cancel must not kill the thread; the statement then ends on its own (or by the
    # server-side timeout that the engines also set).
    with contextlib.suppress(Exception):
        callback()


_SCHEDULER = _Scheduler()


class Budget:
    """A time budget for one query, spent only while a :meth:`running` block is active."""

    def __init__(self, timeout_s: float, cancel: Cancel) -> None:
        self.timeout_s = timeout_s
        self._remaining = timeout_s
        self._cancel = cancel
        self._fired = threading.Event()
        self._settled = True

    @property
    def fired(self) -> bool:
        return self._fired.is_set()

    @property
    def settled(self) -> bool:
        """No deadline of this budget fired, nor can fire any more: the guarded session will
        not be interrupted later. (After a deadline fired, its cancel may still be on its
        way, and would interrupt whatever the session runs next.)"""
        return self._settled and not self.fired

    def _fire(self) -> None:
        self._fired.set()
        self._cancel()

    @contextmanager
    def running(self) -> Iterator[None]:
        if self._remaining <= 0:
            # Spent between two batches of a stream: stop before asking the database again.
            self._fired.set()
            raise QueryTimeout(timeout_message(self.timeout_s))
        started = time.monotonic()
        handle = _SCHEDULER.schedule(started + max(self._remaining, 0.0), self._fire)
        try:
            yield
        finally:
            if not _SCHEDULER.cancel(handle):
                self._settled = False
            self._remaining -= time.monotonic() - started


def timeout_message(timeout_s: float) -> str:
    return f"Query exceeded its {timeout_s:g} s time limit and was cancelled"
