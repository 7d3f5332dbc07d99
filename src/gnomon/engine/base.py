"""The engine contract: what the Query API hands an engine and what it gets back.

An engine runs SQL text that gnomon's compiler (or a user with raw-SQL rights) produced against
one connection. It owns the database handles for that connection (a DuckDB database object, a
SQLite file, a SQLAlchemy pool) and is safe to call from many threads at once: the API runs
queries on a thread pool.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from gnomon.engine.watchdog import Budget, timeout_message
from gnomon.errors import QueryError, QueryTimeout


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to reach one database.

    ``dialect`` is the sqlglot dialect name. For ``duckdb`` and ``sqlite`` ``database`` is the
    file path (``":memory:"`` for a private in-memory database). ``schema`` is the default
    schema (PostgreSQL ``search_path``, DuckDB ``SET schema``; MySQL has no schemas apart from
    databases, so there it names the database). ``read_only`` opens DuckDB/SQLite files
    read-only and makes PostgreSQL/MySQL sessions read-only transactions, because a BI tool
    must not be a way to change the warehouse.
    """

    dialect: str
    database: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    query_timeout_s: float = 300.0
    max_rows: int = 100_000
    read_only: bool = True


@dataclass(frozen=True)
class Column:
    """A result column: its name and gnomon type (string|number|boolean|date|timestamp)."""

    name: str
    type: str


@dataclass
class QueryResult:
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    truncated: bool
    duration_ms: float


@runtime_checkable
class Engine(Protocol):
    dialect: str

    def execute(
        self,
        sql: str,
        *,
        timeout_s: float | None = None,
        max_rows: int | None = None,
        compiled: bool = False,
    ) -> QueryResult:
        """Run ``sql``; at most ``max_rows`` rows come back, ``truncated`` says if there were
        more. Raises QueryTimeout (statement cancelled on the server) or QueryError.

        ``compiled``: ``sql`` is a SELECT gnomon compiled from a model, which cannot change
        the session it runs on, so an engine may run it on a session that earlier compiled
        statements used. Raw SQL (a ``SET``, a temporary table) never shares one."""
        ...

    def stream_arrow(
        self, sql: str, *, timeout_s: float | None = None, batch_rows: int = 65536
    ) -> ArrowStream:
        """Run ``sql`` and return its result as Arrow record batches, read as they are
        consumed. Errors in starting the query raise here, before any batch is handed out."""
        ...

    def test(self) -> None:
        """Check that the database answers; QueryError(error_type="database_error") if not."""
        ...

    def close(self) -> None: ...


class ArrowStream(Iterator[pa.RecordBatch]):
    """Record batches of one running query, pulled from the database one at a time.

    Always yields at least one batch (possibly empty) so that a consumer writing an Arrow IPC
    stream has a schema even for an empty result. ``close()`` (also called on exhaustion, on
    error and by ``with``) releases the cursor; closing early cancels the rest of the query.
    """

    def __init__(
        self,
        schema: pa.Schema,
        pull: Callable[[], pa.RecordBatch | None],
        release: Callable[[bool], None],
    ) -> None:
        self.schema = schema
        self._pull = pull
        self._release = release
        self._closed = False
        self._exhausted = False
        self._yielded = False
        self._buffer: list[pa.RecordBatch] = []

    def __iter__(self) -> ArrowStream:
        return self

    def prefetch(self) -> ArrowStream:
        """Read the first batch now, so that a failing query raises at the engine call (where
        the API can still answer with an error status) rather than mid-response."""
        self._buffer.append(self._read())
        return self

    def __next__(self) -> pa.RecordBatch:
        if self._buffer:
            return self._buffer.pop()
        return self._read()

    def _read(self) -> pa.RecordBatch:
        if self._closed:
            raise StopIteration
        try:
            batch = self._pull()
        except BaseException:
            self.close()
            raise
        if batch is None:
            self._exhausted = True
            self.close()
            if not self._yielded:
                self._yielded = True
                return pa.RecordBatch.from_pylist([], schema=self.schema)
            raise StopIteration
        self._yielded = True
        return batch

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release(self._exhausted)

    def __enter__(self) -> ArrowStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()


