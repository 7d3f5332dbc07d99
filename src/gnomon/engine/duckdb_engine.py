"""DuckDB: one database object per engine, a cursor per query.

A DuckDB connection is not safe to use from two threads at once, but ``cursor()`` opens another
connection to the same database object, so every query gets its own. That also makes
cancellation precise: the deadline calls ``interrupt()`` on exactly the cursor running the
statement.

Opening and closing a cursor costs 0.1 to 0.2 ms, as much as the rest of a warm query's
bookkeeping, so statements compiled from a model (which cannot change their session) hand
their cursor back for the next compiled statement. A cursor is kept only when its statement
ended cleanly: no error, its result read to the end, and no deadline that fired (whose
interrupt could still arrive and hit the next query). Raw SQL always gets a fresh cursor and
closes it, so a ``SET`` or a temporary table never outlives its statement.

Compiled statements are also parsed once: DuckDB's parser takes 0.1 to 0.3 ms for a typical
compiled query, and 0.5 to 1.3 ms when the process has been idle for a moment, as long as all
of gnomon's own work around the query. A dashboard sends the same compiled SQL again and again,
so the engine keeps the parsed statement (DuckDB copies it for every execution, so one parsed
statement serves any number of cursors at once). Raw SQL is parsed every time.

DuckDB shares one database instance per file and configuration inside a process, so two
engines on the same file (two connection ids) read the same database rather than conflicting.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import duckdb
import pyarrow as pa

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
from gnomon.errors import QueryError

MEMORY = ":memory:"
# Idle cursors kept per engine: as many as queries usually run at once on one database.
MAX_IDLE_CURSORS = 8
# Parsed compiled statements kept per engine (past this many the engine starts again).
MAX_PARSED_STATEMENTS = 512
# Errors a DuckDB query can surface with: its own, and Arrow's (the Arrow reader re-raises
# DuckDB errors met while streaming as OSError/ArrowException).
_QUERY_ERRORS: tuple[type[BaseException], ...] = (duckdb.Error, pa.ArrowException, OSError)


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, spec: ConnectionSpec) -> None:
        self.spec = spec
        path = spec.database or MEMORY
        # DuckDB refuses a read-only in-memory database; it is private to this engine anyway.
        read_only = spec.read_only and path != MEMORY
        try:
            self._root = duckdb.connect(path, read_only=read_only)
        except duckdb.Error as exc:
            raise QueryError(
                f"duckdb error: cannot open {path!r}: {exc}", error_type="database_error"
            ) from exc
        self._lock = threading.Lock()
        self._closed = False
        # Cursors of compiled statements that ended cleanly, for the next ones (see above).
        self._idle: list[duckdb.DuckDBPyConnection] = []
        # Compiled SQL text -> its parsed statement (see above).
        self._parsed: dict[str, Any] = {}

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The root connection (for setting up data in tests and the demo warehouse)."""
        return self._root

    def _cursor(self, *, reuse: bool = False) -> duckdb.DuckDBPyConnection:
        # cursor() touches the root connection's bookkeeping; the lock keeps it consistent.
        with self._lock:
            if self._closed:
                raise QueryError("duckdb error: engine is closed", error_type="database_error")
            if reuse and self._idle:
                return self._idle.pop()
            cursor = self._root.cursor()
        if self.spec.schema:
            cursor.execute(f"SET schema = {_quote_literal(self.spec.schema)}")
        return cursor

    def _release(self, cursor: duckdb.DuckDBPyConnection, *, keep: bool) -> None:
        if keep:
            with self._lock:
                if not self._closed and len(self._idle) < MAX_IDLE_CURSORS:
                    self._idle.append(cursor)
                    return
        cursor.close()

    def execute(
        self,
        sql: str,
        *,
        timeout_s: float | None = None,
        max_rows: int | None = None,
        compiled: bool = False,
    ) -> QueryResult:
        timeout, cap = effective_limits(self.spec, timeout_s, max_rows)
        started = time.perf_counter()
        cursor = self._cursor(reuse=compiled)
        budget = Budget(timeout, cursor.interrupt)
        clean = False
        try:
            with budget.running():
                cursor.execute(self._parse(cursor, sql) if compiled else sql)
                description = cursor.description
                rows: list[tuple[Any, ...]] = (
                    cursor.fetchmany(cap + 1) if description is not None else []
                )
            # Fewer rows than asked for: the result is read to the end and holds nothing.
            clean = len(rows) <= cap
        except _QUERY_ERRORS as exc:
            raise query_failure(self.dialect, exc, budget) from exc
        finally:
            self._release(cursor, keep=compiled and clean and budget.settled)
        if budget.fired:  # the deadline hit after the last row came in: still a timeout
            raise query_failure(self.dialect, TimeoutError(), budget)
        columns = [
            Column(str(d[0]), type_from_code(self.dialect, d[1].id)) for d in description or []
        ]
        truncated = len(rows) > cap
        return QueryResult(
            columns=columns,
            rows=rows[:cap],
            truncated=truncated,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _parse(self, cursor: duckdb.DuckDBPyConnection, sql: str) -> Any:
        """The parsed statement of compiled ``sql`` (parsed on first use); the text itself
        when it holds more than one statement."""
        parsed = self._parsed.get(sql)
        if parsed is None:
            statements = cursor.extract_statements(sql)
            if len(statements) != 1:
                return sql
            parsed = statements[0]
            with self._lock:
                if len(self._parsed) >= MAX_PARSED_STATEMENTS:
                    self._parsed = {}
                self._parsed[sql] = parsed
        return parsed

    def stream_arrow(
        self, sql: str, *, timeout_s: float | None = None, batch_rows: int = 65536
    ) -> ArrowStream:
        timeout, _ = effective_limits(self.spec, timeout_s, None)
        cursor = self._cursor()
        budget = Budget(timeout, cursor.interrupt)
        try:
            with budget.running():
                # The relational API streams: batches are computed as they are read, whereas an
                # Arrow read of a DB-API result would materialise the whole result first.
                relation = cursor.sql(sql)
                if relation is None:  # a statement without a result (SET, CREATE …)
                    reader = pa.RecordBatchReader.from_batches(pa.schema([]), [])
                else:
                    reader = relation.to_arrow_reader(batch_rows)
        except _QUERY_ERRORS as exc:
            cursor.close()
            raise query_failure(self.dialect, exc, budget) from exc

        def pull() -> pa.RecordBatch | None:
            try:
                with budget.running():
                    batch = reader.read_next_batch()
            except StopIteration:
                return None
            except _QUERY_ERRORS as exc:
                raise query_failure(self.dialect, exc, budget) from exc
            if budget.fired:
                raise query_failure(self.dialect, TimeoutError(), budget)
            return batch

        def release(_exhausted: bool) -> None:
            cursor.close()

        return ArrowStream(reader.schema, pull, release).prefetch()

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
            idle, self._idle = self._idle, []
        for cursor in idle:
            cursor.close()
        self._root.close()
