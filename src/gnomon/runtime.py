"""Process-wide services the request handlers share: engines, the query cache, compiled models.

One :class:`Runtime` per app (``app.state.runtime``), so tests can run several apps in one
process without sharing state.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from gnomon.config import Settings
from gnomon.crypto import SecretBox
from gnomon.engine import EnginePool, MemoryCache, QueryCache, RedisCache
from gnomon.metrics import Metrics
from gnomon.queries.recording import HistoryWriter
from gnomon.secrets import load_secret_box
from gnomon.semantic import CompiledQuery, SemanticModel
from gnomon.store.db import Store
from gnomon.util import LruCache


def _model_cache() -> LruCache[tuple[str, int], SemanticModel]:
    # Loaded models keyed by (model id, version): versions are immutable, so an entry never goes
    # stale, and the compiler's per-model caches stay warm between requests.
    return LruCache(64)


def _compiled_cache() -> LruCache[Hashable, CompiledQuery]:
    # Compiled queries. Compiling is pure but not free (about a millisecond) and a cache hit
    # should not pay it. The SQL depends on the model version, the request, the access context
    # and, through relative date filters such as "last 90 days", on the current time, so the
    # key holds the current minute (see queries.service._compile): a memoized compile is never
    # more than a minute older than the clock, far inside any result cache's lifetime.
    return LruCache(2048)


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    secrets: SecretBox
    history: HistoryWriter
    engines: EnginePool = field(default_factory=EnginePool)
    cache: QueryCache = field(default_factory=MemoryCache)
    models: LruCache[tuple[str, int], SemanticModel] = field(default_factory=_model_cache)
    compiled: LruCache[Hashable, CompiledQuery] = field(default_factory=_compiled_cache)
    # True when the reads a cached query answer needs are all local (the embedded SQLite store
    # and the in-process result cache): cheaper to do on the event loop than in a worker thread.
    local_reads: bool = False

    @classmethod
    def create(cls, settings: Settings, metrics: Metrics, store: Store) -> Runtime:
        cache: QueryCache = RedisCache(settings.redis_url) if settings.redis_url else MemoryCache()
        return cls(
            settings=settings,
            metrics=metrics,
            secrets=load_secret_box(settings),
            history=HistoryWriter(store),
            cache=cache,
            local_reads=store.loop_sessions is not None and isinstance(cache, MemoryCache),
        )

    def close(self) -> None:
        self.history.close()
        self.engines.close_all()
