from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from gnomon.engine import Column, ConnectionSpec, create_engine
from gnomon.engine.duckdb_engine import DuckDBEngine
from gnomon.errors import QueryError, QueryTimeout


def test_file_columns_get_gnomon_types(duck: DuckDBEngine) -> None:
    result = duck.execute("select * from orders order by id")

    assert result.columns == [
        Column("id", "number"),
        Column("customer", "string"),
        Column("amount", "number"),
        Column("ratio", "number"),
        Column("is_even", "boolean"),
        Column("created_on", "date"),
        Column("created_at", "timestamp"),
    ]
    assert result.rows[1] == (
        1,
        "customer 1",
        Decimal("1.25"),
        0.5,
        False,
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 1, 9, 0),
    )
    assert result.truncated is False


def test_memory_database_runs_queries() -> None:
    engine = create_engine(ConnectionSpec("duckdb", database=":memory:"))
    try:
        result = engine.execute("select 42 as answer, 'x' as letter")
        assert result.rows == [(42, "x")]
    finally:
        engine.close()


def test_file_is_opened_read_only(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as err:
        duck.execute("delete from orders")

    assert err.value.error_type == "database_error"
    assert "read-only" in err.value.message
    assert duck.execute("select count(*) from orders").rows == [(10,)]


def test_max_rows_truncates(duck: DuckDBEngine) -> None:
    result = duck.execute("select id from orders order by id", max_rows=3)

    assert result.rows == [(0,), (1,), (2,)]
    assert result.truncated is True


def test_exactly_max_rows_is_not_truncated(duck: DuckDBEngine) -> None:
    result = duck.execute("select id from orders", max_rows=10)

    assert len(result.rows) == 10
    assert result.truncated is False


def test_timeout_interrupts_the_query_and_engine_stays_usable(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryTimeout) as err:
        duck.execute("select count(*) from range(10000000000)", timeout_s=0.3)

    assert err.value.error_type == "timeout"
    assert duck.execute("select count(*) from orders").rows == [(10,)]


def test_database_error_carries_driver_text(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as err:
        duck.execute("select no_such_column from orders")

    assert err.value.error_type == "database_error"
    assert "no_such_column" in err.value.message


def test_missing_file_is_a_database_error(tmp_path: Path) -> None:
    with pytest.raises(QueryError) as err:
        create_engine(ConnectionSpec("duckdb", database=str(tmp_path / "absent.duckdb")))

    assert err.value.error_type == "database_error"


def test_schema_setting_resolves_unqualified_names(tmp_path: Path) -> None:
    path = tmp_path / "schemas.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema sales; create table sales.deals as select 7 as n")
    con.close()
    engine = create_engine(ConnectionSpec("duckdb", database=str(path), schema="sales"))
    try:
        assert engine.execute("select n from deals").rows == [(7,)]
    finally:
        engine.close()


def test_eight_threads_query_concurrently(duck: DuckDBEngine) -> None:
    results: dict[int, list[tuple[object, ...]]] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            for _ in range(20):
                results[n] = duck.execute(f"select {n} + count(*) from orders").rows
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert results == {n: [(n + 10,)] for n in range(8)}


def test_stream_arrow_hands_out_batches_before_the_result_is_complete() -> None:
    engine = create_engine(ConnectionSpec("duckdb"))
    # The last row raises: if the first batches arrive at all, they were produced before the
    # whole result was computed.
    sql = (
        "select i, case when i = 4999999 then error('boom') else i end as j "
        "from range(5000000) t(i)"
    )
    try:
        stream = engine.stream_arrow(sql, batch_rows=65536)
        sizes: list[int] = []

        def consume() -> None:
            for batch in stream:
                sizes.append(batch.num_rows)

        with pytest.raises(QueryError) as err:
            consume()
        assert "boom" in err.value.message
        assert sum(sizes) >= 4_000_000
        assert max(sizes) <= 65536
    finally:
        engine.close()


def test_stream_arrow_reads_every_row_in_bounded_batches() -> None:
    engine = create_engine(ConnectionSpec("duckdb"))
    try:
        stream = engine.stream_arrow("select i from range(5000000) t(i)", batch_rows=65536)
        sizes = [batch.num_rows for batch in stream]
        assert sum(sizes) == 5_000_000
        assert max(sizes) <= 65536
        assert len(sizes) >= 5_000_000 // 65536
    finally:
        engine.close()


def test_stream_arrow_of_empty_result_still_has_schema(duck: DuckDBEngine) -> None:
    batches = list(duck.stream_arrow("select id, customer from orders where false"))

    assert len(batches) == 1
    assert batches[0].num_rows == 0
    assert batches[0].schema.names == ["id", "customer"]


def test_stream_arrow_errors_raise_at_the_call(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryError):
        duck.stream_arrow("select nope from orders")


def test_stream_arrow_timeout_cancels(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryTimeout):
        duck.stream_arrow("select count(*) from range(10000000000)", timeout_s=0.3)

    assert duck.execute("select 1").rows == [(1,)]


def test_closed_engine_refuses_queries(warehouse: Path) -> None:
    engine = create_engine(ConnectionSpec("duckdb", database=str(warehouse)))
    engine.close()

    with pytest.raises(QueryError):
        engine.execute("select 1")


def test_compiled_statements_share_a_cursor_and_raw_sql_never_does(duck: DuckDBEngine) -> None:
    """Compiled statements hand their cursor on; raw SQL runs on a fresh one and closes it,
    so what it changes in its session (a temporary table, a setting) dies with it."""
    assert duck.execute("select 1", compiled=True).rows == [(1,)]
    assert len(duck._idle) == 1
    kept = duck._idle[0]
    assert duck.execute("select 2", compiled=True).rows == [(2,)]
    assert duck._idle == [kept]

    duck.execute("create temporary table scratch as select 42 as x")
    duck.execute("set default_null_order = 'nulls_first'")
    assert duck._idle == [kept]
    with pytest.raises(QueryError):
        duck.execute("select x from scratch", compiled=True)
    # ... and the compiled statement's failure closed its cursor rather than keep it.
    assert duck._idle == []
    order = duck.execute("select current_setting('default_null_order')", compiled=True).rows
    assert order != [("nulls_first",)]


def test_a_cursor_with_unread_rows_is_not_kept(duck: DuckDBEngine) -> None:
    result = duck.execute("select id from orders", max_rows=3, compiled=True)
    assert result.truncated
    assert duck._idle == []
    duck.execute("select id from orders", max_rows=10, compiled=True)
    assert len(duck._idle) == 1


def test_a_timed_out_cursor_is_not_kept_and_the_next_query_runs(duck: DuckDBEngine) -> None:
    duck.execute("select 1", compiled=True)
    with pytest.raises(QueryTimeout):
        duck.execute("select count(*) from range(10000000000)", timeout_s=0.3, compiled=True)
    assert duck._idle == []
    # A late interrupt aimed at the cancelled statement cannot reach this one.
    for _ in range(3):
        assert duck.execute("select count(*) from orders", compiled=True).rows == [(10,)]


def test_closing_the_engine_closes_idle_cursors(warehouse: Path) -> None:
    engine = DuckDBEngine(ConnectionSpec("duckdb", database=str(warehouse)))
    engine.execute("select 1", compiled=True)
    (idle,) = engine._idle
    engine.close()
    assert engine._idle == []
    with pytest.raises(duckdb.ConnectionException):
        idle.execute("select 1")


def test_compiled_sql_is_parsed_once_and_shared_by_threads(duck: DuckDBEngine) -> None:
    sql = "select count(*) + 0 from orders"
    results: list[list[tuple[object, ...]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(20):
                results.append(duck.execute(sql, compiled=True).rows)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [[(10,)]] * 160
    assert list(duck._parsed) == [sql]
    # Raw SQL is parsed every time and never kept.
    assert duck.execute("select count(*) + 1 from orders").rows == [(11,)]
    assert list(duck._parsed) == [sql]


def test_a_parsed_statement_binds_in_the_connections_schema(tmp_path: Path) -> None:
    path = tmp_path / "schemas.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema sales; create table sales.deals as select 7 as n")
    con.execute("create table main.deals as select 1 as n")
    con.close()
    engine = create_engine(ConnectionSpec("duckdb", database=str(path), schema="sales"))
    try:
        for _ in range(3):
            assert engine.execute("select n from deals", compiled=True).rows == [(7,)]
    finally:
        engine.close()


def test_compiled_sql_that_does_not_parse_fails_as_raw_sql_does(duck: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as raw:
        duck.execute("selec 1 from orders")
    with pytest.raises(QueryError) as compiled:
        duck.execute("selec 1 from orders", compiled=True)
    assert (compiled.value.message, compiled.value.error_type) == (
        raw.value.message,
        raw.value.error_type,
    )
    assert duck._parsed == {}
    # Text holding several statements runs as text, as before.
    assert duck.execute("select 1; select 2", compiled=True).rows == [(2,)]
    assert duck._parsed == {}


def test_parsed_statements_are_bounded(duck: DuckDBEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gnomon.engine.duckdb_engine.MAX_PARSED_STATEMENTS", 2)
    for n in range(5):
        assert duck.execute(f"select {n}", compiled=True).rows == [(n,)]
        assert len(duck._parsed) <= 2
