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
request, as without the memo. Query history, the one steady writer, is written in batches at
most once a second, so a busy server re-reads these rows about that often.

Only for connections that never write (the store's event-loop engine): a read inside a write
transaction must see that transaction's own changes, which no memo can know about."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

T = TypeVar("T")

# Key lookups are remembered too, and a caller can present any number of distinct key ids:
# past this many results the memo starts again rather than grow.
MAX_ENTRIES = 4096


class ReadMemo:
    def __init__(self, path: str, *, timeout_s: float) -> None:
        # One connection of its own, in autocommit (so that it holds no snapshot that would hide
        # other connections' commits), used under the lock: the version check and the reads of
        # a miss happen on it in that order, so whatever is remembered is at least as new as
        # the version it is remembered under.
        self._conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=timeout_s
        )
        self._conn.execute("PRAGMA query_only = ON")
        self._engine = create_engine("sqlite://", creator=lambda: self._conn, poolclass=StaticPool)
        self._lock = threading.Lock()
        self._version: int | None = None
        self._entries: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[Session], T]) -> T:
        """``compute(session)``, remembered under ``key`` until the store changes (None is not
        remembered). The same object is handed to every caller: callers must not change it
        (or must get a copy)."""
        with self._lock:
            (version,) = self._conn.execute("PRAGMA data_version").fetchone()
            if version != self._version:
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

    def close(self) -> None:
        with self._lock:
            self._engine.dispose()
            self._conn.close()


_MEMOS: weakref.WeakKeyDictionary[Engine, ReadMemo] = weakref.WeakKeyDictionary()


def remember_reads(engine: Engine, memo: ReadMemo) -> None:
    """Remember ``engine``'s prepared reads that ask for it (an engine that never writes)."""
    _MEMOS[engine] = memo


def memo_for(engine: Engine) -> ReadMemo | None:
    return _MEMOS.get(engine)


def remembered(session: Session, key: Hashable, compute: Callable[[Session], T]) -> T:
    """``compute(session)``, or, when the session's engine has a memo, ``compute`` run by the
    memo on a session of its own and remembered (see :meth:`ReadMemo.get` for what callers
    must not do with the value)."""
    bind = session.get_bind()
    memo = _MEMOS.get(bind) if isinstance(bind, Engine) else None
    return compute(session) if memo is None else memo.get(key, compute)


def remembered_read(engine: Engine, key: Hashable, compute: Callable[[Engine | Session], T]) -> T:
    """``compute(engine)``, or, when the engine has a memo, ``compute`` run by the memo on a
    session of its own and remembered (as :func:`remembered`)."""
    memo = _MEMOS.get(engine)
    return compute(engine) if memo is None else memo.get(key, compute)
