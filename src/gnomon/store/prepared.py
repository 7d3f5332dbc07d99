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
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Dialect, Engine, Select, Table, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from gnomon.store.memo import remembered

C = TypeVar("C")


def _defaults(comp: SQLCompiler) -> dict[str, Any]:
    """Values the statement binds itself (a LIMIT, say)."""
    return {k: v for k, v in comp.construct_params(_check=False).items() if v is not None}


def _positional(comp: SQLCompiler) -> tuple[str, ...] | None:
    """Parameter order for positional paramstyles (SQLite's ``?``); None for named ones."""
    return tuple(comp.positiontup or ()) if comp.positional else None


def _bound(values: Mapping[str, Any], positional: tuple[str, ...] | None) -> Any:
    return tuple(values[name] for name in positional) if positional is not None else values


def _dbapi(connection: Connection) -> Any:
    """The DB-API connection under a SQLAlchemy connection (a session's, in its transaction)."""
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    return dbapi_connection


class _PerDialect(ABC, Generic[C]):
    """A statement compiled once per dialect (on first use, under a lock)."""

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._compiled: dict[str, C] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> C:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(dialect.name)
                if compiled is None:
                    compiled = self._prepare(self.stmt.compile(dialect=dialect), dialect)
                    self._compiled[dialect.name] = compiled
        return compiled

    @abstractmethod
    def _prepare(self, comp: SQLCompiler, dialect: Dialect) -> C: ...


@dataclass(frozen=True)
class _CompiledSelect:
    sql: str
    positional: tuple[str, ...] | None
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    processors: tuple[Callable[[Any], Any] | None, ...]


class PreparedSelect(_PerDialect[_CompiledSelect]):
    """One SELECT with named ``bindparam``\\ s, run by :meth:`one_or_none` / :meth:`all`.

    With ``remember``, run on an engine that has a :class:`~gnomon.store.memo.ReadMemo` (the
    embedded store's event-loop engine), its rows are remembered until the store changes: for
    the few reads every query makes.
    """

    def __init__(self, stmt: Select[Any], *, remember: bool = False) -> None:
        super().__init__(stmt)
        self.remember = remember

    def _prepare(self, comp: SQLCompiler, dialect: Dialect) -> _CompiledSelect:
        return _CompiledSelect(
            sql=comp.string,
            positional=_positional(comp),
            names=tuple(self.stmt.selected_columns.keys()),
            defaults=_defaults(comp),
            processors=tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None)
                for c in self.stmt.selected_columns
            ),
        )

    def all(
        self, bind: Engine | Session, params: Mapping[str, str | int | bool]
    ) -> list[dict[str, Any]]:
        if self.remember:
            # Before the session's connection is asked for: a remembered answer needs none.
            key = (id(self), tuple(sorted(params.items())))
            rows = remembered(bind, key, lambda b: self._read(b, params))
            return [dict(row) for row in rows]  # copies: callers may change theirs
        return self._read(bind, params)

    def _read(
        self, bind: Engine | Session, params: Mapping[str, str | int | bool]
    ) -> list[dict[str, Any]]:
        if isinstance(bind, Session):
            connection = bind.connection()
            compiled = self._for(connection.dialect)
            raw_rows = self._execute(_dbapi(connection), compiled, params)
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
        dbapi_connection: Any, compiled: _CompiledSelect, params: Mapping[str, str | int | bool]
    ) -> list[Sequence[Any]]:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(
                compiled.sql, _bound({**compiled.defaults, **params}, compiled.positional)
            )
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
    positional: tuple[str, ...] | None
    defaults: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]


class PreparedStatement(_PerDialect[_CompiledDml]):
    """An INSERT, UPDATE or DELETE with named ``bindparam``\\ s, compiled once per dialect and
    run on the session's DB-API connection (inside its transaction).

    Unlike :class:`PreparedSelect` the parameters go through each bind's type processor (JSON
    is serialised, times and booleans stored as the dialect stores them), exactly as a
    ``Session`` would send them. Build statements with :meth:`insert` or with explicit
    ``bindparam(name, type_=...)`` so that each bind knows its type.
    """

    @classmethod
    def insert(cls, table: Table, columns: Sequence[str]) -> PreparedStatement:
        """``INSERT INTO table (columns…) VALUES (:column…)``."""
        return cls(
            table.insert().values(
                {name: bindparam(name, type_=table.c[name].type) for name in columns}
            )
        )

    def _prepare(self, comp: SQLCompiler, dialect: Dialect) -> _CompiledDml:
        processors = {}
        for name, bind in comp.binds.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                processors[name] = proc
        return _CompiledDml(
            sql=comp.string,
            positional=_positional(comp),
            defaults=_defaults(comp),
            processors=processors,
        )

    def execute(self, session: Session, params: Mapping[str, Any]) -> int:
        """Runs the statement once; returns the number of rows it touched."""
        return self.executemany(session, [params])

    def executemany(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        connection = session.connection()
        compiled = self._for(connection.dialect)
        bound: list[Any] = []
        for row in rows:
            values = {**compiled.defaults, **row}
            for name, proc in compiled.processors.items():
                if name in values:  # None too: JSON stores it as 'null', as a Session does
                    values[name] = proc(values[name])
            bound.append(_bound(values, compiled.positional))
        cursor = _dbapi(connection).cursor()
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
