"""Request paths that write wait for the store's writer on the event loop, not in a worker thread.

On SQLite one transaction writes at a time (the writer lock of :mod:`gnomon.store.db`). A
request thread waiting for that lock holds one of the thread pool's tokens (40 by default), and
the transaction holding the lock may need one more before it commits: FastAPI validates a sync
endpoint's response in the pool, and the request's write session commits after that. With as
many waiting writers as tokens the holder could never get one, so every writer stalled until
the lock's 30 s timeout and failed with "database is locked" (seen with 41 concurrent clients
creating users).

So at most :data:`WRITERS_IN_POOL` request-path writers are inside the pool at a time; the
others wait here, on the event loop, where waiting holds no thread. Readers never wait for the
writer (WAL), so the tokens they hold always come back. A request passes this gate at most once
at a time (never while holding it): a second, nested wait could deadlock the gate itself.

Background threads of their own (query history, webhook worker) are not pool threads and take
the writer lock directly. Stores other than SQLite have no global writer: no gate.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from gnomon.store.db import Store, writer_lock

T = TypeVar("T")

# Enough to hand the database straight to the next writer when one commits, far below the
# thread pool's 40 tokens.
WRITERS_IN_POOL = 8

# One gate per store engine and event loop (tests run several loops over one app).
_GATES: weakref.WeakKeyDictionary[
    Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def _gate(store: Store) -> asyncio.Semaphore | None:
    if writer_lock(store.engine) is None:
        return None
    per_loop = _GATES.setdefault(store.engine, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    gate = per_loop.get(loop)
    if gate is None:
        gate = per_loop[loop] = asyncio.Semaphore(WRITERS_IN_POOL)
    return gate


@asynccontextmanager
async def writing(store: Store) -> AsyncIterator[None]:
    """Hold one of the writer places for the duration of the block."""
    gate = _gate(store)
    if gate is None:
        yield
        return
    async with gate:
        yield


async def outside_pool(fn: Callable[[], T]) -> T:
    """``fn`` in a worker thread that takes no pool token (a limiter of its own, as FastAPI
    does for dependency teardown): work that may wait for the writer never starves the pool."""
    return await anyio.to_thread.run_sync(fn, limiter=anyio.CapacityLimiter(1))


async def run_writing(store: Store, fn: Callable[[], T]) -> T:
    """``fn`` (which writes to the store) outside the pool, after waiting for a writer place."""
    async with writing(store):
        return await outside_pool(fn)
