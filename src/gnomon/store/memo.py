"""Hot-path reads of an embedded store, remembered until the store changes.

Every query reads the same few rows: the presented key, the model bound to the connection, the
connection, the organization's settings, and for a user their access context and connection
roles. On an SQLite file each is a prepared read of tens of microseconds, but with the
connection checkout, the cursor and the row conversion, and with the CPU caches cold after a
warehouse query has streamed hundreds of megabytes through them, they cost 0.5 to 0.7 ms per
request. The query service keeps whole prepared queries here too (gnomon.queries.service).

A :class:`ReadMemo` keeps those results and checks, before every read, that nothing has been
committed since: SQLite's ``PRAGMA data_version`` changes whenever another connection (of this
process or any other: the CLI, a webhook worker) commits to the file. Any commit clears every
remembered result. That is deliberately coarse: nothing needs to know which table a write
touched, and a revoked key, a new model version, a changed connection are seen on the next
request, as without the memo.

Only for connections that never write (the store's event-loop engine): a read inside a write
transaction must see that transaction's own changes, which no memo can know about.

Query history is the exception to "any commit clears": the background writer commits it once a
second on a busy server, nothing remembered depends on it, and clearing everything for it left
the memo useful only to queries repeated more often than that. SQLite leaves a connection's
``data_version`` unchanged by that same connection's own commits, so the memo checks the
version on a connection of its own that writes only such rows (:meth:`ReadMemo.unseen_writes`):
every other commit, from any connection or process, still changes what it reads there."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

T = TypeVar("T")

# Key lookups are remembered too, and a caller can present any number of distinct key ids:
# past this many results the memo starts again rather than grow.
MAX_ENTRIES = 4096


class ReadMemo:
    def __init__(
        self, path: str, *, timeout_s: float, writer_lock: threading.Lock | None = None
    ) -> None:
        # One connection of its own for reads, in autocommit (so that it holds no snapshot that
        # would hide other connections' commits), used under the lock: the version check comes
        # before the reads of a miss, so whatever is remembered is at least as new as the
        # version it is remembered under.
        self._conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=timeout_s
        )
        self._conn.execute("PRAGMA query_only = ON")
        self._engine = create_engine("sqlite://", creator=lambda: self._conn, poolclass=StaticPool)
        self._lock = threading.Lock()
        self._version: int | None = None
        self._entries: dict[Hashable, Any] = {}
        # The connection the version is read on, and the only one whose commits it does not
        # show: writes nothing remembered depends on (see unseen_writes). Its lock is held for
        # a whole write transaction.
        self._quiet = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=timeout_s
        )
        # As the store's own connections (gnomon.store.db).
        self._quiet.execute("PRAGMA foreign_keys = ON")
        self._quiet.execute("PRAGMA synchronous = NORMAL")
        self._quiet_engine = create_engine(
            "sqlite://", creator=lambda: self._quiet, poolclass=StaticPool
        )
        # Its transactions write: take SQLite's write lock at the start, as the store's write
        # sessions do (gnomon.store.db).
        event.listen(self._quiet_engine, "begin", _begin_immediate)
        self._quiet_lock = threading.Lock()
        # The store's in-process writer lock, taken as its write transactions take it.
        self._writer_lock = writer_lock
        self._timeout_s = timeout_s
        self._closed = False

    def _current_version(self) -> int | None:
        """The store's version as the quiet connection sees it; None while that connection is
        in a write transaction (the caller then knows nothing and starts again)."""
        if not self._quiet_lock.acquire(blocking=False):
            return None
        try:
            (version,) = self._quiet.execute("PRAGMA data_version").fetchone()
            return int(version)
        finally:
            self._quiet_lock.release()

    @contextmanager
    def unseen_writes(self) -> Iterator[Session]:
        """A write transaction whose commit does not clear the memo: for rows that nothing
        remembered is read from (query history). Commits on success, rolls back on error."""
        writer = self._writer_lock
        if writer is not None and not writer.acquire(timeout=self._timeout_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            with self._quiet_lock, Session(self._quiet_engine) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if writer is not None:
                writer.release()

    def get(self, key: Hashable, compute: Callable[[Session], T]) -> T:
        """``compute(session)``, remembered under ``key`` until the store changes (None is not
        remembered). The same object is handed to every caller: callers must not change it
        (or must get a copy)."""
        with self._lock:
            version = self._current_version()
            if version is None or version != self._version:
                self._version = version
                self._entries = {}
            if key in self._entries:
                value: T = self._entries[key]
                return value
            with Session(self._engine) as session:
                value = compute(session)
            if value is None:
                return value
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
            self._entries[key] = value
            return value

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock, self._quiet_lock:
            self._closed = True
            self._engine.dispose()
            self._conn.close()
            self._quiet_engine.dispose()
            self._quiet.close()


def _begin_immediate(connection: Connection) -> None:
    connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


_MEMOS: weakref.WeakKeyDictionary[Engine, ReadMemo] = weakref.WeakKeyDictionary()


def remember_reads(engine: Engine, memo: ReadMemo) -> None:
    """Remember ``engine``'s prepared reads that ask for it (an engine that never writes)."""
    _MEMOS[engine] = memo


B = TypeVar("B", bound=Engine | Session)


def remembered(bind: B, key: Hashable, compute: Callable[[B | Session], T]) -> T:
    """``compute(bind)``, or, when the engine of ``bind`` (an engine, or a session's) has a
    memo, ``compute`` run by the memo on a session of its own and remembered (see
    :meth:`ReadMemo.get` for what callers must not do with the value)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    memo = _MEMOS.get(engine) if isinstance(engine, Engine) else None
    return compute(bind) if memo is None else memo.get(key, compute)
