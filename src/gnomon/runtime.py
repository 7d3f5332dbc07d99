"""Process-wide services the request handlers share: engines, the query cache, compiled models.

One :class:`Runtime` per app (``app.state.runtime``), so tests can run several apps in one
process without sharing state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

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


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    secrets: SecretBox
    history: HistoryWriter
    engines: EnginePool = field(default_factory=EnginePool)
    cache: QueryCache = field(default_factory=MemoryCache)
    models: ModelCache = field(default_factory=ModelCache)

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
