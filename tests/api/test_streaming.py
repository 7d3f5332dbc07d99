"""Read-ahead response bodies: order, bounded look-ahead, errors, and closing on every exit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from gnomon.api.streaming import read_ahead


class Source:
    """An iterator that records which threads advance and close it, and how far it got."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n = n
        self.fail_at = fail_at
        self.produced = 0
        self.threads: set[int] = set()
        self.closed_in: int | None = None
        self.gate = threading.Event()
        self.gate.set()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        self.gate.wait(5)
        self.threads.add(threading.get_ident())
        if self.produced == self.fail_at:
            raise ValueError(f"broken at {self.produced}")
        if self.produced >= self.n:
            raise StopIteration
        self.produced += 1
        return b"chunk %d" % (self.produced - 1)

    def close(self) -> None:
        self.closed_in = threading.get_ident()


async def _collect(source: Source, depth: int = 4) -> list[bytes]:
    return [chunk async for chunk in read_ahead(lambda: source, depth)]


def test_every_chunk_in_order_from_one_worker_thread() -> None:
    source = Source(50)
    chunks = asyncio.run(_collect(source))
    assert chunks == [b"chunk %d" % i for i in range(50)]
    assert len(source.threads) == 1
    assert threading.get_ident() not in source.threads
    assert source.closed_in in source.threads


def test_the_producer_stays_at_most_depth_chunks_ahead() -> None:
    source = Source(100)

    async def scenario() -> tuple[int, int]:
        stream = read_ahead(lambda: source, 3)
        first = await anext(stream)
        assert first == b"chunk 0"
        await asyncio.sleep(0.2)  # plenty of time for an unbounded producer to run away
        ahead = source.produced
        await stream.aclose()
        return ahead, source.produced

    ahead, _ = asyncio.run(scenario())
    # One handed out and taken, three waiting in their slots, one read and held at the gate.
    assert 2 <= ahead <= 5, ahead


def test_an_error_arrives_after_the_chunks_before_it() -> None:
    source = Source(10, fail_at=3)

    got: list[bytes] = []

    async def scenario() -> None:
        async for chunk in read_ahead(lambda: source):
            got.append(chunk)

    with pytest.raises(ValueError, match="broken at 3"):
        asyncio.run(scenario())
    assert got == [b"chunk 0", b"chunk 1", b"chunk 2"]
    assert source.closed_in is not None


def test_a_source_that_fails_to_open_raises_its_error() -> None:
    def broken() -> Iterator[bytes]:
        raise LookupError("no such table")

    async def scenario() -> None:
        async for _ in read_ahead(broken):
            pass

    with pytest.raises(LookupError, match="no such table"):
        asyncio.run(asyncio.wait_for(scenario(), 10))


def test_stopping_early_closes_the_source_before_returning() -> None:
    """A client that goes away mid-stream: the source (a database cursor in the API) is
    closed by its own thread, and the close has happened when ``aclose`` returns."""
    source = Source(1000)

    async def scenario() -> None:
        stream = read_ahead(lambda: source, 2)
        assert await anext(stream) == b"chunk 0"
        await stream.aclose()
        assert source.closed_in is not None

    asyncio.run(scenario())
    assert source.closed_in in source.threads
    assert source.produced < 10


def test_a_cancelled_consumer_still_closes_the_source() -> None:
    source = Source(1000)
    source.gate.clear()  # the producer is stuck inside the source when the consumer is cancelled

    async def consume() -> None:
        async for _ in read_ahead(lambda: source):
            pass

    async def scenario() -> None:
        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        source.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert source.closed_in is not None

    asyncio.run(scenario())
