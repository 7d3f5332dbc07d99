"""PostgreSQL and MySQL/MariaDB engines on a SQLAlchemy connection pool.

SQLAlchemy is used for pooling only (checkout, pre-ping, recycling); statements go straight to
the DB-API connection so that gnomon controls how rows are fetched:

- Rows are read with a server-side cursor (PostgreSQL ``DECLARE … CURSOR`` + ``FETCH n``;
  MySQL unbuffered ``SSCursor``), so a row cap or a stream never holds the whole result.
- MySQL additionally caps the rows on the server with ``sql_select_limit``.
- Every statement gets a server-side time limit (PostgreSQL ``statement_timeout``, MariaDB
  ``max_statement_time``, MySQL ``max_execution_time``) *and* a client deadline that cancels
  it (psycopg's cancel request; ``KILL QUERY`` from a second MySQL connection). The server
  limit still holds if this process dies; the client deadline also covers fetch time.

What differs between the two databases is a handful of hooks on each subclass.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import PoolProxiedConnection

from gnomon.engine.arrow import rows_to_batch, schema_for
from gnomon.engine.base import (
    ArrowStream,
    Column,
    ConnectionSpec,
    QueryResult,
    effective_limits,
    query_failure,
)
from gnomon.engine.types import type_from_code
from gnomon.engine.watchdog import Budget
from gnomon.errors import QueryError, QueryTimeout

_CONNECT_TIMEOUT_S = 10


class _PooledEngine(ABC):
    dialect: ClassVar[str]
    drivername: ClassVar[str]

    def __init__(self, spec: ConnectionSpec) -> None:
        self.spec = spec
        url = URL.create(
            self.drivername,
            username=spec.user,
            password=spec.password,
            host=spec.host,
            port=spec.port,
            database=self._database(),
        )
        self._sa = sa.create_engine(
            url,
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=5,
            max_overflow=15,
            connect_args=self._connect_args(),
        )

    # --- hooks -------------------------------------------------------------------------------
    def _database(self) -> str | None:
        return self.spec.database

    @abstractmethod
    def _connect_args(self) -> dict[str, Any]: ...

    @abstractmethod
    def _prepare(self, conn: Any, timeout_s: float | None, row_cap: int | None) -> None:
        """Per-statement session settings: server-side timeout and row cap."""
        ...

    @abstractmethod
    def _cursor(self, conn: Any, sql: str) -> Any: ...

    @abstractmethod
    def _canceller(self, conn: Any) -> Callable[[], None]: ...

    @abstractmethod
    def _is_server_timeout(self, exc: BaseException) -> bool: ...

    def _finish(self, raw: PoolProxiedConnection, cursor: Any, complete: bool) -> None:
        """Release the cursor; ``complete`` is False when unread rows remain."""
        cursor.close()
        raw.close()

    @abstractmethod
    def _driver_errors(self) -> tuple[type[BaseException], ...]: ...

    # --- shared ------------------------------------------------------------------------------
    def _checkout(self) -> PoolProxiedConnection:
        errors: tuple[type[BaseException], ...] = (sa.exc.DBAPIError, *self._driver_errors())
        try:
            return self._sa.raw_connection()
        except errors as exc:
            # The pool raises the driver's own exception; SQLAlchemy wraps it elsewhere.
            text = str(getattr(exc, "orig", None) or exc).strip()
            raise QueryError(
                f"{self.dialect} error: cannot connect: {text}", error_type="database_error"
            ) from exc

    def _failure(self, exc: BaseException, budget: Budget) -> QueryError:
        if self._is_server_timeout(exc) and not budget.fired:
            from gnomon.engine.watchdog import timeout_message

            return QueryTimeout(timeout_message(budget.timeout_s))
        return query_failure(self.dialect, exc, budget)

    def _start(
        self, sql: str, timeout_s: float, row_cap: int | None, server_timeout: bool
    ) -> tuple[PoolProxiedConnection, Any, Budget]:
        raw = self._checkout()
        conn = raw.driver_connection
        budget = Budget(timeout_s, self._canceller(conn))
        cursor = None
        try:
            with budget.running():
                self._prepare(conn, timeout_s if server_timeout else None, row_cap)
                cursor = self._cursor(conn, sql)
                cursor.execute(sql)
        except BaseException as exc:
            if cursor is not None:
                self._discard(raw, cursor)
            else:
                raw.invalidate()
            if isinstance(exc, self._driver_errors()):
                raise self._failure(exc, budget) from exc
            raise
        return raw, cursor, budget

    def _discard(self, raw: PoolProxiedConnection, cursor: Any) -> None:
        # After an error or a cancel the session state is uncertain: drop the connection
        # rather than hand it to the next query. The cursor is not closed first: closing an
        # unbuffered MySQL cursor would read (and wait for) every remaining row.
        raw.invalidate()

    def execute(
        self,
        sql: str,
        *,
        timeout_s: float | None = None,
        max_rows: int | None = None,
        compiled: bool = False,  # only the DuckDB engine keeps sessions for compiled statements
    ) -> QueryResult:
        timeout, cap = effective_limits(self.spec, timeout_s, max_rows)
        started = time.perf_counter()
        raw, cursor, budget = self._start(sql, timeout, cap + 1, server_timeout=True)
        try:
            with budget.running():
                description = cursor.description
                rows: list[tuple[Any, ...]] = (
                    [tuple(r) for r in cursor.fetchmany(cap + 1)] if description else []
                )
                complete = len(rows) <= cap or not cursor.fetchmany(1)
        except self._driver_errors() as exc:
            self._discard(raw, cursor)
            raise self._failure(exc, budget) from exc
        except BaseException:  # QueryTimeout from a spent budget, KeyboardInterrupt …
            self._discard(raw, cursor)
            raise
        if budget.fired:
            self._discard(raw, cursor)
            raise query_failure(self.dialect, TimeoutError(), budget)
        self._finish(raw, cursor, complete)
        columns = [self._column(d) for d in description or ()]
        return QueryResult(
            columns=columns,
            rows=rows[:cap],
            truncated=len(rows) > cap,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _column(self, description: Any) -> Column:
        return Column(str(description[0]), type_from_code(self.dialect, description[1]))

    def stream_arrow(
        self, sql: str, *, timeout_s: float | None = None, batch_rows: int = 65536
    ) -> ArrowStream:
        timeout, _ = effective_limits(self.spec, timeout_s, None)
        raw, cursor, budget = self._start(sql, timeout, None, server_timeout=self.stream_timeout)
        try:
            with budget.running():
                first = [tuple(r) for r in cursor.fetchmany(batch_rows)]
        except self._driver_errors() as exc:
            self._discard(raw, cursor)
            raise self._failure(exc, budget) from exc
        except BaseException:
            self._discard(raw, cursor)
            raise
        columns = [self._column(d) for d in cursor.description or ()]
        schema = schema_for(columns, first)
        pending = [first]

        def pull() -> pa.RecordBatch | None:
            if pending:
                rows = pending.pop()
            else:
                try:
                    with budget.running():
                        rows = [tuple(r) for r in cursor.fetchmany(batch_rows)]
                except self._driver_errors() as exc:
                    raise self._failure(exc, budget) from exc
            if budget.fired:
                raise query_failure(self.dialect, TimeoutError(), budget)
            return rows_to_batch(columns, rows, schema) if rows else None

        def release(exhausted: bool) -> None:
            if exhausted and not budget.fired:
                self._finish(raw, cursor, True)
            else:
                self._canceller(raw.driver_connection)()
                self._discard(raw, cursor)

        return ArrowStream(schema, pull, release).prefetch()

    # Whether the server-side statement timeout may be used for streams: only where it is
    # charged per fetch (PostgreSQL), not for the whole statement including the time the
    # consumer takes to read (MySQL).
    stream_timeout: ClassVar[bool] = True

    def test(self) -> None:
        try:
            self.execute("select 1", timeout_s=min(self.spec.query_timeout_s, 10.0))
        except QueryError as exc:
            raise QueryError(
                f"Connection test failed: {exc.message}", error_type="database_error"
            ) from exc

    def close(self) -> None:
        self._sa.dispose()


def _pg_option(value: str) -> str:
    # libpq's options string splits on spaces; a backslash escapes them.
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


_PG_DECLARABLE = frozenset({"select", "with", "values", "table", "("})
_LEADING_NOISE = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


def _first_word(sql: str) -> str:
    """The statement's first keyword (lower case) after whitespace and comments; "(" for a
    parenthesised query."""
    rest = sql[_LEADING_NOISE.match(sql).end() :]  # type: ignore[union-attr]
    if rest.startswith("("):
        return "("
    match = re.match(r"[A-Za-z_]+", rest)
    return match.group(0).lower() if match else ""


class PostgresEngine(_PooledEngine):
    dialect = "postgres"
    drivername = "postgresql+psycopg"
    _names = itertools.count()

    def _connect_args(self) -> dict[str, Any]:
        options = []
        if self.spec.schema:
            options.append(f"-c search_path={_pg_option(self.spec.schema)}")
        if self.spec.read_only:
            options.append("-c default_transaction_read_only=on")
        args: dict[str, Any] = {
            "application_name": "gnomon",
            "connect_timeout": _CONNECT_TIMEOUT_S,
        }
        if options:
            args["options"] = " ".join(options)
        return args

    def _prepare(self, conn: Any, timeout_s: float | None, row_cap: int | None) -> None:
        # SET LOCAL lasts until the transaction ends, i.e. until the pool's rollback on
        # return; the row cap is the FETCH size instead of a session setting.
        if timeout_s is not None:
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")

    def _cursor(self, conn: Any, sql: str) -> Any:
        # A named (server-side) cursor: DECLARE … CURSOR, then FETCH n per fetchmany(). DECLARE
        # only takes queries, so SHOW/EXPLAIN/DDL go through a client cursor (their results
        # are small, and DDL fails on the read-only session with the server's own message).
        if _first_word(sql) in _PG_DECLARABLE:
            return conn.cursor(name=f"gnomon_{next(self._names)}")
        return conn.cursor()

    def _canceller(self, conn: Any) -> Callable[[], None]:
        cancel: Callable[[], None] = getattr(conn, "cancel_safe", conn.cancel)
        return cancel

    def _is_server_timeout(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) == "57014" and "timeout" in str(exc)

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg

        return (psycopg.Error,)


# MariaDB and MySQL name their statement time limit differently and in different units.
_MYSQL_TIMEOUT_SETTINGS: dict[str, Callable[[float | None], str]] = {
    "mariadb": lambda s: f"max_statement_time = {0 if s is None else round(s, 3)}",
    "mysql": lambda s: f"max_execution_time = {0 if s is None else max(1, int(s * 1000))}",
}
# Error codes of a statement stopped by the server-side limit (MariaDB 1969, MySQL 3024).
_MYSQL_TIMEOUT_CODES = frozenset({1969, 3024})


class MySQLEngine(_PooledEngine):
    dialect = "mysql"
    drivername = "mysql+pymysql"
    stream_timeout = False

    def __init__(self, spec: ConnectionSpec) -> None:
        super().__init__(spec)
        self._flavor: str | None = None
        self._flavor_lock = threading.Lock()

    def _database(self) -> str | None:
        return self.spec.schema or self.spec.database

    def _connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"charset": "utf8mb4", "connect_timeout": _CONNECT_TIMEOUT_S}
        if self.spec.read_only:
            args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
        return args

    def _server_flavor(self, conn: Any) -> str:
        if self._flavor is None:
            with self._flavor_lock:
                info = str(conn.get_server_info())
                self._flavor = "mariadb" if "mariadb" in info.lower() else "mysql"
        return self._flavor

    def _prepare(self, conn: Any, timeout_s: float | None, row_cap: int | None) -> None:
        # Session variables, set before every statement: the connection is pooled, so the
        # previous statement's values must not leak into this one.
        timeout = _MYSQL_TIMEOUT_SETTINGS[self._server_flavor(conn)](timeout_s)
        limit = "DEFAULT" if row_cap is None else str(row_cap)
        with conn.cursor() as cur:
            cur.execute(f"SET SESSION {timeout}, sql_select_limit = {limit}")

    def _cursor(self, conn: Any, sql: str) -> Any:
        import pymysql.cursors

        return conn.cursor(pymysql.cursors.SSCursor)

    def _canceller(self, conn: Any) -> Callable[[], None]:
        thread_id = conn.thread_id()

        def kill() -> None:
            import pymysql

            killer = pymysql.connect(
                host=self.spec.host or "localhost",
                port=self.spec.port or 3306,
                user=self.spec.user or "root",
                password=self.spec.password or "",
                connect_timeout=_CONNECT_TIMEOUT_S,
            )
            try:
                with killer.cursor() as cur:
                    cur.execute(f"KILL QUERY {int(thread_id)}")
            finally:
                killer.close()

        return kill

    def _is_server_timeout(self, exc: BaseException) -> bool:
        args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
        return len(args) > 0 and args[0] in _MYSQL_TIMEOUT_CODES

    def _finish(self, raw: PoolProxiedConnection, cursor: Any, complete: bool) -> None:
        if complete:
            cursor.close()
            raw.close()
        else:
            # Closing an unbuffered cursor reads every remaining row; stop the statement on the
            # server and drop the connection instead.
            self._canceller(raw.driver_connection)()
            self._discard(raw, cursor)

    def _discard(self, raw: PoolProxiedConnection, cursor: Any) -> None:
        # pymysql would otherwise drain the abandoned unbuffered result when the cursor is
        # garbage-collected, from a socket that invalidate() has already closed. Marking the
        # result finished is the only way to tell it not to (there is no public API for this).
        result = getattr(cursor, "_result", None)
        if result is not None:
            result.unbuffered_active = False
        cursor.connection = None
        raw.invalidate()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        import pymysql

        return (pymysql.Error,)
