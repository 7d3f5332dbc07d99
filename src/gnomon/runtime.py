"""Process-wide services the request handlers share: engines, the query cache, compiled models.

One :class:`Runtime` per app (``app.state.runtime``), so tests can run several apps in one
process without sharing state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from gnomon.config import Settings
from gnomon.crypto import SecretBox
from gnomon.engine import EnginePool, MemoryCache, QueryCache, RedisCache
from gnomon.metrics import Metrics
from gnomon.queries.recording import HistoryWriter
from gnomon.secrets import load_secret_box
from gnomon.semantic import SemanticModel
from gnomon.store.db import Store


class ModelCache:
    """Loaded, validated models keyed by (model id, version): versions are immutable, so an
    entry never goes stale, and the compiler's per-model caches stay warm between requests."""

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: OrderedDict[tuple[str, int], SemanticModel] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, model_id: str, version: int) -> SemanticModel | None:
        with self._lock:
            found = self._entries.get((model_id, version))
            if found is not None:
                self._entries.move_to_end((model_id, version))
            return found

    def put(self, model_id: str, version: int, model: SemanticModel) -> None:
        with self._lock:
            self._entries[(model_id, version)] = model
            self._entries.move_to_end((model_id, version))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


class CompiledCache:
    """Compiled queries memoized for a short time.

    Compiling is pure but not free (about a millisecond), and a cache hit should not pay it. The
    SQL depends on the model version, the request, the access context and — through relative
    date filters such as "last 90 days" — on the current time, so the key holds the current
    minute: a memoized compile is never more than a minute older than the clock, far inside
    any result cache's lifetime.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: str) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    secrets: SecretBox
    history: HistoryWriter
    engines: EnginePool = field(default_factory=EnginePool)
    cache: QueryCache = field(default_factory=MemoryCache)
    models: ModelCache = field(default_factory=ModelCache)
    compiled: CompiledCache = field(default_factory=CompiledCache)

    @classmethod
    def create(cls, settings: Settings, metrics: Metrics, store: Store) -> Runtime:
        cache: QueryCache = RedisCache(settings.redis_url) if settings.redis_url else MemoryCache()
        return cls(
            settings=settings,
            metrics=metrics,
            secrets=load_secret_box(settings),
            history=HistoryWriter(store),
            cache=cache,
        )

    def close(self) -> None:
        self.history.close()
        self.engines.close_all()
