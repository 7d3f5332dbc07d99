"""SELECTs on the per-request hot path, compiled once and run on a pooled DB-API connection.

A statement executed through a SQLAlchemy ``Session`` costs a few hundred microseconds of
Python (cache key, execution context, result wrapping, session transaction bookkeeping) on top
of the tens of microseconds SQLite needs to answer it. For the one or two lookups every request
makes, such as finding the presented API key, that overhead was most of the request. A
:class:`PreparedSelect` is still built as a SQLAlchemy tree in a repository, but compiled once
per dialect; running it binds the parameters, executes on a raw connection from the engine's
pool and converts each column with the type's own result processor, so the rows are the same
Python values a ``Session`` would return.

Given an ``Engine`` it runs as one autocommit read on a pooled connection; given a ``Session``
it runs on that session's connection, inside its transaction. Only for statements whose
parameters are plain strings, integers or booleans (no bind processing); everything else goes
through the ``Session`` API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine, Select, Table, bindparam
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter order for positional paramstyles
    names: tuple[str, ...]
    defaults: Mapping[str, Any]  # values the statement binds itself (a LIMIT, say)
    processors: tuple[Callable[[Any], Any] | None, ...]


class PreparedSelect:
    """One SELECT with named ``bindparam``\\ s, run by :meth:`one_or_none` / :meth:`all`."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                comp = self.stmt.compile(dialect=dialect)
                columns = list(self.stmt.selected_columns)
                compiled = _Compiled(
                    sql=comp.string,
                    positional=tuple(comp.positiontup or ()) if comp.positional else None,
                    names=tuple(self.stmt.selected_columns.keys()),
                    defaults={
                        k: v
                        for k, v in comp.construct_params(_check=False).items()
                        if v is not None
                    },
                    processors=tuple(
                        c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns
                    ),
                )
                self._compiled[dialect.name] = compiled
        return compiled

    def all(
        self, bind: Engine | Session, params: Mapping[str, str | int | bool]
    ) -> list[dict[str, Any]]:
        if isinstance(bind, Session):
            connection = bind.connection()
            compiled = self._for(connection.dialect)
            raw_rows = self._execute(connection.connection.dbapi_connection, compiled, params)
        else:
            compiled = self._for(bind.dialect)
            pooled = bind.raw_connection()
            try:
                raw_rows = self._execute(pooled.dbapi_connection, compiled, params)
            finally:
                # Back to the pool; the pool's reset ends the read transaction where one began.
                pooled.close()
        names, processors = compiled.names, compiled.processors
        return [
            {
                name: value if proc is None else proc(value)
                for name, proc, value in zip(names, processors, raw, strict=True)
            }
            for raw in raw_rows
        ]

    @staticmethod
    def _execute(
        dbapi_connection: Any, compiled: _Compiled, params: Mapping[str, str | int | bool]
    ) -> list[Sequence[Any]]:
        values = {**compiled.defaults, **params}
        bound: Sequence[Any] | Mapping[str, Any]
        if compiled.positional is not None:
            bound = tuple(values[name] for name in compiled.positional)
        else:
            bound = values
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, bound)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def one_or_none(
        self, bind: Engine | Session, params: Mapping[str, str | int | bool]
    ) -> dict[str, Any] | None:
        rows = self.all(bind, params)
        if len(rows) > 1:
            raise LookupError(f"expected at most one row, got {len(rows)}")
        return rows[0] if rows else None


@dataclass(frozen=True)
class _CompiledDml:
    sql: str
    order: tuple[str, ...]  # bind names, in the order a positional paramstyle needs them
    positional: bool
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]


class PreparedStatement:
    """An INSERT, UPDATE or DELETE with named ``bindparam``\\ s, compiled once per dialect and
    run on the session's DB-API connection (inside its transaction).

    Unlike :class:`PreparedSelect` the parameters go through each bind's type processor (JSON
    is serialised, times and booleans stored as the dialect stores them), exactly as a
    ``Session`` would send them. Build statements with :meth:`insert` or with explicit
    ``bindparam(name, type_=...)`` so that each bind knows its type.
    """

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._compiled: dict[str, _CompiledDml] = {}
        self._lock = threading.Lock()

    @classmethod
    def insert(cls, table: Table, columns: Sequence[str]) -> PreparedStatement:
        """``INSERT INTO table (columns…) VALUES (:column…)``."""
        return cls(
            table.insert().values(
                {name: bindparam(name, type_=table.c[name].type) for name in columns}
            )
        )

    def _for(self, dialect: Dialect) -> _CompiledDml:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                comp = self.stmt.compile(dialect=dialect)
                processors = {}
                for name, bind in comp.binds.items():
                    proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
                    if proc is not None:
                        processors[name] = proc
                compiled = _CompiledDml(
                    sql=comp.string,
                    order=tuple(comp.positiontup or ()),
                    positional=bool(comp.positional),
                    defaults={
                        k: v
                        for k, v in comp.construct_params(_check=False).items()
                        if v is not None
                    },
                    processors=processors,
                )
                self._compiled[dialect.name] = compiled
        return compiled

    def execute(self, session: Session, params: Mapping[str, Any]) -> int:
        """Runs the statement once; returns the number of rows it touched."""
        return self.executemany(session, [params])

    def executemany(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        connection = session.connection()
        compiled = self._for(connection.dialect)
        processors = compiled.processors
        bound: list[Any] = []
        for row in rows:
            values = {**compiled.defaults, **row}
            for name, proc in processors.items():
                if name in values:  # None too: JSON stores it as 'null', as a Session does
                    values[name] = proc(values[name])
            bound.append(
                tuple(values[name] for name in compiled.order) if compiled.positional else values
            )
        dbapi_connection = connection.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            if len(bound) == 1:
                cursor.execute(compiled.sql, bound[0])
            else:
                cursor.executemany(compiled.sql, bound)
            return int(cursor.rowcount)
        finally:
            cursor.close()


_INSERTS: dict[tuple[str, tuple[str, ...]], PreparedStatement] = {}


def prepared_insert(table: Table, columns: Sequence[str]) -> PreparedStatement:
    """The prepared INSERT of ``table`` for exactly ``columns`` (made once per column set)."""
    key = (table.name, tuple(columns))
    statement = _INSERTS.get(key)
    if statement is None:
        statement = _INSERTS.setdefault(key, PreparedStatement.insert(table, key[1]))
    return statement


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) with one prepared ``executemany``."""
    if rows:
        prepared_insert(table, tuple(rows[0])).executemany(session, rows)
