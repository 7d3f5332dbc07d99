"""Engine and session handling for the metadata store.

SQLite is the embedded default. Two things make it safe under concurrent writers:
WAL (readers never block the writer) and ``BEGIN IMMEDIATE`` for sessions that will write, so
that a transaction takes the write lock up front and waits for it (``busy_timeout``) instead of
failing with "database is locked" when it tries to upgrade a read lock half-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _install_sqlite_pragmas(engine: Engine) -> None:
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
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the store engine with the dialect-specific settings gnomon relies on."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        engine = create_engine(url, **kwargs)
        _install_sqlite_pragmas(engine)
        return engine
    kwargs["pool_pre_ping"] = True
    kwargs["pool_size"] = 10
    kwargs["max_overflow"] = 20
    return create_engine(url, **kwargs)


@dataclass
class Store:
    """The engine plus two session factories: read sessions and write sessions.

    On SQLite the write factory begins with ``BEGIN IMMEDIATE``; elsewhere both are the same.
    """

    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    @classmethod
    def from_url(cls, url: str) -> Store:
        engine = make_engine(url)
        read = sessionmaker(bind=engine, expire_on_commit=False)
        if engine.dialect.name == "sqlite":
            write_bind = engine.execution_options(sqlite_begin="IMMEDIATE")
            write = sessionmaker(bind=write_bind, expire_on_commit=False)
        else:
            write = read
        return cls(engine=engine, read_sessions=read, write_sessions=write)

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
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
