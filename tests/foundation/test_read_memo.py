"""The event loop's memo of hot-path reads (gnomon.store.memo) on a real SQLite file: what it
remembers, and that every commit, from this process or another, is seen by the next read."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, func, select, text
from sqlalchemy.orm import Session

from gnomon.store import memo as memo_module
from gnomon.store.db import Store
from gnomon.store.memo import remembered
from gnomon.store.prepared import PreparedSelect

scratch = Table(
    "memo_scratch", MetaData(), Column("id", Integer, primary_key=True), Column("name", String)
)
BY_ID = PreparedSelect(select(scratch).where(scratch.c.id == bindparam("id")), remember=True)
BY_ID_UNREMEMBERED = PreparedSelect(select(scratch).where(scratch.c.id == bindparam("id")))


@pytest.fixture
def db(store: Store) -> Iterator[Store]:
    scratch.create(store.engine)
    with store.transaction() as session:
        session.execute(scratch.insert().values(id=1, name="first"))
    return store


def _rename(store: Store, name: str) -> None:
    with store.transaction() as session:
        session.execute(scratch.update().where(scratch.c.id == 1).values(name=name))


def _loop_session(store: Store) -> Session:
    assert store.loop_sessions is not None
    return store.loop_sessions()


def test_a_value_is_computed_once_until_a_commit(db: Store) -> None:
    calls: list[int] = []

    def compute(session: Session) -> str:
        calls.append(1)
        return str(session.execute(text("select name from memo_scratch")).scalar_one())

    with _loop_session(db) as session:
        assert remembered(session, "name", compute) == "first"
        assert remembered(session, "name", compute) == "first"
        assert len(calls) == 1
        _rename(db, "second")  # a commit through the store's own write sessions
        assert remembered(session, "name", compute) == "second"
        assert remembered(session, "name", compute) == "second"
        assert len(calls) == 2


def test_a_commit_by_another_process_is_seen(db: Store) -> None:
    path = db.engine.url.database
    assert path is not None
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1}) == {"id": 1, "name": "first"}
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(\"update memo_scratch set name = 'elsewhere'\"); c.commit()"
    )
    subprocess.run([sys.executable, "-c", script, path], check=True)
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1}) == {"id": 1, "name": "elsewhere"}


def _loop_engine(store: Store):  # type: ignore[no-untyped-def]
    assert store.loop_engine is not None
    return store.loop_engine


def test_remembered_reads_ignore_an_older_snapshot_of_the_session(db: Store) -> None:
    """A loop session that began its read transaction before a commit still gets the committed
    row from a remembered read: the memo reads on its own connection, after its check."""
    with _loop_session(db) as session:
        assert BY_ID_UNREMEMBERED.one_or_none(session, {"id": 1})["name"] == "first"  # type: ignore[index]
        _rename(db, "second")
        # The session's own snapshot still has the old name ...
        assert BY_ID_UNREMEMBERED.one_or_none(session, {"id": 1})["name"] == "first"  # type: ignore[index]
        # ... the remembered read has the new one, and keeps it.
        assert BY_ID.one_or_none(session, {"id": 1})["name"] == "second"  # type: ignore[index]
    with _loop_session(db) as session:
        assert BY_ID.one_or_none(session, {"id": 1})["name"] == "second"  # type: ignore[index]


def test_callers_get_copies(db: Store) -> None:
    row = BY_ID.one_or_none(_loop_engine(db), {"id": 1})
    assert row is not None
    row["name"] = "changed by a caller"
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1}) == {"id": 1, "name": "first"}


def test_write_sessions_are_not_remembered(db: Store) -> None:
    """Inside a write transaction a remembered statement sees that transaction's own change."""
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1})["name"] == "first"  # type: ignore[index]
    with db.transaction() as session:
        session.execute(scratch.update().values(name="uncommitted"))
        assert BY_ID.one_or_none(session, {"id": 1})["name"] == "uncommitted"  # type: ignore[index]
        session.rollback()
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1})["name"] == "first"  # type: ignore[index]


