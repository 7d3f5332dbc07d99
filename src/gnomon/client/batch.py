"""Bounded-concurrency batches with one settled result per item.

The seed's ``BatchOperations`` runs chunks of 10 with ``Promise.allSettled`` and pauses between
chunks. Here a pool of ``concurrency`` workers takes the next item as soon as one finishes (no
idle wait for the slowest of a chunk), and pacing is left to the transport, which already waits
out ``429 Retry-After``. Every item gets a :class:`Settled` in input order: a failure never
cancels the others, exactly like ``allSettled``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["BatchError", "BatchResults", "Settled", "run_batch", "run_batch_async"]


@dataclass(frozen=True)
class Settled(Generic[T, R]):
    """The outcome for one item: ``value`` when it succeeded, ``error`` when it raised."""

    item: T
    value: R | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        """``fulfilled`` or ``rejected``, the names ``Promise.allSettled`` uses."""
        return "fulfilled" if self.ok else "rejected"


class BatchError(Exception):
    """Raised by :meth:`BatchResults.raise_for_errors`; ``failed`` lists the failures."""

    def __init__(self, failed: list[Settled[object, object]]) -> None:
        first = failed[0].error if failed else None
        super().__init__(f"{len(failed)} item(s) failed; first: {first!r}")
        self.failed = failed


class BatchResults(list[Settled[T, R]]):
    """A list of :class:`Settled`, in input order, with summaries."""

    @property
    def succeeded(self) -> list[Settled[T, R]]:
        return [s for s in self if s.ok]

    @property
    def failed(self) -> list[Settled[T, R]]:
        return [s for s in self if not s.ok]

    @property
    def values(self) -> list[R | None]:
        return [s.value for s in self if s.ok]

    def raise_for_errors(self) -> None:
        failed = self.failed
        if failed:
            raise BatchError(list(failed))  # type: ignore[arg-type]


def _check(concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")


def run_batch(
    items: Iterable[T], fn: Callable[[T], R], *, concurrency: int = 10
) -> BatchResults[T, R]:
    """Call ``fn(item)`` for every item on ``concurrency`` threads."""
    _check(concurrency)
    todo = list(items)

    def settle(item: T) -> Settled[T, R]:
        try:
            return Settled(item, value=fn(item))
        except Exception as exc:  # every failure is reported per item, like allSettled
            return Settled(item, error=exc)

    if not todo:
        return BatchResults()
    with ThreadPoolExecutor(max_workers=min(concurrency, len(todo))) as pool:
        return BatchResults(pool.map(settle, todo))


async def run_batch_async(
    items: Iterable[T], fn: Callable[[T], Awaitable[R]], *, concurrency: int = 10
) -> BatchResults[T, R]:
    """Await ``fn(item)`` for every item with at most ``concurrency`` in flight."""
    _check(concurrency)
    gate = asyncio.Semaphore(concurrency)

    async def settle(item: T) -> Settled[T, R]:
        async with gate:
            try:
                return Settled(item, value=await fn(item))
            except Exception as exc:
                return Settled(item, error=exc)

    return BatchResults(await asyncio.gather(*(settle(item) for item in items)))
