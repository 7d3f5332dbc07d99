"""Engine and session handling for the metadata store.

SQLite is the embedded default. Three things make it safe and quick under concurrent writers:
WAL (readers never block the writer); ``BEGIN IMMEDIATE`` for sessions that will write, so
that a transaction takes the write lock up front and waits for it instead of failing with
"database is locked" when it tries to upgrade a read lock half-way through; and a process-wide
writer lock taken before ``BEGIN IMMEDIATE``. Without the last, threads of one process queue
on SQLite's busy handler, which polls by sleeping 1, 2, 5, 10 … 100 ms: under a few concurrent
writers most of a request's time went to those sleeps. The in-process lock hands the database
over as soon as the previous writer commits; ``busy_timeout`` still arbitrates between
processes (a CLI beside the server, several server workers).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from gnomon.store.memo import ReadMemo, remember_reads

SQLITE_BUSY_TIMEOUT_MS = 30_000
_HOLDS_WRITE_LOCK = "gnomon_holds_write_lock"
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> threading.Lock | None:
    """The in-process writer lock of a SQLite engine (None for other databases)."""
    return _WRITER_LOCKS.get(engine)


def _install_sqlite_pragmas(engine: Engine) -> None:
    writer = _WRITER_LOCKS.setdefault(engine, threading.Lock())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        # On the DB-API connection: through exec_driver_sql, BEGIN cost as much as a query.
        dbapi_connection = conn.connection.dbapi_connection
        if mode != "IMMEDIATE":
            dbapi_connection.execute(f"BEGIN {mode}")
            return
        # A plain Lock, not an RLock: FastAPI may end a session in another worker thread.
        if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        conn.info[_HOLDS_WRITE_LOCK] = True

    # SQLAlchemy fires these before it commits or rolls back on the DB-API connection. Ending
    # the transaction here first (the driver's own call after us is then a no-op) keeps the
    # lock until the database lock is really gone, so the next writer never meets a busy
    # database and never sleeps in the busy handler.
    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        if conn.info.pop(_HOLDS_WRITE_LOCK, False):
            try:
                conn.connection.dbapi_connection.commit()
            except BaseException:
                # The rollback SQLAlchemy now runs releases the lock.
                conn.info[_HOLDS_WRITE_LOCK] = True
                raise
            writer.release()

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        if conn.info.pop(_HOLDS_WRITE_LOCK, False):
            try:
                conn.connection.dbapi_connection.rollback()
            finally:
                writer.release()


def make_engine(url: str, *, echo: bool = False, per_thread: bool = False) -> Engine:
    """Create the store engine with the dialect-specific settings gnomon relies on.

    ``per_thread`` (SQLite): one connection per thread, outside the shared pool.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if per_thread:
        kwargs["poolclass"] = SingletonThreadPool
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        if not per_thread:
            # Threads waiting for the writer lock each hold a connection; the pool is larger
            # than the threads that can wait (the 40 of the request thread pool and the
            # background workers), so the lock holder never waits for a connection as well.
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 60
        engine = create_engine(url, **kwargs)
        _install_sqlite_pragmas(engine)
        return engine
    kwargs["pool_pre_ping"] = True
    kwargs["pool_size"] = 10
    kwargs["max_overflow"] = 20
    return create_engine(url, **kwargs)


def end_session(session: Session, *, commit: bool) -> None:
    """Commit (or roll back) and close; a failed commit is rolled back before it raises."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass
class Store:
    """The engine plus two session factories: read sessions and write sessions.

    On SQLite the write factory begins with ``BEGIN IMMEDIATE``; elsewhere both are the same.
    """

    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    # SQLite files only: reads done on the event loop thread (key lookups, cached query
    # answers) use a connection of their own. Taken from the shared pool, such a read could wait
    # for a connection held by a worker thread that itself waits for the event loop.
    loop_engine: Engine | None = None
    loop_sessions: sessionmaker[Session] | None = None
    # The loop engine's memo of hot-path reads (gnomon.store.memo).
    memo: ReadMemo | None = None
    _loop_session: Session | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> Store:
        engine = make_engine(url)
        read = sessionmaker(bind=engine, expire_on_commit=False)
        loop_engine = loop_sessions = memo = None
        if engine.dialect.name == "sqlite":
            write_bind = engine.execution_options(sqlite_begin="IMMEDIATE")
            write = sessionmaker(bind=write_bind, expire_on_commit=False)
            path = make_url(url).database
            if path not in (None, "", ":memory:"):
                assert path is not None
                loop_engine = make_engine(url, per_thread=True)
                loop_sessions = sessionmaker(bind=loop_engine, expire_on_commit=False)
                # The loop engine only reads: its hot-path reads can be remembered.
                memo = ReadMemo(
                    path, timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000, writer_lock=writer_lock(engine)
                )
                remember_reads(loop_engine, memo)
        else:
            write = read
        return cls(
            engine=engine,
            read_sessions=read,
            write_sessions=write,
            loop_engine=loop_engine,
            loop_sessions=loop_sessions,
            memo=memo,
        )

    def loop_session(self) -> Session:
        """The event loop's session (SQLite files only): one, reused by every request, as the
        loop runs one synchronous block at a time. Its hot-path reads are remembered, so it
        rarely connects; a block that made it read closes it (ending the read transaction)
        before it gives the loop back."""
        assert self.loop_sessions is not None
        if self._loop_session is None:
            self._loop_session = self.loop_sessions()
        return self._loop_session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        factory = self.write_sessions if write else self.read_sessions
        session = factory()
        try:
            yield session
        except BaseException:
            end_session(session, commit=False)
            raise
        end_session(session, commit=True)

    @contextmanager
    def quiet_transaction(self) -> Iterator[Session]:
        """A write transaction for rows that nothing in the read memo depends on (query
        history): on an embedded store its commit leaves the memo as it is
        (gnomon.store.memo); elsewhere it is an ordinary write transaction."""
        if self.memo is None or self.memo.closed:  # closed: the store was disposed of
            with self.transaction() as session:
                yield session
        else:
            with self.memo.unseen_writes() as session:
                yield session

    def dispose(self) -> None:
        if self._loop_session is not None:
            self._loop_session.close()
        self.engine.dispose()
        if self.loop_engine is not None:
            self.loop_engine.dispose()
        if self.memo is not None:
            self.memo.close()
