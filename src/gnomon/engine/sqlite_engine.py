"""SQLite through the standard library: a small pool of connections, one query each at a time.

SQLite reports no column types for expressions, so gnomon types come from the values (first
non-null value per column). Dates are text in SQLite and therefore ``string`` columns.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from gnomon.engine.arrow import rows_to_batch, schema_for
from gnomon.engine.base import (
    ArrowStream,
    Column,
    ConnectionSpec,
    QueryResult,
    effective_limits,
    query_failure,
)
from gnomon.engine.types import type_from_values
from gnomon.engine.watchdog import Budget
from gnomon.errors import QueryError

MEMORY = ":memory:"
_MAX_IDLE = 8


def _columns(cursor: sqlite3.Cursor, rows: list[tuple[Any, ...]]) -> list[Column]:
    names = [str(d[0]) for d in cursor.description or ()]
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return [Column(n, type_from_values(v)) for n, v in zip(names, by_column, strict=True)]


class SQLiteEngine:
    dialect = "sqlite"

    def __init__(self, spec: ConnectionSpec) -> None:
        self.spec = spec
        path = spec.database or MEMORY
        self._anchor: sqlite3.Connection | None = None
        if path == MEMORY:
            # Every pooled connection must see the same in-memory database: a named shared-cache
            # memory database lives as long as one connection (the anchor) stays open.
            self._uri = f"file:gnomon-{uuid.uuid4().hex}?mode=memory&cache=shared"
        else:
            mode = "ro" if spec.read_only else "rwc"
            self._uri = f"file:{quote(path)}?mode={mode}"
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        if path == MEMORY:
            self._anchor = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            # check_same_thread=False: a pooled connection moves between threads, but is only
            # ever used by one at a time. isolation_level=None: no implicit transactions.
            return sqlite3.connect(
                self._uri, uri=True, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise QueryError(
                f"sqlite error: cannot open {self.spec.database!r}: {exc}",
                error_type="database_error",
            ) from exc

    def _acquire(self) -> sqlite3.Connection:
        if self._closed:
            raise QueryError("sqlite error: engine is closed", error_type="database_error")
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

    def _release(self, conn: sqlite3.Connection) -> None:
        if self._closed or self._idle.qsize() >= _MAX_IDLE:
            conn.close()
        else:
            self._idle.put(conn)

    @property
    def connection(self) -> sqlite3.Connection:
        """A writable connection to an in-memory database (test and demo setup)."""
        if self._anchor is None:
            raise QueryError("sqlite error: only in-memory engines expose their connection")
        return self._anchor

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
        conn = self._acquire()
        budget = Budget(timeout, conn.interrupt)
        try:
            with budget.running():
                cursor = conn.execute(sql)
                rows = cursor.fetchmany(cap + 1) if cursor.description else []
                cursor.close()
        except sqlite3.Error as exc:
            raise query_failure(self.dialect, exc, budget) from exc
        finally:
            self._release(conn)
        if budget.fired:
            raise query_failure(self.dialect, TimeoutError(), budget)
        return QueryResult(
            columns=_columns(cursor, rows),
            rows=rows[:cap],
            truncated=len(rows) > cap,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def stream_arrow(
        self, sql: str, *, timeout_s: float | None = None, batch_rows: int = 65536
    ) -> ArrowStream:
        timeout, _ = effective_limits(self.spec, timeout_s, None)
        conn = self._acquire()
        budget = Budget(timeout, conn.interrupt)
        try:
            with budget.running():
                cursor = conn.execute(sql)
                first: list[tuple[Any, ...]] = cursor.fetchmany(batch_rows)
        except sqlite3.Error as exc:
            self._release(conn)
            raise query_failure(self.dialect, exc, budget) from exc
        columns = _columns(cursor, first)
        schema = schema_for(columns, first)
        pending = [first]

        def pull() -> pa.RecordBatch | None:
            if pending:
                rows = pending.pop()
            else:
                try:
                    with budget.running():
                        rows = cursor.fetchmany(batch_rows)
                except sqlite3.Error as exc:
                    raise query_failure(self.dialect, exc, budget) from exc
            if budget.fired:
                raise query_failure(self.dialect, TimeoutError(), budget)
            return rows_to_batch(columns, rows, schema) if rows else None

        def release(_exhausted: bool) -> None:
            cursor.close()
            self._release(conn)

        return ArrowStream(schema, pull, release).prefetch()

    def test(self) -> None:
        try:
            self.execute("select 1", timeout_s=min(self.spec.query_timeout_s, 10.0))
        except QueryError as exc:
            raise QueryError(
                f"Connection test failed: {exc.message}", error_type="database_error"
            ) from exc

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        if self._anchor is not None:
            self._anchor.close()