def effective_limits(
    spec: ConnectionSpec, timeout_s: float | None, max_rows: int | None
) -> tuple[float, int]:
    """Per-call overrides win over the connection's defaults."""
    timeout = spec.query_timeout_s if timeout_s is None else timeout_s
    rows = spec.max_rows if max_rows is None else max_rows
    if timeout <= 0:
        raise QueryError("timeout_s must be positive", error_type="invalid_query")
    if rows < 0:
        raise QueryError("max_rows must not be negative", error_type="invalid_query")
    return timeout, rows


def query_failure(dialect: str, exc: BaseException, budget: Budget | None) -> QueryError:
    """The gnomon error for a driver exception: a timeout when our deadline cancelled the
    statement, otherwise a database error carrying the driver's own text."""
    if budget is not None and budget.fired:
        return QueryTimeout(timeout_message(budget.timeout_s))
    text = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
    return QueryError(f"{dialect} error: {text}", error_type="database_error")


# dialect → "module:class"; imported on first use so that e.g. a DuckDB-only deployment never
# pays for importing the MySQL driver.
ENGINE_CLASSES: dict[str, str] = {
    "duckdb": "gnomon.engine.duckdb_engine:DuckDBEngine",
    "sqlite": "gnomon.engine.sqlite_engine:SQLiteEngine",
    "postgres": "gnomon.engine.sql_engines:PostgresEngine",
    "mysql": "gnomon.engine.sql_engines:MySQLEngine",
}


def create_engine(spec: ConnectionSpec) -> Engine:
    """Build the engine for ``spec.dialect``; QueryError(invalid_query) for unknown ones."""
    target = ENGINE_CLASSES.get(spec.dialect)
    if target is None:
        known = ", ".join(sorted(ENGINE_CLASSES))
        raise QueryError(
            f"Unsupported dialect {spec.dialect!r}; supported: {known}",
            error_type="invalid_query",
        )
    module_name, _, class_name = target.partition(":")
    module = __import__(module_name, fromlist=[class_name])
    engine: Engine = getattr(module, class_name)(spec)
    return engine


class EnginePool:
    """One engine per connection id, rebuilt when that connection's spec changes.

    Engines hold connection pools and open database files, so they must be shared between
    requests; keying by connection id (not by spec) lets an edited connection replace its old
    engine instead of leaking it.
    """

    def __init__(self, factory: Callable[[ConnectionSpec], Engine] = create_engine) -> None:
        self._factory = factory
        self._engines: dict[str, tuple[ConnectionSpec, Engine]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, spec: ConnectionSpec) -> Engine:
        with self._lock:
            current = self._engines.get(key)
            if current is not None and current[0] == spec:
                return current[1]
            engine = self._factory(spec)
            self._engines[key] = (spec, engine)
        if current is not None:
            current[1].close()
        return engine

    def invalidate(self, key: str) -> None:
        with self._lock:
            current = self._engines.pop(key, None)
        if current is not None:
            current[1].close()

    def close_all(self) -> None:
        with self._lock:
            engines = [engine for _, engine in self._engines.values()]
            self._engines.clear()
        for engine in engines:
            engine.close()

    def __len__(self) -> int:
        return len(self._engines)


# SQLAlchemy driver names → gnomon dialects, for specs given as URLs.
_URL_DIALECTS: dict[str, str] = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
}


def spec_from_url(url: str, **overrides: Any) -> ConnectionSpec:
    """A ConnectionSpec from a SQLAlchemy-style URL (``postgresql+psycopg://u:p@h:5432/db``,
    ``duckdb:///path/file.duckdb``, ``sqlite:///:memory:``); keyword arguments override."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    dialect = _URL_DIALECTS.get(backend)
    if dialect is None:
        raise QueryError(f"Unsupported database URL scheme {backend!r}", error_type="invalid_query")
    spec = ConnectionSpec(
        dialect=dialect,
        database=parsed.database or (":memory:" if dialect in {"duckdb", "sqlite"} else None),
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
    )
    return replace(spec, **overrides)
