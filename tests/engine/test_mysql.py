from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from gnomon.engine import Column
from gnomon.engine.sql_engines import MySQLEngine
from gnomon.errors import QueryError, QueryTimeout

pytestmark = pytest.mark.mysql

SEQUENCE = (
    "with recursive s(n) as (select 1 union all select n + 1 from s where n < {n}) select n from s"
)


def test_types_mapped(mysql: MySQLEngine) -> None:
    result = mysql.execute(
        "select 1 as i, cast(2.25 as decimal(10,3)) as d, 1e0 as f, 'x' as s, "
        "cast('2024-02-03' as date) as day, cast('2024-02-03 04:05:06' as datetime) as ts"
    )

    assert result.columns == [
        Column("i", "number"),
        Column("d", "number"),
        Column("f", "number"),
        Column("s", "string"),
        Column("day", "date"),
        Column("ts", "timestamp"),
    ]
    assert result.rows == [
        (1, Decimal("2.250"), 1.0, "x", dt.date(2024, 2, 3), dt.datetime(2024, 2, 3, 4, 5, 6))
    ]


def test_max_rows_truncates(mysql: MySQLEngine) -> None:
    result = mysql.execute(SEQUENCE.format(n=500), max_rows=7)

    assert result.rows == [(n,) for n in range(1, 8)]
    assert result.truncated is True


def test_explicit_limit_above_cap_is_still_truncated(mysql: MySQLEngine) -> None:
    result = mysql.execute(SEQUENCE.format(n=500) + " limit 400", max_rows=3)

    assert len(result.rows) == 3
    assert result.truncated is True
    assert mysql.execute("select 5").rows == [(5,)]


def test_timeout_cancels_statement_on_server(mysql: MySQLEngine, mysql_url: str) -> None:
    marker = f"gnomon_sleep_{uuid.uuid4().hex}"
    with pytest.raises(QueryTimeout):
        mysql.execute(f"select sleep(10) as {marker}", timeout_s=0.5)

    monitor = sa.create_engine(mysql_url)
    try:
        with monitor.connect() as conn:
            running = conn.execute(
                sa.text(
                    "select count(*) from information_schema.processlist "
                    "where info like :pattern and id <> connection_id()"
                ),
                {"pattern": f"%{marker}%"},
            ).scalar()
    finally:
        monitor.dispose()
    assert running == 0
    assert mysql.execute("select 1").rows == [(1,)]


def test_database_error(mysql: MySQLEngine) -> None:
    with pytest.raises(QueryError) as err:
        mysql.execute("select no_such_column")

    assert err.value.error_type == "database_error"
    assert "no_such_column" in err.value.message


def test_sessions_are_read_only(mysql: MySQLEngine) -> None:
    with pytest.raises(QueryError) as err:
        mysql.execute("create temporary table gnomon_tmp as select 1 as a")

    assert "READ ONLY" in err.value.message.upper()


def test_stream_arrow_is_not_row_capped(mysql: MySQLEngine) -> None:
    stream = mysql.stream_arrow(SEQUENCE.format(n=250), batch_rows=100)
    batches = list(stream)

    assert [b.num_rows for b in batches] == [100, 100, 50]
    assert pa.Table.from_batches(batches).column("n").to_pylist()[-1] == 250


def test_abandoned_stream_leaves_engine_usable(mysql: MySQLEngine) -> None:
    stream = mysql.stream_arrow(SEQUENCE.format(n=900), batch_rows=10)
    next(stream)
    stream.close()

    assert mysql.execute("select 4").rows == [(4,)]
