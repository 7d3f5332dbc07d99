from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from gnomon.engine import Column, ConnectionSpec, create_engine
from gnomon.engine.sqlite_engine import SQLiteEngine
from gnomon.errors import QueryError, QueryTimeout

ENDLESS = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table items (id integer, name text, price real, blob_col blob)")
    con.executemany(
        "insert into items values (?, ?, ?, ?)",
        [(i, f"item {i}", i * 1.5, bytes([i])) for i in range(20)],
    )
    con.commit()
    con.close()
    return path


@pytest.fixture
def lite(sqlite_file: Path) -> Iterator[SQLiteEngine]:
    engine = create_engine(ConnectionSpec("sqlite", database=str(sqlite_file)))
    assert isinstance(engine, SQLiteEngine)
    yield engine
    engine.close()


def test_types_come_from_values(lite: SQLiteEngine) -> None:
    result = lite.execute("select id, name, price, blob_col, null as empty_col from items")

    assert result.columns == [
        Column("id", "number"),
        Column("name", "string"),
        Column("price", "number"),
        Column("blob_col", "string"),
        Column("empty_col", "string"),
    ]
    assert result.rows[2] == (2, "item 2", 3.0, b"\x02", None)


def test_max_rows_truncates(lite: SQLiteEngine) -> None:
    result = lite.execute("select id from items order by id", max_rows=5)

    assert [r[0] for r in result.rows] == [0, 1, 2, 3, 4]
    assert result.truncated is True


def test_file_is_read_only(lite: SQLiteEngine) -> None:
    with pytest.raises(QueryError) as err:
        lite.execute("delete from items")

    assert "readonly" in err.value.message


def test_timeout_interrupts_and_engine_stays_usable(lite: SQLiteEngine) -> None:
    with pytest.raises(QueryTimeout):
        lite.execute(ENDLESS, timeout_s=0.3)

    assert lite.execute("select count(*) from items").rows == [(20,)]


def test_database_error(lite: SQLiteEngine) -> None:
    with pytest.raises(QueryError) as err:
        lite.execute("select * from missing_table")

    assert err.value.error_type == "database_error"
    assert "missing_table" in err.value.message


def test_memory_database_is_shared_between_pooled_connections() -> None:
    engine = create_engine(ConnectionSpec("sqlite", database=":memory:"))
    assert isinstance(engine, SQLiteEngine)
    try:
        engine.connection.execute("create table t as select 5 as n")
        assert engine.execute("select n from t").rows == [(5,)]
    finally:
        engine.close()


def test_stream_arrow_batches(lite: SQLiteEngine) -> None:
    stream = lite.stream_arrow("select id, name, price from items order by id", batch_rows=8)
    batches = list(stream)
    table = pa.Table.from_batches(batches)

    assert [b.num_rows for b in batches] == [8, 8, 4]
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("price").type == pa.float64()
    assert table.column("name").to_pylist()[-1] == "item 19"


def test_abandoned_stream_releases_its_connection(lite: SQLiteEngine) -> None:
    stream = lite.stream_arrow("select id from items", batch_rows=2)
    next(stream)
    stream.close()

    assert lite.execute("select count(*) from items").rows == [(20,)]
