"""Streamed response bodies produced in a worker thread, ahead of the socket.

Starlette iterates a synchronous body one chunk per thread hop: the worker computes chunk N+1
only after the event loop has written chunk N, so producing (DuckDB, Arrow serialisation) and
sending (socket writes) take turns. For a large Arrow stream that made the response take about
as long as both added together. Here one worker thread runs the whole iterator and hands each
chunk to the event loop, staying at most ``depth`` chunks ahead: producing and sending overlap,
and memory stays bounded by ``depth`` chunks.

The iterator is created, advanced and closed in that one thread, so an iterator holding a
database cursor (``ArrowStream``) is closed there too: when the client goes away the consumer
stops the producer, which closes the iterator (cancelling the query) before the response ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar, cast

import anyio
import anyio.to_thread

T = TypeVar("T")

DEFAULT_DEPTH = 4

# Messages from the producer to the consumer.
_CHUNK, _END, _ERROR = 0, 1, 2


async def read_ahead(
    open_chunks: Callable[[], Iterator[T]], depth: int = DEFAULT_DEPTH
) -> AsyncIterator[T]:
    """The chunks of ``open_chunks()``, produced in a worker thread up to ``depth`` ahead.

    Errors raised by the iterator are re-raised here, in order, after the chunks before them.
    """
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[tuple[int, object]] = asyncio.Queue()
    free = threading.Semaphore(depth)
    stop = threading.Event()

    def hand_over(kind: int, item: object) -> None:
        try:
            loop.call_soon_threadsafe(ready.put_nowait, (kind, item))
        except RuntimeError:  # the event loop is gone (server shutdown): nobody is listening
            stop.set()

    def produce() -> None:
        chunks: Iterator[T] | None = None
        try:
            chunks = open_chunks()
            for chunk in chunks:
                free.acquire()
                if stop.is_set():
                    return
                hand_over(_CHUNK, chunk)
        except BaseException as exc:  # handed to the consumer, which raises it
            hand_over(_ERROR, exc)
        else:
            hand_over(_END, None)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    producer = asyncio.ensure_future(anyio.to_thread.run_sync(produce))
    try:
        while True:
            kind, item = await ready.get()
            if kind == _END:
                break
            if kind == _ERROR:
                assert isinstance(item, BaseException)
                raise item
            yield cast(T, item)
            free.release()
    finally:
        # Normal end, error, or the client went away: let the producer see ``stop`` (it may be
        # waiting for a free slot) and wait until it has closed its iterator.
        stop.set()
        free.release()
        with anyio.CancelScope(shield=True):
            await producer
