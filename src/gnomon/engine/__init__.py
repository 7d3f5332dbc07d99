"""Query execution: engines per database, result encoders and the query cache.

Execution only: engines receive SQL text that the compiler already produced. Nothing here
imports the web layer, so the CLI, the worker and tests use engines directly.
"""

from gnomon.engine.base import (
    ArrowStream,
    Column,
    ConnectionSpec,
    Engine,
    EnginePool,
    QueryResult,
    create_engine,
    spec_from_url,
)
from gnomon.engine.cache import (
    CachedResult,
    MemoryCache,
    QueryCache,
    RedisCache,
    cache_key,
)
from gnomon.engine.results import (
    iter_arrow_ipc,
    iter_csv,
    result_to_arrow,
    rows_to_json_bytes,
    rows_to_json_records,
)

__all__ = [
    "ArrowStream",
    "CachedResult",
    "Column",
    "ConnectionSpec",
    "Engine",
    "EnginePool",
    "MemoryCache",
    "QueryCache",
    "QueryResult",
    "RedisCache",
    "cache_key",
    "create_engine",
    "iter_arrow_ipc",
    "iter_csv",
    "result_to_arrow",
    "rows_to_json_bytes",
    "rows_to_json_records",
    "spec_from_url",
]
