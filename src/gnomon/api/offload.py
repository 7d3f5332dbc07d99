"""Warehouse round trips in threads of their own, handed over with as little code as possible.

A topic query's round trip to the warehouse blocks, so the event loop hands it to a worker
thread and awaits the result. Through anyio's thread pool (Starlette's ``run_in_threadpool``)
that hand-over and the way back cost about 60 µs while the CPU caches are warm, but about
300 µs after the tens of milliseconds a warehouse query leaves the process idle: by then every
line of it (capacity limiter, cancel scope, a concurrent future, its callbacks) is a cache miss,
and all of it is on the path of every query. Here the hand-over is one queue and one callback:
the same round trip takes about 120 µs less when cold (``bench/bench_query.py`` measures the
whole request; the figures are in docs/performance.md).

The semantics are anyio's, as the query path relied on them: the call runs in a copy of the
caller's context (request id, logging), its exception is raised in the caller, and a caller
cancelled while the call runs waits for it to end before the cancellation goes on (a warehouse
query is not abandoned half-way with its cursor still in use).

Threads are started when every one is busy, up to :data:`MAX_THREADS`; further calls wait in
the queue. A thread idle for :data:`IDLE_EXIT_S` ends, so that a quiet server holds none.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio

T = TypeVar("T")

# As many round trips as run at once on a busy server's warehouses; more wait for a thread.
MAX_THREADS = 32
IDLE_EXIT_S = 60.0


class _Call(Generic[T]):
    """One call: run in a worker thread, delivered on the caller's event loop."""

    __slots__ = ("context", "delivered", "finished", "fn", "future", "loop")

    def __init__(self, fn: Callable[[], T], loop: asyncio.AbstractEventLoop) -> None:
        self.fn = fn
        self.context = contextvars.copy_context()
        self.loop = loop
        self.future: asyncio.Future[T] = loop.create_future()
        # Set (on the loop) when a cancelled caller waits for the call to end.
        self.finished: asyncio.Future[None] | None = None
        self.delivered = False

    def run(self) -> None:
        """In the worker thread."""
        try:
            value = self.context.run(self.fn)
        except BaseException as exc:  # delivered to the caller, whatever it is
            self._post(None, exc)
        else:
            self._post(value, None)

    def _post(self, value: T | None, error: BaseException | None) -> None:
        # RuntimeError: the loop is closed, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._deliver, value, error)

    def _deliver(self, value: T | None, error: BaseException | None) -> None:
        """On the loop."""
        self.delivered = True
        if not self.future.done():  # not when the caller was cancelled
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(value)  # type: ignore[arg-type]
        if self.finished is not None and not self.finished.done():
            self.finished.set_result(None)


class ThreadLane:
    def __init__(self, max_threads: int = MAX_THREADS, idle_exit_s: float = IDLE_EXIT_S) -> None:
        self.max_threads = max_threads
        self.idle_exit_s = idle_exit_s
        self._queue: queue.SimpleQueue[_Call[Any]] = queue.SimpleQueue()
        # Counts and the queue change together under the lock, so that a thread about to end
        # for idleness never leaves a call behind in the queue.
        self._lock = threading.Lock()
        self._threads = 0
        self._pending = 0  # calls submitted and not yet finished
        self._numbers = itertools.count(1)

    @property
    def threads(self) -> int:
        return self._threads

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread; its result (or exception) here."""
        call = _Call(fn, asyncio.get_running_loop())
        self._submit(call)
        try:
            return await call.future
        except asyncio.CancelledError:
            if not call.delivered:
                call.finished = call.loop.create_future()
                with anyio.CancelScope(shield=True):
                    await call.finished
            raise

    def _submit(self, call: _Call[Any]) -> None:
        with self._lock:
            self._pending += 1
            if self._pending > self._threads and self._threads < self.max_threads:
                try:
                    threading.Thread(
                        target=self._work, name=f"gnomon-query-{next(self._numbers)}", daemon=True
                    ).start()
                except BaseException:
                    self._pending -= 1
                    raise
                self._threads += 1
            self._queue.put(call)

    def _work(self) -> None:
        while True:
            try:
                call = self._queue.get(timeout=self.idle_exit_s)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._threads -= 1
                        return
                continue
            call.run()
            with self._lock:
                self._pending -= 1


# One lane per process, as anyio's thread pool is (threads end by themselves when idle).
QUERY_THREADS = ThreadLane()


async def offload(fn: Callable[[], T]) -> T:
    """``fn()`` on the process's query threads (see the module docstring)."""
    return await QUERY_THREADS.run(fn)