def test_the_memo_is_bounded(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo_module, "MAX_ENTRIES", 3)
    assert db.memo is not None
    for i in range(10):
        BY_ID.one_or_none(_loop_engine(db), {"id": i})
        assert len(db.memo) <= 3
    assert BY_ID.one_or_none(_loop_engine(db), {"id": 1}) == {"id": 1, "name": "first"}


def test_a_networked_store_has_no_memo(postgres_schema_url: str) -> None:
    """Several servers can share one: only a store's own file tells every commit apart."""
    store = Store.from_url(postgres_schema_url)
    try:
        assert store.memo is None
        assert store.loop_engine is None
    finally:
        store.dispose()


history = Table("memo_history", MetaData(), Column("id", Integer, primary_key=True))


def _counting(calls: list[int]):  # type: ignore[no-untyped-def]
    def compute(session: Session) -> str:
        calls.append(1)
        return str(session.execute(text("select name from memo_scratch")).scalar_one())

    return compute


def test_quiet_writes_leave_the_memo_and_every_other_commit_clears_it(db: Store) -> None:
    """Query history is written on the memo's own quiet connection: SQLite does not show a
    connection its own commits, so they leave what is remembered; any other commit clears it."""
    history.create(db.engine)
    calls: list[int] = []
    compute = _counting(calls)
    with _loop_session(db) as session:
        assert remembered(session, "name", compute) == "first"
        for n in range(3):
            with db.quiet_transaction() as quiet:
                quiet.execute(history.insert().values(id=n))
            assert remembered(session, "name", compute) == "first"
        assert len(calls) == 1
        with db.quiet_transaction() as quiet:  # history written, and then another commit
            quiet.execute(history.insert().values(id=10))
        _rename(db, "second")
        assert remembered(session, "name", compute) == "second"
        assert len(calls) == 2
    with db.transaction(write=False) as session:
        assert session.execute(select(func.count()).select_from(history)).scalar_one() == 4


def test_while_a_quiet_write_is_in_progress_the_memo_starts_again(db: Store) -> None:
    history.create(db.engine)
    calls: list[int] = []
    compute = _counting(calls)
    inside, release = threading.Event(), threading.Event()

    def write() -> None:
        with db.quiet_transaction() as quiet:
            quiet.execute(history.insert().values(id=1))
            inside.set()
            release.wait(5)

    writer = threading.Thread(target=write)
    with _loop_session(db) as session:
        assert remembered(session, "name", compute) == "first"
        writer.start()
        assert inside.wait(5)
        # The version cannot be read meanwhile: nothing is taken from the memo.
        assert remembered(session, "name", compute) == "first"
        assert remembered(session, "name", compute) == "first"
        assert len(calls) == 3
        release.set()
        writer.join()
        assert remembered(session, "name", compute) == "first"
        assert remembered(session, "name", compute) == "first"
        assert len(calls) == 4


def test_a_failed_quiet_write_is_rolled_back(db: Store) -> None:
    history.create(db.engine)

    def fail_half_way() -> None:
        with db.quiet_transaction() as quiet:
            quiet.execute(history.insert().values(id=1))
            raise RuntimeError("the batch failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    with db.quiet_transaction() as quiet:  # the connection is usable again
        quiet.execute(history.insert().values(id=2))
    with db.transaction(write=False) as session:
        assert session.execute(select(history.c.id)).scalars().all() == [2]


def test_a_disposed_stores_quiet_writes_are_ordinary_ones(db: Store) -> None:
    history.create(db.engine)
    db.dispose()
    with db.quiet_transaction() as quiet:
        quiet.execute(history.insert().values(id=1))
    with db.transaction(write=False) as session:
        assert session.execute(select(history.c.id)).scalars().all() == [1]
