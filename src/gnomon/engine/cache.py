"""The query result cache: an in-process LRU and a shared Redis implementation.

Entries are keyed by :func:`cache_key` (SQL, connection and its version, and the access
fingerprint of the user, so that users with different row-level filters never share rows)
and tagged (``conn:<id>``, ``model:<id>``) so that editing a connection or a model drops every
result built on it in one call.

A cached result carries the ready JSON bytes of the response's ``data`` next to its rows. On a
hit the API splices those bytes into the response, so the hit path does no per-value work:
the memory cache returns the stored object itself, and the Redis cache decodes rows only if
someone asks for them (CSV/Arrow responses).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from gnomon.engine import cache_codec
from gnomon.engine.base import Column

log = logging.getLogger(__name__)


class CachedResult:
    """A query result as stored in a cache.

    ``rows`` may be decoded lazily (Redis): the attribute behaves like a plain list either way.
    ``data_json`` is the encoded ``data`` array of the JSON response, when the writer stored it.
    """

    __slots__ = (
        "_rows",
        "_rows_loader",
        "columns",
        "created_at",
        "data_json",
        "duration_ms",
        "truncated",
    )

    def __init__(
        self,
        columns: list[Column],
        rows: list[tuple[Any, ...]],
        created_at: float,
        *,
        truncated: bool = False,
        duration_ms: float = 0.0,
        data_json: bytes | None = None,
    ) -> None:
        self.columns = columns
        self._rows: list[tuple[Any, ...]] | None = rows
        self._rows_loader: Callable[[], list[tuple[Any, ...]]] | None = None
        self.created_at = created_at
        self.truncated = truncated
        self.duration_ms = duration_ms
        self.data_json = data_json

    @classmethod
    def lazy(
        cls,
        columns: list[Column],
        rows_loader: Callable[[], list[tuple[Any, ...]]],
        created_at: float,
        *,
        truncated: bool = False,
        duration_ms: float = 0.0,
        data_json: bytes | None = None,
    ) -> CachedResult:
        result = cls(
            columns,
            [],
            created_at,
            truncated=truncated,
            duration_ms=duration_ms,
            data_json=data_json,
        )
        result._rows = None
        result._rows_loader = rows_loader
        return result

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            assert self._rows_loader is not None
            self._rows = self._rows_loader()
            self._rows_loader = None
        return self._rows

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CachedResult):
            return NotImplemented
        return (
            self.columns == other.columns
            and self.rows == other.rows
            and self.created_at == other.created_at
            and self.truncated == other.truncated
            and self.duration_ms == other.duration_ms
            and self.data_json == other.data_json
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        rows = "lazy" if self._rows is None else str(len(self._rows))
        return f"CachedResult(columns={self.columns!r}, rows={rows}, created_at={self.created_at})"


class QueryCache(Protocol):
    def get(self, key: str) -> CachedResult | None: ...

    def set(self, key: str, value: CachedResult, ttl_s: float, tags: Sequence[str]) -> None: ...

    def invalidate_tag(self, tag: str) -> int:
        """Drop every entry carrying ``tag``; returns how many were dropped."""
        ...


def cache_key(
    *, sql: str, connection_id: str, connection_version: str, access_fingerprint: str
) -> str:
    """sha256 (hex) over the four parts, JSON-framed so that no two inputs collide by
    concatenation (``("ab", "c")`` vs ``("a", "bc")``)."""
    framed = json.dumps([sql, connection_id, connection_version, access_fingerprint])
    return hashlib.sha256(framed.encode()).hexdigest()


def estimate_size(value: CachedResult) -> int:
    """Approximate bytes held by a cached result: measured on up to 64 sampled rows and
    scaled, because measuring every value of a 100k-row result would cost more than the hit
    it saves."""
    rows = value.rows
    size = 256 + len(value.data_json or b"") + 64 * len(value.columns)
    if not rows:
        return size
    step = max(1, len(rows) // 64)
    sample = rows[::step][:64]
    per_row = sum(sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row) for row in sample) / len(
        sample
    )
    return size + int(per_row * len(rows)) + 8 * len(rows)


@dataclass
class _Entry:
    value: CachedResult
    size: int
    expires_at: float
    tags: tuple[str, ...]


class MemoryCache:
    """In-process LRU bounded by approximate size, with per-entry TTL; thread-safe.

    ``clock`` (monotonic seconds) is injectable so that expiry can be tested without waiting.
    An entry larger than the whole budget is not stored.
    """

    def __init__(
        self, max_bytes: int = 256 * 1024 * 1024, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> CachedResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.value

    def set(self, key: str, value: CachedResult, ttl_s: float, tags: Sequence[str]) -> None:
        size = estimate_size(value)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if size > self.max_bytes or ttl_s <= 0:
                return
            while self._bytes + size > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
            entry = _Entry(value, size, self._clock() + ttl_s, tuple(tags))
            self._entries[key] = entry
            self._bytes += size
            for tag in entry.tags:
                self._tags.setdefault(tag, set()).add(key)

    def invalidate_tag(self, tag: str) -> int:
        with self._lock:
            keys = self._tags.pop(tag, set())
            now = self._clock()
            live = 0
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None:
                    live += entry.expires_at > now
                    self._drop(key)
            return live

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tags.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]


# Deletes every entry listed in a tag set and the set itself, atomically, so that a result
# written while the invalidation runs is either dropped or written after it (never half).
_INVALIDATE_LUA = """
local keys = redis.call('SMEMBERS', KEYS[1])
local dropped = 0
for _, key in ipairs(keys) do
  dropped = dropped + redis.call('DEL', ARGV[1] .. key)
