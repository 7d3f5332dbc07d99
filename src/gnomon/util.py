"""Small helpers shared by every layer: clocks, identifiers, a bounded memo."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a stored timestamp: SQLite hands back naive UTC, PostgreSQL aware values."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class LruCache(Generic[K, V]):
    """A thread-safe, size-bounded mapping that forgets the least recently used entry first.

    For memoizing pure results (loaded models, compiled queries, parsed model files): values
    must be immutable or never mutated by their users, since every ``get`` shares them.
    """

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
