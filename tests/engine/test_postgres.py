from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from gnomon.engine import Column, create_engine, spec_from_url
from gnomon.engine.sql_engines import PostgresEngine
from gnomon.errors import QueryError, QueryTimeout

pytestmark = pytest.mark.postgres


def test_types_mapped(postgres: PostgresEngine) -> None:
    result = postgres.execute(
        "select 1::int as i, 2::bigint as b, 1.50::numeric(10,2) as n, 0.5::float8 as f, "
        "'x'::text as s, true as flag, date '2024-02-03' as d, "
        "timestamp '2024-02-03 04:05:06' as ts, timestamptz '2024-02-03 04:05:06+00' as tz, "
        "'{\"a\": 1}'::jsonb as j"
    )

    assert [c.type for c in result.columns] == [
        "number",
        "number",
        "number",
        "number",
        "string",
        "boolean",
        "date",
        "timestamp",
        "timestamp",
        "string",
    ]
    row = result.rows[0]
    assert row[:7] == (1, 2, Decimal("1.50"), 0.5, "x", True, dt.date(2024, 2, 3))
    assert row[7] == dt.datetime(2024, 2, 3, 4, 5, 6)
    assert row[8] == dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert row[9] == {"a": 1}


def test_max_rows_truncates(postgres: PostgresEngine) -> None:
    result = postgres.execute("select g from generate_series(1, 1000) g", max_rows=10)

    assert result.rows == [(g,) for g in range(1, 11)]
    assert result.truncated is True
    assert result.columns == [Column("g", "number")]


def test_timeout_cancels_statement_on_server(postgres: PostgresEngine, postgres_url: str) -> None:
    marker = f"gnomon_sleep_{uuid.uuid4().hex}"
    with pytest.raises(QueryTimeout):
        postgres.execute(f"select pg_sleep(10) as {marker}", timeout_s=0.5)

    monitor = sa.create_engine(postgres_url)
    try:
        with monitor.connect() as conn:
            running = conn.execute(
                sa.text(
                    "select count(*) from pg_stat_activity "
                    "where state = 'active' and query like :pattern and pid <> pg_backend_pid()"
                ),
                {"pattern": f"%{marker}%"},
            ).scalar()
    finally:
        monitor.dispose()
    assert running == 0
    assert postgres.execute("select 1 as one").rows == [(1,)]


def test_database_error(postgres: PostgresEngine) -> None:
    with pytest.raises(QueryError) as err:
        postgres.execute("select * from no_such_table_here")

    assert err.value.error_type == "database_error"
    assert "no_such_table_here" in err.value.message
    assert postgres.execute("select 2").rows == [(2,)]


def test_sessions_are_read_only(postgres: PostgresEngine) -> None:
    with pytest.raises(QueryError) as err:
        postgres.execute("create table gnomon_should_not_exist (a int)")

    assert "read-only" in err.value.message


def test_schema_sets_search_path(postgres_url: str) -> None:
    engine = create_engine(spec_from_url(postgres_url, schema="pg_catalog"))
    try:
        result = engine.execute("select current_schemas(false)")
        assert result.rows[0][0][0] == "pg_catalog"
    finally:
        engine.close()


def test_stream_arrow(postgres: PostgresEngine) -> None:
    stream = postgres.stream_arrow(
        "select g as n, g::numeric(8,2) / 4 as quarter, 'row ' || g as label "
        "from generate_series(1, 25) g",
        batch_rows=10,
    )
    batches = list(stream)
    table = pa.Table.from_batches(batches)

    assert [b.num_rows for b in batches] == [10, 10, 5]
    assert table.schema.field("n").type == pa.int64()
    assert pa.types.is_decimal(table.schema.field("quarter").type)
    assert table.column("quarter").to_pylist()[0] == Decimal("0.25")


def test_abandoned_stream_leaves_engine_usable(postgres: PostgresEngine) -> None:
    stream = postgres.stream_arrow("select g from generate_series(1, 100000) g", batch_rows=100)
    next(stream)
    stream.close()

    assert postgres.execute("select 3").rows == [(3,)]


def test_connection_test_reports_unreachable_server() -> None:
    engine = create_engine(
        spec_from_url("postgresql+psycopg://postgres@127.0.0.1:1/test", query_timeout_s=5)
    )
    try:
        with pytest.raises(QueryError) as err:
            engine.test()
        assert err.value.error_type == "database_error"
        assert "Connection test failed" in err.value.message
    finally:
        engine.close()