end
redis.call('DEL', KEYS[1])
return dropped
"""


class RedisCache:
    """The cache shared by every API process, in Redis (≥ 7: tag-set expiry uses NX/GT).

    Values live under ``<prefix>v:<key>`` with a TTL; tag ``t`` is a set ``<prefix>t:<t>`` of
    keys, whose own TTL is kept at least as long as its longest member. Redis being down makes
    the cache a no-op (logged), never a failed query.
    """

    def __init__(
        self,
        url: str,
        prefix: str = "gnomon:qc:",
        *,
        client: redis.Redis | None = None,
    ) -> None:
        self.prefix = prefix
        self._redis: redis.Redis = client or redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0
        )
        self._invalidate = self._redis.register_script(_INVALIDATE_LUA)

    def _value_key(self, key: str) -> str:
        return f"{self.prefix}v:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self.prefix}t:{tag}"

    def get(self, key: str) -> CachedResult | None:
        try:
            blob = self._redis.get(self._value_key(key))
        except redis.RedisError as exc:
            log.warning("query cache read failed: %s", exc)
            return None
        if not isinstance(blob, bytes):
            return None
        try:
            header, rows_json, data_json = cache_codec.unpack(blob)
        except ValueError:
            log.warning("query cache entry %s is not readable; ignoring it", key)
            return None
        return CachedResult.lazy(
            [Column(name, type_) for name, type_ in header["columns"]],
            lambda: cache_codec.decode_rows(rows_json),
            header["created_at"],
            truncated=header["truncated"],
            duration_ms=header["duration_ms"],
            data_json=data_json,
        )

    def set(self, key: str, value: CachedResult, ttl_s: float, tags: Sequence[str]) -> None:
        ttl_ms = int(ttl_s * 1000)
        if ttl_ms <= 0:
            return
        blob = cache_codec.pack(
            columns=value.columns,
            rows_json=cache_codec.encode_rows(value.rows),
            created_at=value.created_at,
            truncated=value.truncated,
            duration_ms=value.duration_ms,
            data_json=value.data_json,
        )
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(self._value_key(key), blob, px=ttl_ms)
            for tag in tags:
                tag_key = self._tag_key(tag)
                pipe.sadd(tag_key, key)
                pipe.pexpire(tag_key, ttl_ms, nx=True)
                pipe.pexpire(tag_key, ttl_ms, gt=True)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("query cache write failed: %s", exc)

    def invalidate_tag(self, tag: str) -> int:
        try:
            dropped = self._invalidate(keys=[self._tag_key(tag)], args=[f"{self.prefix}v:"])
        except redis.RedisError as exc:
            log.error("query cache invalidation of %s failed: %s", tag, exc)
            return 0
        return int(dropped)

    def close(self) -> None:
        self._redis.close()
